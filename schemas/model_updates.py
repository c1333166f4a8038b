"""``model-updates``: the trainer tells the workers which model version is current.

A worker that reads a :class:`ModelUpdate` loads ``path`` (relative to its
model registry directory), checks the file's ``sha256`` before use, and
switches to it between two windows. ``rollback`` makes an earlier version
current again; the message has the same shape.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas._common import (
    MODEL_VERSION_PATTERN,
    RELATIVE_PATH_PATTERN,
    SCHEMA_VERSION,
    SHA256_PATTERN,
    FiniteFloat,
    Kind,
    Message,
    SchemaVersion,
)

__all__ = ["ModelUpdate"]


def _inside_registry(path: str) -> str:
    # The path comes from a Kafka message and is joined to the registry
    # directory: "." and ".." segments could point anywhere else.
    if any(part in {".", ".."} for part in path.split("/")):
        raise PydanticCustomError("relative_path", "must not contain '.' or '..' segments")
    return path


RegistryPath = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=512, pattern=RELATIVE_PATH_PATTERN),
    AfterValidator(_inside_registry),
]


class ModelUpdate(Message):
    """A model version was published, or rolled back to."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    kind: Kind
    version: Annotated[str, StringConstraints(strict=True, pattern=MODEL_VERSION_PATTERN)] = Field(
        description="<kind>-<YYYYMMDDTHHMM, UTC>-<n>, e.g. meter-20130301T0400-3."
    )
    action: Literal["publish", "rollback"]
    created_at: AwareDatetime
    sha256: Annotated[str, StringConstraints(strict=True, pattern=SHA256_PATTERN)] = Field(
        description="SHA-256 of the weights file, checked before loading."
    )
    path: RegistryPath = Field(description="Weights file, relative to the model registry dir.")
    threshold: FiniteFloat = Field(description="Anomaly threshold on the score for this version.")
    detector: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)] = (
        "autoencoder"
    )
    metrics: dict[str, FiniteFloat] | None = Field(
        default=None, description="Held-out evaluation of this version (name -> value)."
    )

    @model_validator(mode="after")
    def _version_of_kind(self) -> ModelUpdate:
        if not self.version.startswith(f"{self.kind}-"):
            raise PydanticCustomError("version_kind", "version must start with the kind")
        return self
