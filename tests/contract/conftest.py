"""The contract suite runs over every registered name, third-party ones included: the acme
distribution is installed before the test modules are collected (they parametrise over names)."""

from __future__ import annotations

from acme_plugin import install_once

install_once()
