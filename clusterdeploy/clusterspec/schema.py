"""The cluster schema (package data): structural checks with messages a person can act on.

jsonschema's own messages ("Additional properties are not allowed ('fo' was unexpected)") name no
fix; each error kind is rewritten here into `what is wrong (how to fix it)` at the exact path.
A schema entry may carry its own fix text (`x-fix`). Patterns match the whole value, as they do
in editors (JavaScript): Python's `$` would also accept a trailing newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..errors import Problem
from .validcache import document_key, known_valid, remember_valid

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "cluster.schema.json"


@cache
def schema_text() -> str:
    return resources.files("clusterdeploy").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def load_schema() -> dict[str, Any]:
    """The schema document, read once from the package."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def definition(name: str) -> dict[str, Any]:
    """One entry of the schema's `$defs`."""
    found: dict[str, Any] = load_schema()["$defs"][name]
    return found


def _full_match(validator: Any, pattern: str, instance: Any, schema: dict[str, Any],
                ) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and re.fullmatch(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> Any:
    """Draft 2020-12 with whole-value patterns; jsonschema is imported here, when a document
    is validated at all (validcache.py)."""
    import jsonschema

    extended: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _full_match})
    return extended(load_schema(), format_checker=jsonschema.FormatChecker())


def format_path(parts: Iterable[str | int]) -> str:
    """`["nodes", 2, "ports", 0]` -> `nodes[2].ports[0]`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(document: Any, definition_name: str | None = None,
                    prefix: str = "") -> list[Problem]:
    """Every structural problem of the document (or of a value against one `$defs` entry),
    each with its path (under `prefix`) and fix. A document accepted before is not validated
    again (validcache.py)."""
    key = document_key(document, schema_text(), definition_name)
    if known_valid(key):
        return []
    problems = _problems(document, definition_name, prefix)
    if not problems:
        remember_valid(key)
    return problems


def _problems(document: Any, definition_name: str | None, prefix: str) -> list[Problem]:
    validator = _validator()
    if definition_name is not None:
        validator = validator.evolve(schema={"$ref": f"#/$defs/{definition_name}",
                                             "$defs": load_schema()["$defs"]})
    problems: list[Problem] = []
    for error in validator.iter_errors(document):
        for leaf in _leaves(error):
            if _only_echoes_another_error(leaf):
                continue
            problem = _describe(leaf)
            if prefix:
                joined = f"{prefix}{'' if problem.path.startswith('[') else '.'}{problem.path}"
                problem = Problem(joined if problem.path else prefix, problem.message,
                                  problem.fix)
            problems.append(problem)
    return problems


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into oneOf/anyOf/allOf to the branch that matches the value's type."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.schema_path[0]), []).append(sub)
        matching = [
            subs for subs in branches.values()
            if not any(s.validator == "type" and not s.relative_path for s in subs)
        ]
        if len(matching) == 1:
            for sub in matching[0]:
                yield from _leaves(sub)
            return
    yield error


def _only_echoes_another_error(error: ValidationError) -> bool:
    """`unevaluatedProperties` also fires for a known key whose own value is invalid (a failed
    subschema evaluates nothing); that key's own error says what is wrong."""
    if error.validator != "unevaluatedProperties" or not isinstance(error.instance, dict):
        return False
    schema = error.schema if isinstance(error.schema, dict) else {}
    return not set(error.instance) - set(_allowed_keys(schema))


def _key_name(path: Sequence[str | int]) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def _allowed_keys(schema: dict[str, Any]) -> list[str]:
    """The keys an object schema declares, following `$ref` and `allOf`."""
    keys = set(schema.get("properties", {}))
    for part in [schema, *schema.get("allOf", [])]:
        ref = part.get("$ref", "")
        if ref.startswith("#/$defs/") and ref.count("/") == 2:
            keys |= set(_allowed_keys(definition(ref.rsplit("/", 1)[1])))
    return sorted(keys)


def _describe(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    value: Any = error.instance
    kind = error.validator
    rule: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = format_path(path)

    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
        allowed = _allowed_keys(schema)
        extra = sorted(set(value) - set(allowed))
        return Problem(
            format_path([*path, extra[0]]) if extra else where,
            f"unknown key {', '.join(map(repr, extra))}",
            f"check the spelling; allowed here: {', '.join(allowed)}" if allowed else "remove it",
        )
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem(where, f"missing required key {missing!r}", f"add {missing}:")
    if kind == "type":
        expected = rule
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return Problem(where, f"{value!r} is {_article(_json_type(value))}, expected {expected}",
                       f"write {_article(expected)} here")
    if kind == "enum":
        choices = ", ".join(map(str, rule))
        return Problem(where, f"{value!r} is not one of {choices}", f"choose one of {choices}")
    if kind in ("minimum", "maximum") and "exclusiveMinimum" in schema:
        kind, rule = "exclusiveMinimum", schema["exclusiveMinimum"]
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        return Problem(where, f"{value} is outside {low}-{high}",
                       f"use a number from {low} to {high}")
    if kind == "exclusiveMinimum":
        high = schema.get("maximum")
        upper = f" and at most {high}" if high is not None else ""
        return Problem(where, f"{value} is out of range", f"use a number above {rule}{upper}")
    if kind == "pattern":
        fix = schema.get("x-fix") or f"it must match {rule}"
        return Problem(where, f"{value!r} is not valid here", fix)
    if kind == "propertyNames":
        return Problem(where, error.message, "rename the key")
    if kind == "format":
        return Problem(where, f"{value!r} is not a valid {rule}",
                       "write a dotted IPv4 address, e.g. 172.28.0.11")
    if kind == "maxItems":
        return Problem(where, f"has {len(value)} entries, at most {rule} "
                              f"allowed", schema.get("x-fix") or "remove entries")
    if kind in ("minItems", "minProperties", "minLength"):
        return Problem(where, "must not be empty", "add at least one entry"
                       if kind != "minLength" else "write a value")
    if kind == "uniqueItems":
        return Problem(where, "has duplicate entries", "list each entry once")
    if kind == "oneOf" and _key_name(path) == "nodes":
        return Problem(where, f"is a {_json_type(value)}",
                       "write a list of nodes, or the compact form {count: N, ...}")
    return Problem(where, error.message, "see cluster.schema.json")


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
