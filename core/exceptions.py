"""The core's exceptions: one root, translated at the boundary where a library is called.

::

    CoreError
    ├── ModelRefused        a model version that must not be used (corrupt, truncated,
    │                       wrong shape, sha mismatch, incompatible format or features)
    ├── UnknownModel        no such kind or version in the registry
    └── CalendarError       a holiday file that cannot be read

Callers that only want "the core failed" catch :class:`CoreError`. Third-party
errors (``safetensors``, ``json``, ``OSError``) are re-raised as one of these
with ``raise ... from exc`` so the cause stays visible.
"""

from __future__ import annotations

__all__ = ["CalendarError", "CoreError", "ModelRefused", "UnknownModel"]


class CoreError(Exception):
    """Root of every error the model and scoring core raises on purpose."""


class ModelRefused(CoreError):
    """A stored model that is refused: it is never loaded, whatever the reason."""

    def __init__(self, version: str, reason: str) -> None:
        super().__init__(f"model {version!r} refused: {reason}")
        self.version = version
        self.reason = reason


class UnknownModel(CoreError, LookupError):
    """The registry has no such kind or version (or no current version yet)."""


class CalendarError(CoreError, ValueError):
    """A holiday calendar file that is missing or malformed."""
