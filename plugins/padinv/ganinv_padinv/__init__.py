"""ganinv plugin distribution 'padinv' (registered through entry points in pyproject.toml)."""
