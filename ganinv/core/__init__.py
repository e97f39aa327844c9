"""Core interfaces, registry, configs and errors; nothing here knows any method by name."""
