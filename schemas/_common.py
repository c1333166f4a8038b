"""Field types and the base model shared by every message.

Each rule is written here once, so inputs, outputs and the exported JSON
Schemas cannot drift apart. Input timestamps, the costliest field, have
their own module (:mod:`schemas._timestamps`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "CONTROL_FREE_PATTERN",
    "MODEL_VERSION_PATTERN",
    "PATTERN_RULES",
    "RELATIVE_PATH_PATTERN",
    "SCHEMA_VERSION",
    "SHA256_PATTERN",
    "EntityId",
    "FiniteFloat",
    "Kind",
    "Message",
    "SchemaVersion",
    "Severity",
]

SCHEMA_VERSION: Final = 1

# C0 controls, DEL and C1 controls: they break logs, terminals and Redis key
# readability, and no real meter or event id contains them.
CONTROL_FREE_PATTERN: Final = r"^[^\x00-\x1f\x7f-\x9f]+$"

# "<kind>-<UTC training time, minute>-<sequence>", e.g. meter-20130301T0400-3.
MODEL_VERSION_PATTERN: Final = r"^(meter|ticket)-[0-9]{8}T[0-9]{4}-[0-9]{1,9}$"
SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"
# Portable file names only, "/" between them; ".." is refused separately.
RELATIVE_PATH_PATTERN: Final = r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"

# Human texts for the string patterns; errors.py turns pydantic's
# "should match pattern '...'" into these.
PATTERN_RULES: Final[dict[str, str]] = {
    CONTROL_FREE_PATTERN: "must not contain control characters",
    MODEL_VERSION_PATTERN: "must look like meter-20130301T0400-3 (kind-YYYYMMDDTHHMM-n)",
    SHA256_PATTERN: "must be 64 lowercase hexadecimal digits",
    RELATIVE_PATH_PATTERN: "must be a relative path of letters, digits, '.', '_', '-' and '/'",
}


class Message(BaseModel):
    """Base of every message: immutable, and unknown fields ignored.

    Ignoring (not rejecting) extra fields lets producers add fields before
    consumers know them: the contract only ever grows by optional fields.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


# --- plain values -------------------------------------------------------------


def _exactly_one(value: Any) -> Any:
    # Literal[1] alone also takes true and 1.0; a version must be the integer 1.
    if type(value) is not int or value != SCHEMA_VERSION:
        raise PydanticCustomError("schema_version", "must be 1")
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(_exactly_one)]
"""``schema_version``: the integer 1 (not ``true``, not ``1.0``)."""

Kind = Literal["meter", "ticket"]
Severity = Literal["low", "medium", "high", "critical"]

EntityId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=128, pattern=CONTROL_FREE_PATTERN),
]
"""An id (meter, sale, event, alert): 1 to 128 characters, no control characters."""

# strict: a JSON string "0.2" or a boolean is not a number here.
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
