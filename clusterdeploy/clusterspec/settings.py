"""Container settings: inherited from `defaults`, merged with a node's own, normalized by schema.

Normalization follows the schema, not a list of keys: a `$ref` to `duration` becomes seconds,
lists become tuples, mappings dicts. Only three settings need more: `environment` (values as
the strings Docker receives), `healthcheck` (the `http` shortcut becomes a curl test) and
`files` (templates resolved against the spec's folder).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from ..errors import Problem
from .durations import parse_duration
from .model import ContainerSettings, FileTemplate, HealthCheck
from .schema import definition

DURATION_REF = "#/$defs/duration"


def defaults_of(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """`value` with the `default` of each property declared at that level filled in, recursing
    into sub-objects that declare properties (a `$ref` is not followed: where a default
    applies is written where it applies)."""
    result = copy.deepcopy(value)
    for key, sub in schema.get("properties", {}).items():
        if key not in result and "default" in sub:
            result[key] = copy.deepcopy(sub["default"])
        if key in result and isinstance(result[key], dict) and "properties" in sub:
            merged = defaults_of(sub, result[key])
            if isinstance(sub.get("default"), dict):
                merged = {**sub["default"], **merged}
            result[key] = merged
    return result


def settings_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """The `defaults` section with every container setting's schema default filled in."""
    return defaults_of(definition("containerSettings"), raw)


CHECKS_PER_SECOND = 10


def with_scaled_interval(defaults: dict[str, Any], nodes: Any) -> dict[str, Any]:
    """`defaults` with a health-check interval that scales with the node count where none is
    written: every check is a `docker exec`, and at 100 nodes a 1 s interval alone would load
    two cores (nodes then turn unhealthy)."""
    check = defaults.get("healthcheck")
    if not check or "interval" in check:
        return defaults
    count = len(nodes) if isinstance(nodes, list) else int(nodes["count"])
    seconds = max(1, math.ceil(count / CHECKS_PER_SECOND))
    return {**defaults, "healthcheck": {**check, "interval": f"{seconds}s"}}


def merge(inherited: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A container's settings: its own keys win; `environment` is merged key by key, and so is
    the health check (where the container's `test` or `http` replaces the inherited one)."""
    merged = {**inherited, **own}
    merged["environment"] = {**inherited.get("environment", {}), **own.get("environment", {})}
    base_check, check = inherited.get("healthcheck"), own.get("healthcheck")
    if base_check and check:
        base = dict(base_check)
        if "test" in check or "http" in check:
            for key in ("test", "http", "port"):
                base.pop(key, None)
        merged["healthcheck"] = {**base, **check}
    return merged


def env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _normalize(schema: dict[str, Any], value: Any) -> Any:
    ref = schema.get("$ref", "")
    if ref == DURATION_REF:
        return parse_duration(value)
    if ref.startswith("#/$defs/"):
        schema = {**definition(ref.rsplit("/", 1)[1]), **schema}
    if isinstance(value, list):
        return tuple(_normalize(schema.get("items", {}), item) for item in value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {key: _normalize(properties.get(key, extra if isinstance(extra, dict) else {}),
                                item) for key, item in value.items()}
    return value


def _health(raw: dict[str, Any], service_ports: dict[str, int], path: str,
            ) -> tuple[HealthCheck | None, list[Problem]]:
    """The health check, the `http` shortcut turned into a curl check of a service port."""
    if not raw:
        return None, []
    test: tuple[str, ...] = tuple(raw.get("test", ()))
    problems = []
    if test and (test[0] == "NONE") != (len(test) == 1):
        problems.append(Problem(f"{path}.healthcheck.test", f"{list(test)} is not a check",
                                "write [NONE], [CMD, prog, args...] or [CMD-SHELL, command]"))
    if "http" in raw:
        port = raw.get("port", next(iter(service_ports.values())))
        if isinstance(port, str) and port not in service_ports:
            problems.append(Problem(f"{path}.healthcheck.port", f"{port!r} is not a service port",
                                    f"use one of {', '.join(service_ports)}, or a port number"))
        number = service_ports.get(port, port) if isinstance(port, str) else port
        test = ("CMD", "curl", "-fsS", "-o", "/dev/null",
                f"http://127.0.0.1:{number}{raw['http']}")
    return HealthCheck(test=test, interval=raw["interval"], timeout=raw["timeout"],
                       retries=int(raw["retries"]), start_period=raw["start_period"]), problems


MAX_SECONDS = 24 * 3600.0
MIN_CHECK_SECONDS = 0.001


def value_problems(written: dict[str, Any], path: str) -> list[Problem]:
    """What Docker would refuse in settings as written at `path` (defaults, a node, the
    tester): an environment value with a line break (an env file cannot carry one), a
    duration over a day, a health-check time under 1 ms (0 would mean Docker's default)."""
    problems = [Problem(f"{path}.environment.{name}", "the value holds a line break or NUL",
                        "put multi-line values in a file (files:) and point to it")
                for name, value in (written.get("environment") or {}).items()
                if any(c in env_value(value) for c in "\n\r\0")]
    check = written.get("healthcheck") or {}
    durations: list[tuple[str, str, float]] = [
        (key, written[key], 0.0) for key in ("stop_grace_period", "ready_timeout")
        if key in written]
    durations += [(f"healthcheck.{key}", check[key], 0.0 if key == "start_period"
                   else MIN_CHECK_SECONDS)
                  for key in ("interval", "timeout", "start_period") if key in check]
    for key, text, low in durations:
        seconds = parse_duration(text)
        if not low <= seconds <= MAX_SECONDS:
            problems.append(Problem(f"{path}.{key}", f"{text} is outside {low * 1000:g} ms-24 h",
                                    "write a duration within it"))
    return problems


def container_settings(raw: dict[str, Any], base: Path, path: str,
                       ) -> tuple[ContainerSettings, list[Problem]]:
    """Merged raw settings (schema-valid, every default present) as ContainerSettings."""
    properties = definition("containerSettings")["properties"]
    values = {key: _normalize(properties.get(key, {}), value) for key, value in raw.items()}
    values["environment"] = {name: env_value(v) for name, v in raw["environment"].items()}
    values["service_ports"] = dict(raw["service_ports"])
    values["healthcheck"], problems = _health(values.get("healthcheck") or {},
                                              values["service_ports"], path)
    values["files"] = tuple(
        FileTemplate((base / f["template"]).resolve(), f["path"], int(f.get("mode", "0644"), 8))
        for f in raw["files"])
    if "mounts" in raw:
        values["mounts"] = tuple(_mount(entry, base) for entry in raw["mounts"])
    for key in ("labels", "sysctls"):
        if key in raw:
            values[key] = {name: env_value(v) for name, v in raw[key].items()}
    return ContainerSettings(values), problems


def _mount(entry: str, base: Path) -> str:
    """`SOURCE:TARGET[:MODE]` with a relative host path resolved against the spec's folder
    (`./x`, `~/x`; a source without a slash names a volume) and read-only unless `:rw`."""
    source, target, *mode = entry.split(":")
    if source.startswith((".", "~")):
        source = str((base / Path(source).expanduser()).resolve())
    return f"{source}:{target}:{mode[0] if mode else 'ro'}"
