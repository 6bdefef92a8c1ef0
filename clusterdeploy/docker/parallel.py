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
TRANSIENT = ("*'network '*' not found'*|*'attaching to network failed'*"
             "|*'context deadline exceeded'*")  # shell patterns of a swarm catching up
RETRIES = 5  # attempts of a transient failure, 1 + 2 + 3 + 4 s apart


def _idempotent(command: Sequence[str]) -> bool:
    """Commands that may simply run again after a transient failure."""
    return list(command[:2]) == ["docker", "start"]


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
        # A start that attaches to an overlay network can meet a swarm that is catching up:
        # the network not yet (or no longer) known here, the manager slow to answer. Those
        # answers, and only those, are worth asking again after a moment.
        "again() {",
        "  n=0",
        '  while ! out=$("$@" 2>&1); do',
        "    n=$((n + 1))",
        f'    case "$out" in {TRANSIENT}) [ "$n" -lt {RETRIES} ] && sleep "$n" && continue;; esac',
        '    printf "%s\\n" "$out" >&2; return 1',
        "  done",
        "}",
        "run() {",
        '  name=$1; shift',
        '  if ! out=$("$@" 2>&1); then',
        f"    printf '%s%s\\n%s\\n{FAIL_END}\\n' {q(FAIL_MARK)} \"$name\" \"$out\"",
        "    return 1",
        "  fi",
        "}",
    ]
    for i, (_, commands) in enumerate(units):
        body = " && ".join(f"{'again ' if _idempotent(c) else ''}{shlex.join(c)} >/dev/null"
                           for c in commands) or "true"
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
