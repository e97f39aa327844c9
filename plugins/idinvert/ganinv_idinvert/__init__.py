"""ganinv plugin distribution 'idinvert' (registered through entry points in pyproject.toml)."""
