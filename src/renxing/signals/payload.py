"""Payloads: the fields of an event as plain JSON values and back.

A field may hold ``int``, ``float``, ``str``, ``bool``, an aware ``datetime`` (written as ISO
8601) or ``None``, or a tuple of those (``tuple[int, ...]`` or a fixed ``tuple[int, int]``,
nested as deep as needed). Anything else is refused when the event is declared, so every
payload can wait in the outbox and come back equal to what was published.
"""

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

SCALARS: tuple[type, ...] = (bool, int, float, str, datetime)


def _optional_inner(hint: Any) -> Any | None:
    """``X`` of ``X | None``; None when ``hint`` is not optional."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None


def describe(hint: Any) -> str:
    """The field's type as the catalogue shows it; TypeError for a type a payload cannot hold."""
    inner = _optional_inner(hint)
    if inner is not None:
        return f"{describe(inner)} | None"
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{describe(args[0])}, ...]"
        if args and Ellipsis not in args:
            return f"tuple[{', '.join(describe(a) for a in args)}]"
    if hint in SCALARS:
        return hint.__name__
    raise TypeError(f"an event field cannot hold {hint!r}: use ids and plain values")


def fields_of(cls: type) -> list[tuple[str, Any]]:
    """(name, type) of each payload field, in declaration order."""
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an event's datetime must be aware")
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def encode(event: Any) -> dict[str, Any]:
    """The event's fields as JSON values."""
    return {name: _plain(getattr(event, name)) for name, _ in fields_of(type(event))}


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    inner = _optional_inner(hint)
    if inner is not None:
        return _typed(inner, value)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(args[0], v) for v in value)
        return tuple(_typed(a, v) for a, v in zip(args, value, strict=True))
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def decode(cls: type, payload: dict[str, Any]) -> Any:
    """The event of type ``cls`` that :func:`encode` wrote as ``payload``."""
    return cls(**{name: _typed(hint, payload[name]) for name, hint in fields_of(cls) if name in payload})
