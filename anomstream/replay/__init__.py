"""Replaying a file of readings or sales into Kafka (``anomstream replay FILE``).

The pieces, in the order a row meets them::

    source       CSV / CSV.gz / Parquet, in chunks, with each row's position
    fields       which column feeds which contract field (--map)
    timestamps   naive local times -> UTC instants (DST rules)
    encode       chunk -> contract JSON, checked by the worker's decoders
    rejections   the rows that failed, counted by reason
    ratelimit    --rate as a token bucket
    sink         keyed record batches to Kafka, acks=all
    run          the pipeline between them

Errors: see :mod:`anomstream.replay.errors`.
"""

from anomstream.replay.errors import BadArguments, ProduceFailed, ReplayError
from anomstream.replay.rejections import ReasonCount, Rejections
from anomstream.replay.run import Replay, ReplayOptions, ReplayProgress, ReplayReport

__all__ = [
    "BadArguments",
    "ProduceFailed",
    "ReasonCount",
    "Rejections",
    "Replay",
    "ReplayError",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayReport",
]
