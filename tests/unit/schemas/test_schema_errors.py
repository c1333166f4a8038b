"""pydantic's errors in words: "field: rule"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from schemas import InvalidMessage, SchemaError
from schemas.errors import describe_error


class _Sample(BaseModel):
    ge: Annotated[float, Field(ge=0)] = 0
    gt: Annotated[float, Field(gt=0.5)] = 1
    le: Annotated[int, Field(le=1_000_000)] = 0
    lt: Annotated[float, Field(lt=1e9)] = 0
    text: Annotated[str, Field(min_length=1, max_length=3)] = "a"
    code: Annotated[str, Field(min_length=2)] = "ab"
    items: Annotated[list[int], Field(min_length=1, max_length=2)] = [1]
    choice: Literal["a", "b"] = "a"
    flag: bool = False
    count: int = 0
    nested: dict[str, int] = {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ge": -1}, "ge: must be >= 0"),
        ({"gt": 0}, "gt: must be > 0.5"),
        ({"le": 2_000_000}, "le: must be <= 1000000"),
        ({"lt": 2e9}, "lt: must be < 1000000000"),
        ({"text": ""}, "text: must not be empty"),
        ({"text": "abcd"}, "text: must have at most 3 characters"),
        ({"code": "a"}, "code: must have at least 2 characters"),
        ({"items": []}, "items: must not be empty"),
        ({"items": [1, 2, 3]}, "items: must have at most 2 items"),
        ({"choice": "c"}, "choice: must be 'a' or 'b'"),
        ({"flag": "maybe"}, "flag: must be true or false"),
        ({"count": "x"}, "count: must be an integer"),
        ({"count": 1.5}, "count: must be an integer"),
        ({"ge": "x"}, "ge: must be a number"),
        ({"nested": {"k": "x"}}, "nested.k: must be an integer"),
        ({"nested": []}, "nested: must be an object"),
    ],
)
def test_messages_read_field_then_rule(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate(data)
    invalid = InvalidMessage.from_validation_error(caught.value)
    assert invalid.message == message
    assert invalid.field == message.split(":", maxsplit=1)[0]
    assert invalid.type == "validation"
    assert describe_error(caught.value.errors()[0]) == message.split(": ", 1)[1]


def test_prefix_places_an_element_in_its_message() -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate({"ge": -1})
    invalid = InvalidMessage.from_validation_error(caught.value, prefix=("readings", 3))
    assert (invalid.field, invalid.message) == ("readings.3.ge", "readings.3.ge: must be >= 0")


def test_not_json_and_not_an_object_are_decode_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate_json(b"{")
    assert InvalidMessage.from_validation_error(caught.value).type == "decode"
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate_json(b"[]")
    invalid = InvalidMessage.from_validation_error(caught.value)
    assert (invalid.type, invalid.field, invalid.message) == (
        "decode",
        None,
        "must be a JSON object",
    )


def test_exception_tree_and_repr() -> None:
    error = InvalidMessage("validation", "kwh: must be >= 0", "kwh", rule="greater_than_equal")
    assert isinstance(error, SchemaError)
    assert str(error) == "kwh: must be >= 0"
    assert "kwh" in repr(error)
