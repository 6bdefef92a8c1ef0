"""A bash script that runs units of docker commands in parallel, at most `limit` at once, and
says which unit failed with what output. Fed on stdin (`bash -s`), so its size is not bounded
by the kernel's limit on one argument."""

from __future__ import annotations

import base64
import posixpath
import shlex
from collections.abc import Mapping, Sequence

FAIL_MARK = "@@clusterdeploy-fail "
FAIL_END = "@@clusterdeploy-fail-end"


def parallel_script(units: Sequence[tuple[str, Sequence[Sequence[str]]]], limit: int,
                    private: tuple[str, Mapping[str, bytes]] | None = None) -> str:
    """Each unit's commands in sequence, at most `limit` units at once.

    A failing unit prints `FAIL_MARK <name>`, its combined output and `FAIL_END`; the script
    exits 1 if any unit failed. `private` is (directory, {name: content}): files only this user
    may read (environment values: never on a command line), in a directory the script makes
    exclusively and removes when it ends.
    """
    q = shlex.quote
    lines = []
    if private:
        directory, files = private
        lines += ["umask 077", f"mkdir -m 700 -- {q(directory)} || exit 1",
                  f"trap 'rm -rf -- {q(directory)}' EXIT"]
        lines += [f"printf %s {q(base64.b64encode(content).decode())} | base64 -d > "
                  f"{q(posixpath.join(directory, name))}" for name, content in files.items()]
    lines += [
        "fail=0",
        "run() {",
        '  name=$1; shift',
        '  if ! out=$("$@" 2>&1); then',
        f"    printf '%s%s\\n%s\\n{FAIL_END}\\n' {q(FAIL_MARK)} \"$name\" \"$out\"",
        "    return 1",
        "  fi",
        "}",
    ]
    for i, (_, commands) in enumerate(units):
        body = " && ".join(f"{shlex.join(c)} >/dev/null" for c in commands) or "true"
        lines.append(f"unit{i}() {{ {body}; }}")
    for i, (name, _) in enumerate(units):
        lines.append(f'while [ "$(jobs -rp | wc -l)" -ge {max(1, limit)} ]; do '
                     "wait -n || fail=1; done")
        lines.append(f"run {q(name)} unit{i} &")
    lines.append('while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || fail=1; done')
    lines.append("wait || fail=1")
    lines.append("exit $fail")
    return "\n".join(lines)


def parse_failures(output: str) -> dict[str, str]:
    """The failing units of a parallel script's output: name -> its output."""
    failures: dict[str, str] = {}
    current: str | None = None
    for line in output.splitlines():
        if line.startswith(FAIL_MARK):
            current = line[len(FAIL_MARK):]
            failures[current] = ""
        elif line == FAIL_END:
            current = None
        elif current is not None:
            failures[current] += line + "\n"
    return {name: text.strip() for name, text in failures.items()}
