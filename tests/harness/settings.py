"""Settings for tests: built from keyword arguments only.

A developer's shell may export ``ANOMSTREAM_*`` (after ``anomstream
services``, say); tests must not see it, or a test passes on one machine and
fails on the next: :func:`schemas.settings.explicit_settings` reads no
environment variables and no ``.env`` file, with the same validation.
"""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings, explicit_settings


def make_settings(**values: Any) -> Settings:
    return explicit_settings(**values)
