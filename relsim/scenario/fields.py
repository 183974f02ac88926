"""Checks shared by every schema that reads numbers from a user's file.

>>> from pydantic import BaseModel, field_validator
>>> class Demo(BaseModel):
...     share: float = 0.5
...     @field_validator("*", mode="before")
...     @classmethod
...     def _numbers(cls, value, info):
...         return reject_coercion(cls, value, info.field_name)
>>> Demo(share=0.4).share
0.4
>>> Demo(share="0.4")
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Demo
share
  Value error, must be a number, not str '0.4' [type=value_error, input_value='0.4', input_type=str]
...
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel


def _numeric_kind(annotation: Any) -> type | None:
    """``int`` or ``float`` if a field (or the items of a list field) holds numbers."""
    if annotation in (int, float):
        return annotation
    if get_origin(annotation) is list and get_args(annotation) and get_args(annotation)[0] in (int, float):
        return get_args(annotation)[0]
    return None


def reject_coercion(model: type[BaseModel], value: Any, field_name: str | None) -> Any:
    """Numbers must be numbers: no ``true`` for an integer, no ``"0.4"`` for a share.

    Pydantic's lax mode would turn both into numbers silently; NaN and infinity
    are refused by ``allow_inf_nan=False``; a whole float (200.0) still fits an
    integer field, a fractional one does not.
    """
    field = model.model_fields.get(field_name or "")
    kind = _numeric_kind(field.annotation) if field is not None else None
    if kind is None:
        return value
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, bool) or isinstance(item, str):
            raise ValueError(f"must be {'an integer' if kind is int else 'a number'}, "
                             f"not {type(item).__name__} {item!r}")
    return value
