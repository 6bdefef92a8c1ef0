"""The shell that applies and heals faults. Pure: text in, text out.

Two levels:
- helper scripts run by `sh -s` in the helper container, inside one node's network namespace:
  `node_script` renders the node's whole fault state (the chain's rules, or no chain; the
  shaping of its interface, or none), `sweep_script` removes everything clusterdeploy may have
  left there, `preflight_script` tells whether the kernel has netem;
- `host_script` runs on the Docker host (the Engine's shell, local or over SSH): journal writes
  first, then the container commands (pause, start, ...), then one helper container per node
  (`docker run --rm -i --network container:<node> --cap-add NET_ADMIN`), in parallel; it
  prints each unit's exit status and output, the time everything was in place, and only when
  every unit succeeded runs the `after` lines (nemesis log lines, journal removals).
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from ..core import labels
from .rules import CHAIN, QDISC, Shape

ERROR = "@@clusterdeploy-fault-error"
UNIT = "@@clusterdeploy:unit"
TIME = "@@clusterdeploy:time"
DONE = "@@clusterdeploy:done"
TIME_PLACEHOLDER = "@@TIME@@"
HELPER_LABEL = f"{labels.NAMESPACE}.fault-helper"  # never the cluster label: not a member
EMPTY_FILTER = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT"
DEFAULT_RATE = "10gbit"  # the class of unshaped traffic
QUANTUM = "60000"

_PRELUDE = [
    "set -u",
    f'fail() {{ echo "{ERROR} $*"; exit 1; }}',
]

_REMOVE_CHAIN = [
    f'if iptables-save -t filter | grep -q "^:{CHAIN} "; then',
    "  { echo '*filter'",
    f"    iptables-save -t filter | grep -E -- '^-A [A-Z]+ .*-j {CHAIN}( |$)' "
    "| sed 's/^-A /-D /'",
    f"    echo '-F {CHAIN}'; echo '-X {CHAIN}'; echo COMMIT",
    f"  }} | iptables-restore --noflush || fail 'cannot remove the chain {CHAIN}'",
    "fi",
    # the filter table clusterdeploy made, once it is the empty default again
    f"if [ \"$(iptables-save -t filter | grep -v '^#')\" = {shlex.quote(EMPTY_FILTER)} ] && "
    "nft list table ip filter >/dev/null 2>&1; then nft delete table ip filter; fi",
]

_REMOVE_QDISCS = [
    "for dev in $(ls /sys/class/net); do",
    f'  case "$(tc qdisc show dev "$dev" root)" in *" {QDISC} root"*)',
    f'    tc qdisc del dev "$dev" root || fail "cannot remove the qdisc {QDISC} of $dev";; esac',
    "done",
]


def _chain(rules: Sequence[str]) -> list[str]:
    return [
        "iptables-restore --noflush <<'CLUSTERDEPLOY_RULES' || fail 'iptables-restore failed'",
        "*filter",
        f":{CHAIN} - [0:0]",  # under --noflush: creates the chain, or empties it
        *rules,
        "COMMIT",
        "CLUSTERDEPLOY_RULES",
        f"iptables -w -C INPUT -j {CHAIN} 2>/dev/null || iptables -w -I INPUT 1 -j {CHAIN} "
        f"|| fail 'cannot hook {CHAIN} into INPUT'",
    ]


def _shaping(address: str, found: Sequence[Shape]) -> list[str]:
    q = shlex.quote
    lines = [
        f"dev=$(ip -o -4 addr show | awk -v a={q(address)} "
        "'{split($4, p, \"/\"); if (p[1] == a) print $2}')",
        f'[ -n "$dev" ] || fail "no interface holds {address}"',
        'root=$(tc qdisc show dev "$dev" root)',
        'case "$root" in',
        f'  *" {QDISC} root"*) tc qdisc del dev "$dev" root || fail "cannot replace the qdisc";;',
        '  *" 0: root"*|"") ;;',
        '  *) fail "$dev has a qdisc clusterdeploy did not make ($root): remove it first";;',
        "esac",
        't() { tc "$@" || fail "tc $* failed"; }',
        f't qdisc add dev "$dev" root handle {QDISC} htb default 1',
        f't class add dev "$dev" parent {QDISC} classid {QDISC}1 htb rate {DEFAULT_RATE} '
        f"quantum {QUANTUM}",
    ]
    for i, shape in enumerate(found):
        classid = f"{QDISC}{0x10 + i:x}"
        rate = shape.rate or DEFAULT_RATE
        lines += [
            f"# {shape.peer} ({', '.join(shape.faults)})",
            f't class add dev "$dev" parent {QDISC} classid {classid} htb rate {rate} '
            f"ceil {rate} quantum {QUANTUM}",
            f't filter add dev "$dev" parent {QDISC} protocol ip prio 1 u32 match ip dst '
            f"{shape.address}/32 flowid {classid}",
        ]
        if shape.delay_ms:
            jitter = f" {shape.jitter_ms:g}ms" if shape.jitter_ms else ""
            lines.append(f't qdisc add dev "$dev" parent {classid} handle {0x100 + i:x}: netem '
                         f"delay {shape.delay_ms:g}ms{jitter}")
    return lines


def node_script(address: str, rules: Sequence[str], found: Sequence[Shape]) -> str:
    """Render a node's fault state: its chain holds exactly `rules` (or is gone), its interface
    (the one holding `address`) is shaped exactly as `found` says (or not at all)."""
    lines = [*_PRELUDE, *(_chain(rules) if rules else _REMOVE_CHAIN)]
    lines += _shaping(address, found) if found else _REMOVE_QDISCS
    return "\n".join(lines) + "\n"


def sweep_script() -> str:
    """Remove whatever clusterdeploy may have left in a namespace: the chain and the jumps to
    it (whatever their comments), the qdiscs with its handle."""
    return "\n".join([*_PRELUDE, *_REMOVE_CHAIN, *_REMOVE_QDISCS]) + "\n"


PREFLIGHT_DELAY = ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]


def preflight_script() -> str:
    """In a helper of its own (`--network none`): can this kernel run netem?"""
    return "\n".join([*_PRELUDE, f"{shlex.join(PREFLIGHT_DELAY)} 2>&1 || "
                      'fail "netem $(uname -r)"']) + "\n"


@dataclass(frozen=True)
class Unit:
    """A step of a host script whose exit status and output are reported under `key`: a
    helper run in `container`'s network namespace, or a command on the host (`argv`)."""

    key: str
    container: str = ""
    script: str = ""  # a helper script (node_script, sweep_script), or
    argv: tuple[str, ...] = ()  # a command on the host (docker pause ...)


def helper_argv(image: str, cluster: str, network: str) -> list[str]:
    """The helper container: removed when done, no logs kept, only NET_ADMIN, never pulled."""
    return ["docker", "run", "--rm", "-i", "--pull", "never", "--log-driver", "none",
            "--network", network, "--cap-add", "NET_ADMIN",
            "--label", f"{HELPER_LABEL}={cluster}", "--", image, "sh", "-s"]


def _batches(units: Sequence[Unit], limit: int) -> list[list[Unit]]:
    return [list(units[i:i + limit]) for i in range(0, len(units), max(1, limit))]


def host_script(cluster: str, image: str, *, before: Sequence[str] = (),
                commands: Sequence[Unit] = (), helpers: Sequence[Unit] = (),
                after: Sequence[str] = (), limit: int = 8) -> str:
    """The script for one change on one host (see the module doc); `after` may use `$now`."""
    q = shlex.quote
    lines = ["t=$(mktemp -d) || exit 1", "trap 'rm -rf \"$t\"' EXIT", "ok=1", *before,
             'unit() { key=$1; shift; "$@" >"$t/$key.out" 2>&1; echo $? >"$t/$key.rc"; }']
    for batch in _batches(commands, limit):
        lines += [f"unit {q(u.key)} {shlex.join(u.argv)} &" for u in batch] + ["wait"]
    for batch in _batches(helpers, limit):
        for u in batch:
            encoded = base64.b64encode(u.script.encode()).decode()
            run = shlex.join(helper_argv(image, cluster, f"container:{u.container}"))
            lines.append(f"printf %s {q(encoded)} | base64 -d | unit {q(u.key)} {run} &")
        lines.append("wait")
    keys = " ".join(q(u.key) for u in [*commands, *helpers])
    if keys:
        lines += [f"for k in {keys}; do",
                  '  rc=$(cat "$t/$k.rc" 2>/dev/null || echo 255); [ "$rc" = 0 ] || ok=0',
                  f'  echo "{UNIT} $k $rc"; cat "$t/$k.out" 2>/dev/null',
                  "done"]
    lines += ["now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)", f'echo "{TIME} $now"',
              'if [ "$ok" = 1 ]; then', *(f"  {line}" for line in after or [":"]), "fi",
              f'echo "{DONE} $ok"']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Outcome:
    """What a host script reported."""

    units: dict[str, tuple[int, str]]  # key -> (exit status, output)
    time: str  # RFC 3339 with nanoseconds: when everything was in place
    ok: bool
    text: str  # everything it printed, for errors that fit no unit


def parse_outcome(text: str) -> Outcome:
    units: dict[str, tuple[int, str]] = {}
    current: str | None = None
    time, ok = "", False
    for line in text.splitlines():
        if line.startswith(UNIT + " "):
            key, _, status = line[len(UNIT) + 1:].rpartition(" ")
            current = key
            units[key] = (int(status) if status.lstrip("-").isdigit() else 255, "")
        elif line.startswith(TIME + " "):
            time, current = line[len(TIME) + 1:].strip(), None
        elif line.startswith(DONE + " "):
            ok, current = line.endswith(" 1"), None
        elif current is not None:
            code, output = units[current]
            units[current] = (code, output + line + "\n")
    return Outcome(units, time, ok, text)


def unit_error(output: str) -> str:
    """The one line that says why a unit failed: the helper's own message with the tool's last
    complaint, or Docker's."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    marked = [line[len(ERROR):].strip() for line in lines if line.startswith(ERROR)]
    said = [line for line in lines if not line.startswith(ERROR)]
    if marked:
        return f"{marked[-1]}: {said[-1]}" if said else marked[-1]
    return said[-1] if said else "failed without a message"
