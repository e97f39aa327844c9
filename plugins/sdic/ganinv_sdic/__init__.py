"""ganinv plugin distribution 'sdic' (registered through entry points in pyproject.toml)."""
