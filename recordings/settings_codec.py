"""Frozen settings dataclasses to and from JSON, nested settings included, so what is stored with
a recording (the runner settings in /processing, the session specification at the root) rebuilds
the very objects that produced it and a replay runs as recorded.

The codec is generic over frozen dataclasses whose fields are numbers, strings, booleans, enums,
None, tuples, mappings with string or enum keys, and other such dataclasses. Unknown keys (from a
newer minor version) are ignored; missing ones take today's defaults."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from typing import Any, TypeVar

from sensors.processing.session import SessionSettings

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """`value` as JSON-ready plain values (dataclasses → objects, enums → their values)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(to_plain(k)): to_plain(v) for k, v in value.items()}
    return value


def from_plain(cls: type[T], raw: Any, where: str = "") -> T:
    """A `cls` dataclass from what `to_plain` gave. Raises ValueError naming the field that is wrong."""
    where = where or cls.__name__
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in raw and f.init:
            values[f.name] = _value(hints[f.name], raw[f.name], f"{where}.{f.name}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from error


def _value(hint: Any, raw: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, raw, where)
    if hint is Any:
        return raw
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, raw, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError:
            raise ValueError(f"{where}: {raw!r} is not one of {[m.value for m in hint]}") from None
    if origin is tuple:
        if not isinstance(raw, list):
            raise ValueError(f"{where} must be a list, got {type(raw).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v, f"{where}[{k}]") for k, v in enumerate(raw))
        return tuple(_value(a, v, f"{where}[{k}]") for k, (a, v) in enumerate(zip(args, raw, strict=True)))
    if origin in (dict, typing.Mapping) or hint is dict:
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be a JSON object, got {type(raw).__name__}")
        key_hint, value_hint = args or (str, Any)
        return {_value(key_hint, k, where): _value(value_hint, v, f"{where}.{k}") for k, v in raw.items()}
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"{where} must be a number, got {raw!r}")
        return float(raw)
    if hint in (int, str, bool) and not isinstance(raw, hint):
        raise ValueError(f"{where} must be {hint.__name__}, got {raw!r}")
    return raw


def session_settings_to_json(settings: SessionSettings) -> str:
    """The runner settings as sorted JSON (nested settings as objects)."""
    return json.dumps(to_plain(settings), sort_keys=True)


def session_settings_from_json(text: str) -> SessionSettings:
    """Settings written by `session_settings_to_json` (by any version: files from before the nested
    settings were stored get today's defaults for them). Raises ValueError on text that is not JSON
    or a value of the wrong type."""
    raw: Any = json.loads(text) if text else {}
    return from_plain(SessionSettings, raw, "session settings")
