"""What a failed contract check raises."""

from __future__ import annotations


class ContractError(AssertionError):
    """A component breaks the contract of its kind; the message says which rule and how.

    An `AssertionError`, so pytest reports it as a failed test in a plugin's own CI.
    """


def expect(condition: bool, message: str) -> None:
    """Raise `ContractError(message)` unless `condition` holds."""
    if not condition:
        raise ContractError(message)
