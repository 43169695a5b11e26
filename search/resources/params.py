"""How the resources read query parameters and JSON bodies: one rule set, errors that name the
parameter (or the field of the body).

- A single-valued parameter given twice (``?page=1&page=2``) is refused with a 400, rather than
  guessing which one the caller meant; repeatable ones (``section``, ``tag``) are read as lists.
- A blank value (``?from=``, what an HTML form sends for an empty field) counts as absent.
- Unknown parameters are ignored.
- Integers are plain decimal digits, with an optional sign; dates are ``YYYY-MM-DD``; booleans
  are ``true`` or ``false``.

A JSON body (``POST /similar``) must be one JSON object in UTF-8, within the endpoint's size
limit (a larger one is a 413, ``PayloadTooLarge``, read no further than the limit); its fields
are read by name, unknown ones ignored. An error about a field names it in ``parameter``; one
about the whole body (not JSON, not an object, too large) names nothing.

Every other problem raises ``BadQuery`` (400) with ``parameter`` set, answered in the one error
shape.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import falcon

from search.errors import BadQuery, PayloadTooLarge

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shown(value: str) -> str:
    """The caller's value, quoted and shortened, for an error message."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def text(req: falcon.Request, name: str) -> str | None:
    """The one value of ``name``, or None when it is absent or blank."""
    value = req.params.get(name)
    if isinstance(value, list):
        raise BadQuery(f"{name} was given {len(value)} times; give it once", parameter=name)
    if value is None or not value.strip():
        return None
    return value


def texts(req: falcon.Request, name: str) -> tuple[str, ...]:
    """Every value of a repeatable parameter, stripped, blanks and repeats dropped, in order."""
    values = req.get_param_as_list(name) or []
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def integer(
    req: falcon.Request,
    name: str,
    *,
    default: int,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """The integer value of ``name`` (``default`` when absent), within the bounds given."""
    raw = text(req, name)
    if raw is None:
        return default
    try:
        if not _INTEGER.fullmatch(raw.strip()):
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise BadQuery(
            f"{name} must be a whole number, got {_shown(raw)}", parameter=name
        ) from None
    if minimum is not None and value < minimum:
        raise BadQuery(f"{name} must be {_range(minimum, maximum)}, got {value}", parameter=name)
    if maximum is not None and value > maximum:
        raise BadQuery(f"{name} must be {_range(minimum, maximum)}, got {value}", parameter=name)
    return value


def _range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    return f"at least {minimum}" if minimum is not None else f"at most {maximum}"


def iso_date(req: falcon.Request, name: str) -> date | None:
    """The date value of ``name`` (``YYYY-MM-DD``), or None when it is absent."""
    raw = text(req, name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw.strip()):
            raise ValueError(raw)
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadQuery(
            f"{name} must be a date like 2024-03-31, got {_shown(raw)}", parameter=name
        ) from None


_BOOLEANS = {"true": True, "false": False}


def boolean(req: falcon.Request, name: str, *, default: bool) -> bool:
    """``true`` or ``false`` for ``name`` (JSON's spelling); ``default`` when it is absent."""
    raw = text(req, name)
    if raw is None:
        return default
    value = _BOOLEANS.get(raw.strip())
    if value is None:
        raise BadQuery(f"{name} must be true or false, got {_shown(raw)}", parameter=name)
    return value


def choice(req: falcon.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """The value of ``name`` if it is one of ``allowed``, None when absent."""
    raw = text(req, name)
    if raw is None:
        return None
    if raw not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise BadQuery(f"{name} must be {options}, got {_shown(raw)}", parameter=name)
    return raw


def json_object(req: falcon.Request, *, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object; 413 past ``max_bytes``, 400 if it is not one."""
    if req.content_length is not None and req.content_length > max_bytes:
        raise PayloadTooLarge(
            f"the request body is {req.content_length} bytes; at most {max_bytes} are accepted"
        )
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the request body is over {max_bytes} bytes, the most accepted")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadQuery(
            'the request body must be a JSON object in UTF-8, like {"title": "…", "body": "…"}'
        ) from None
    if not isinstance(value, dict):
        raise BadQuery(f"the request body must be a JSON object, not {_json_type(value)}")
    return value


def json_string(value: dict[str, Any], name: str) -> str:
    """The string field ``name`` of a JSON body ("" when absent; null is a wrong type)."""
    if name not in value:
        return ""
    found = value[name]
    if not isinstance(found, str):
        raise BadQuery(f"{name} must be a string, not {_json_type(found)}", parameter=name)
    return found


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
