"""The frame of a batched shell script: its docker calls run at once, each call's output,
errors and exit status kept in a private temporary folder; what it prints is sections, each
begun by a MARK line (an `error` section when a call failed, instead of the state). Used by
the observation (observe.py) and the image listing (imagereads.py)."""

from __future__ import annotations

MARK = "@@clusterdeploy:"
PREAMBLE = (
    't=$(mktemp -d) || exit 1',
    'trap \'rm -rf "$t"\' EXIT',
    'call() { name=$1; shift; "$@" >"$t/$name" 2>"$t/$name.err"; echo $? >"$t/$name.rc"; }',
)


def fail_on_error(part: str) -> list[str]:
    """The `error` section and the end of the script when call `part` failed."""
    return [f'  if [ "$(cat "$t/{part}.rc" 2>/dev/null)" != 0 ]; then',
            f'    echo {MARK}error; cat "$t/{part}.err"; exit 0',
            "  fi"]


def read_sections(text: str) -> dict[str, list[str]]:
    """The script's output by section name."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK):].strip(), [])
        elif current is not None:
            current.append(line)
    return sections
