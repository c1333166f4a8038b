"""The messages of anomstream: pure pydantic models, no I/O (the bottom layer).

Inputs (``meter-readings``, ``ticket-sales``) are decoded from bytes by
:mod:`schemas.decode`; outputs (``anomalies``, ``window-scores``,
``dead-letters``, ``model-updates``) are built and serialized with the models'
own ``model_dump_json``. The wire format is ``shared/CONTRACT.md``; the JSON
Schemas in ``schemas/json/`` are generated from these models.

Exceptions::

    SchemaError
    └── InvalidMessage      reject this input: .type, .message, .field

Configuration lives beside, in :mod:`schemas.settings` (not re-exported: it
is read once, at the entry point).
"""

from schemas._common import SCHEMA_VERSION, Kind, Severity
from schemas.dead_letters import MAX_KEPT_BYTES, DeadLetter, DeadLetterError, DeadLetterType
from schemas.decode import (
    MAX_BATCH_PAYLOAD_BYTES,
    MAX_PAYLOAD_BYTES,
    decode_meter_message,
    decode_reading,
    decode_reading_batch,
    decode_sale,
)
from schemas.errors import ErrorType, InvalidMessage, SchemaError
from schemas.export import write_json_schemas
from schemas.inputs import (
    MAX_BATCH_READINGS,
    BatchReading,
    MeterReading,
    MeterReadingBatch,
    TicketSale,
)
from schemas.model_updates import ModelUpdate
from schemas.outputs import SLOTS_PER_DAY, Alert, ConditionValue, SlotExplanation, WindowScore

__all__ = [
    "MAX_BATCH_PAYLOAD_BYTES",
    "MAX_BATCH_READINGS",
    "MAX_KEPT_BYTES",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_VERSION",
    "SLOTS_PER_DAY",
    "Alert",
    "BatchReading",
    "ConditionValue",
    "DeadLetter",
    "DeadLetterError",
    "DeadLetterType",
    "ErrorType",
    "InvalidMessage",
    "Kind",
    "MeterReading",
    "MeterReadingBatch",
    "ModelUpdate",
    "SchemaError",
    "Severity",
    "SlotExplanation",
    "TicketSale",
    "WindowScore",
    "decode_meter_message",
    "decode_reading",
    "decode_reading_batch",
    "decode_sale",
    "write_json_schemas",
]
