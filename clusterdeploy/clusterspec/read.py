"""Reading the spec file: YAML in, a plain document out, or one SpecError saying why not.

Hostile files are bounded before anything else looks at them: only a regular file of at most
MAX_SPEC_BYTES is read (not a FIFO, not /dev/zero), UTF-8 only, duplicate keys are an error
(YAML would keep the last one silently), and aliases may not expand the document beyond
MAX_VALUES values (a 700-byte "billion laughs" would otherwise exhaust memory downstream).
"""

from __future__ import annotations

import os
import stat
from typing import Any

import yaml

from ..errors import Problem, SpecError

SPEC_ENV = "CLUSTER_SPEC"
MAX_SPEC_BYTES = 1 << 20
MAX_VALUES = 100_000


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping key written twice."""


class _UniqueKeys:
    """A mapping constructor that refuses a key written twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the constructor reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise DuplicateKey(
                    problem=f"key {key!r} is written twice (first on line "
                            f"{seen[key].start_mark.line + 1})", problem_mark=mark)
            seen[key] = key_node
        mapping: dict[Any, Any] = yaml.SafeLoader.construct_mapping(
            self, node, deep)  # type: ignore[arg-type]
        return mapping


class _SafeLoader(_UniqueKeys, yaml.SafeLoader):
    pass


_FAST = getattr(yaml, "CSafeLoader", None)
_Loaders: list[type[Any]] = [_SafeLoader]
if _FAST is not None:
    _Loaders.insert(0, type("_CSafeLoader", (_UniqueKeys, _FAST), {}))


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """How many values the node stands for with every alias expanded (stops past `limit`;
    a node that contains itself counts as too many)."""
    sizes: dict[int, int] = {}

    def size(current: yaml.Node, trail: frozenset[int]) -> int:
        key = id(current)
        if key in trail:
            return limit + 1
        if key in sizes:
            return sizes[key]
        total = 1
        if isinstance(current, yaml.SequenceNode):
            for item in current.value:
                total += size(item, trail | {key})
                if total > limit:
                    break
        elif isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                total += size(k, trail | {key}) + size(v, trail | {key})
                if total > limit:
                    break
        sizes[key] = total
        return total

    return size(node, frozenset())


def _parse_yaml(text: str) -> Any:
    """libyaml's loader when PyYAML has it (15x faster on a 100-node spec); on a syntax error
    the pure-Python loader parses again, for its clearer message."""
    for i, loader_class in enumerate(_Loaders):
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_size(node, MAX_VALUES) > MAX_VALUES:
                raise yaml.YAMLError(f"its aliases expand to more than {MAX_VALUES} values "
                                     f"(or an alias refers to itself)")
            return loader.construct_document(node)
        except yaml.MarkedYAMLError:
            if i == len(_Loaders) - 1:
                raise
        finally:
            loader.dispose()
    return None


def _fail(display: str, where: str, message: str, fix: str) -> SpecError:
    return SpecError([Problem(where, message, fix, display)])


def _read_text(display: str) -> str:
    try:
        fd = os.open(display, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise _fail(display, "", "no such file", f"create it or set {SPEC_ENV}") from None
    except OSError as exc:
        raise _fail(display, "", f"cannot read: {exc.strerror}", "check the path") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _fail(display, "", "is not a regular file", "point at a YAML file")
    with os.fdopen(fd, "rb") as file:
        data = file.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise _fail(display, "", f"is larger than {MAX_SPEC_BYTES // 1024} KiB",
                    "a cluster spec is a few KiB; check the path")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(display, "", f"is not UTF-8 (byte {exc.start})",
                    "save the file as UTF-8") from None


def read_document(display: str) -> dict[str, Any]:
    """The spec file's YAML mapping; SpecError naming the file when it cannot be had."""
    text = _read_text(display)
    try:
        document = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        if isinstance(exc, DuplicateKey):
            raise _fail(display, where, f"{exc.problem}", "keep one of them") from None
        raise _fail(display, where, f"YAML syntax error: {exc.problem}", "fix the YAML") from None
    except yaml.YAMLError as exc:
        raise _fail(display, "", f"YAML error: {exc}", "fix the YAML") from None
    except RecursionError:
        raise _fail(display, "", "YAML nested too deeply", "fix the YAML") from None
    if not isinstance(document, dict):
        raise _fail(display, "", "the spec must be a YAML mapping",
                    "start with `name: <cluster>` and `nodes:`")
    return document

