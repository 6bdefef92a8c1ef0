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
RETRIES = 8  # attempts of a transient failure, 1 + 2 + ... + 7 s apart (28 s in all)


def _retriable(command: Sequence[str]) -> bool:
    """Commands that may simply run again after a transient failure: a start is idempotent,
    and a create that the daemon refused left no container behind."""
    return list(command[:2]) in (["docker", "start"], ["docker", "create"])


def _steps(commands: Sequence[Sequence[str]]) -> list[str]:
    """A unit's commands as shell steps; a create followed by the start of what it created
    is one `fresh` step."""
    steps: list[str] = []
    i = 0
    while i < len(commands):
        command = commands[i]
        following = commands[i + 1] if i + 1 < len(commands) else None
        if (list(command[:2]) == ["docker", "create"] and following is not None
                and list(following[:2]) == ["docker", "start"]):
            steps.append(f"fresh {shlex.quote(following[-1])} {shlex.join(command)}")
            i += 2
            continue
        steps.append(f"step {int(_retriable(command))} {shlex.join(command)}")
        i += 1
    return steps


def parallel_script(units: Sequence[tuple[str, Sequence[Sequence[str]]]], limit: int,
                    private: tuple[str, Mapping[str, bytes]] | None = None,
                    first_alone: bool = False) -> str:
    """Each unit's commands in sequence, at most `limit` units at once.

    `first_alone`: the first unit ends before the others begin (on an overlay network, a
    container that is attached before the others are replaced keeps the host's part of the
    network up; see `commands.settle_overlay`).

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
        # `step RETRY COMMAND...` runs one command of a unit, its output kept for a failure.
        # A create or start that attaches to an overlay network can meet a swarm that is
        # catching up: the network not yet (or no longer) known on this host, the manager slow
        # to answer. Those answers, and only those, are worth asking again after a moment. A
        # command that fails silently (killed, say) is named with its exit status.
        "step() {",
        "  local retry=$1 n=0 out rc; shift",
        "  while :; do",
        '    out=$("$@" 2>&1) && return 0',
        "    rc=$?; n=$((n + 1))",
        f'    if [ "$retry" = 1 ] && [ "$n" -lt {RETRIES} ]; then',
        f'      case "$out" in {TRANSIENT}) sleep "$n"; continue;; esac',
        "    fi",
        '    [ -n "$out" ] || out="\\`$1 $2\\` exited $rc without output"',
        '    printf "%s\\n" "$out" >&2; return 1',
        "  done",
        "}",
        # `fresh NAME CREATE-COMMAND...` creates NAME and starts it. A container created while
        # its host drops the overlay network (the last container on it just left) never
        # starts: every start answers "network ... not found" (seen on Docker 20.10 to 28).
        # It is removed and created again; only a fresh container attaches.
        "fresh() {",
        "  local name=$1 n=0 out rc; shift",
        "  while :; do",
        '    step 1 "$@" || return 1',
        '    out=$(docker start -- "$name" 2>&1) && return 0',
        "    rc=$?; n=$((n + 1))",
        f'    if [ "$n" -lt {RETRIES} ]; then',
        f'      case "$out" in {TRANSIENT}) docker rm -f -- "$name" >/dev/null 2>&1; '
        'sleep "$n"; continue;; esac',
        "    fi",
        '    [ -n "$out" ] || out="\\`docker start\\` exited $rc without output"',
        '    printf "%s\\n" "$out" >&2; return 1',
        "  done",
        "}",
        "run() {",
        '  local name=$1 out; shift',
        '  if ! out=$("$@" 2>&1); then',
        f"    printf '%s%s\\n%s\\n{FAIL_END}\\n' {q(FAIL_MARK)} \"$name\" \"$out\"",
        "    return 1",
        "  fi",
        "}",
    ]
    for i, (_, commands) in enumerate(units):
        lines.append(f"unit{i}() {{ {' && '.join(_steps(commands)) or 'true'}; }}")
    # Each unit's status is asked of its pid at the end: `wait -n` (used only to keep at most
    # `limit` running) loses the status of a job that ended before it was called.
    lines.append("pids=")
    for i, (name, _) in enumerate(units):
        alone = 1 if first_alone and i == 1 else max(1, limit)
        lines.append(f'while [ "$(jobs -rp | wc -l)" -ge {alone} ]; do wait -n; done')
        lines.append(f'run {q(name)} unit{i} & pids="$pids $!"')
    lines.append('for pid in $pids; do wait "$pid" || fail=1; done')
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
