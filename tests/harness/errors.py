"""The harness's own failure: a test environment that cannot work as configured."""

from __future__ import annotations


class HarnessError(RuntimeError):
    """The test services cannot be provided as configured (the message says how to fix it)."""
