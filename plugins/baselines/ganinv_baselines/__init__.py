"""ganinv plugin distribution 'baselines' (registered through entry points in pyproject.toml)."""
