"""Settings for tests: built from keyword arguments only.

A developer's shell may export ``ANOMSTREAM_*`` (after ``anomstream
services``, say); tests must not see it, or a test passes on one machine and
fails on the next. :class:`IsolatedSettings` is a :class:`Settings` that reads
no environment variables and no ``.env`` file, with the same validation.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from schemas.settings import Settings


class IsolatedSettings(Settings):
    """:class:`Settings` from keyword arguments alone."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def make_settings(**values: Any) -> Settings:
    return IsolatedSettings(**values)
