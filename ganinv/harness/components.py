"""Compatibility re-export: building components moved to `ganinv.core.components` (public, below
the harness, so plugins may use it)."""

from ganinv.core.components import accepted_kwargs, build_component, check_space_name, spec_name

__all__ = ["accepted_kwargs", "build_component", "check_space_name", "spec_name"]
