"""A bash script that runs units of docker commands in parallel, at most `limit` at once, and
says which unit failed with what output. Fed on stdin (`bash -s`), so its size is not bounded
by the kernel's limit on one argument."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

FAIL_MARK = "@@clusterdeploy-fail "
FAIL_END = "@@clusterdeploy-fail-end"


def parallel_script(units: Sequence[tuple[str, Sequence[Sequence[str]]]], limit: int) -> str:
    """Each unit's commands in sequence, at most `limit` units at once.

    A failing unit prints `FAIL_MARK <name>`, its combined output and `FAIL_END`; the script
    exits 1 if any unit failed.
    """
    q = shlex.quote
    lines = [
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
