"""One event loop for the suite's async parts (uvloop, as the worker uses)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")

__all__ = ["run_async"]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)
