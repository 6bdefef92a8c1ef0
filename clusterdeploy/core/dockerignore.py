"""`.dockerignore` semantics, to hash exactly the build context Docker would send.

Follows moby's patternmatcher: patterns are cleaned paths relative to the context, `*` and `?`
stay inside one path element, `**` spans elements, a pattern that matches a parent directory
excludes everything below it, `!` re-includes, and the last matching pattern wins.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IgnorePattern:
    regex: re.Pattern[str]
    negated: bool
    prefix: str  # the literal directory part before any wildcard, for pruning


def _to_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(?:.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + r"\Z")


def parse_dockerignore(text: str) -> list[IgnorePattern]:
    """The patterns of a `.dockerignore`; ValueError naming the line of one that is invalid."""
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        line = posixpath.normpath(line.lstrip("/")) if line.lstrip("/") else "."
        if line == ".":
            continue
        literal = re.split(r"[*?\[\\]", line, maxsplit=1)[0]
        try:
            regex = _to_regex(line)
        except re.error as exc:
            raise ValueError(f".dockerignore line {number}: {raw.strip()!r} is not a valid "
                             f"pattern ({exc})") from None
        patterns.append(IgnorePattern(regex, negated, literal))
    return patterns


def is_excluded(relpath: str, patterns: list[IgnorePattern]) -> bool:
    """Whether the context path (posix, relative) is left out of the build context."""
    parents = []
    parent = posixpath.dirname(relpath)
    while parent:
        parents.append(parent)
        parent = posixpath.dirname(parent)
    excluded = False
    for pattern in patterns:
        if pattern.regex.match(relpath) or any(pattern.regex.match(p) for p in parents):
            excluded = not pattern.negated
    return excluded


def _may_reinclude(directory: str, patterns: list[IgnorePattern]) -> bool:
    for p in patterns:
        if not p.negated:
            continue
        if not p.prefix or p.prefix.startswith(directory + "/") or directory.startswith(
            p.prefix.rstrip("/")
        ) or p.prefix.rstrip("/") == directory:
            return True
    return False


def context_files(context: Path) -> Iterator[str]:
    """The files Docker would send from `context`, as relative posix paths in a fixed order
    (directory by directory, names sorted)."""
    ignore_file = context / ".dockerignore"
    try:
        text = ignore_file.read_bytes().decode("utf-8") if ignore_file.is_file() else ""
    except UnicodeDecodeError:
        raise ValueError(f"{ignore_file} is not UTF-8") from None
    patterns = parse_dockerignore(text)
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/")
        kept_dirs = []
        for d in sorted(dirs):
            rel = f"{rel_root}/{d}" if rel_root else d
            if is_excluded(rel, patterns) and not _may_reinclude(rel, patterns):
                continue
            kept_dirs.append(d)
        dirs[:] = kept_dirs
        for f in sorted(files):
            rel = f"{rel_root}/{f}" if rel_root else f
            if not is_excluded(rel, patterns):
                yield rel
