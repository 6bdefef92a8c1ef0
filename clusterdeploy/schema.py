"""The cluster schema (cluster.schema.json): structural checks with messages a person can act on.

jsonschema's own messages ("Additional properties are not allowed ('fo' was unexpected)") name no
fix; each error kind is rewritten here into `what is wrong (how to fix it)` at the exact path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from .errors import Problem

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "cluster.schema.json"

_PATTERN_FIXES = {
    "hostname": "use an RFC 1123 label: letters, digits and '-', at most 63 characters, "
    "not starting or ending with '-'",
    "name": "use letters, digits, '_', '.' and '-', starting with a letter or digit",
    "container_name": "use letters, digits, '_', '.' and '-', starting with a letter or digit",
    "cap_add": "write capability names in capitals, e.g. NET_ADMIN",
    "cap_drop": "write capability names in capitals, e.g. NET_ADMIN",
    "subnet": "write an IPv4 subnet in CIDR form, e.g. 172.28.0.0/24",
    "ports": "use compose short syntax [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], "
    "e.g. 127.0.0.1:40401:40404",
    "files_dir": "use an absolute path in the container, e.g. /clusterdeploy",
}
_DURATION_FIX = "write a duration like 10s, 1m30s or 500ms"


@cache
def load_schema() -> dict[str, Any]:
    """The schema document, read once."""
    return json.loads(SCHEMA_PATH.read_text())


def format_path(parts: Iterable[str | int]) -> str:
    """`["nodes", 2, "ports", 0]` -> `nodes[2].ports[0]`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(document: Any) -> list[Problem]:
    """Every structural problem of the document, each with its path and fix."""
    validator = jsonschema.Draft202012Validator(
        load_schema(), format_checker=jsonschema.FormatChecker()
    )
    problems: list[Problem] = []
    for error in validator.iter_errors(document):
        problems.extend(_describe(leaf) for leaf in _leaves(error))
    return problems


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into oneOf/anyOf to the branch that matches the value's type."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        matching = [
            subs for subs in branches.values()
            if not any(s.validator == "type" and not s.relative_path for s in subs)
        ]
        if len(matching) == 1:
            for sub in matching[0]:
                yield from _leaves(sub)
            return
    yield error


def _key_name(path: Sequence[str | int]) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def _describe(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    key = _key_name(path)
    value = error.instance
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}

    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed))
        return Problem(
            format_path([*path, extra[0]]) if extra else format_path(path),
            f"unknown key {', '.join(map(repr, extra))}",
            f"check the spelling; allowed here: {', '.join(allowed)}" if allowed else "remove it",
        )
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem(format_path(path), f"missing required key {missing!r}", f"add {missing}:")
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return Problem(format_path(path),
                       f"{value!r} is {_article(_json_type(value))}, expected {expected}",
                       f"write {_article(expected)} here")
    if kind == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return Problem(format_path(path), f"{value!r} is not one of {choices}",
                       f"choose one of {choices}")
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        return Problem(format_path(path), f"{value} is outside {low}-{high}",
                       f"use a number from {low} to {high}")
    if kind == "pattern":
        if "duration" in schema.get("description", "").lower() or key.endswith(
            ("period", "timeout", "interval")
        ):
            fix = _DURATION_FIX
        else:
            fix = _PATTERN_FIXES.get(key, f"it must match {error.validator_value}")
        return Problem(format_path(path), f"{value!r} is not valid here", fix)
    if kind == "propertyNames" or (kind == "pattern" and not path):
        return Problem(format_path(path), error.message, "rename the key")
    if kind == "format":
        return Problem(format_path(path), f"{value!r} is not a valid {error.validator_value}",
                       "write a dotted IPv4 address, e.g. 172.28.0.11")
    if kind == "maxItems":
        return Problem(format_path(path), f"has {len(value)} entries, at most "
                       f"{error.validator_value} allowed",
                       "keep one Docker host: a cluster runs on one host for now")
    if kind in ("minItems", "minProperties"):
        return Problem(format_path(path), "must not be empty", "add at least one entry")
    if kind == "uniqueItems":
        return Problem(format_path(path), "has duplicate entries", "list each entry once")
    if kind == "oneOf" and key == "nodes":
        return Problem(format_path(path), f"is a {_json_type(value)}",
                       "write a list of nodes, or the compact form {count: N, ...}")
    return Problem(format_path(path), error.message, "see cluster.schema.json")


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "null" if value is None else type(value).__name__


def schema_defaults(node: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `default` of each property of an object schema (top level by default)."""
    node = node if node is not None else load_schema()
    return {k: v["default"] for k, v in node.get("properties", {}).items() if "default" in v}
