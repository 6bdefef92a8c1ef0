"""What active faults mean in one node's namespace, as the exact text the helper runs; the heal
(sweep) script; the netem command a delay would run; the host script under a real shell."""

from __future__ import annotations

import pytest

from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.faults import scripts
from clusterdeploy.faults.model import concrete
from clusterdeploy.faults.rules import bits, chain_rules, shapes

MEMBERS = [f"node{i}" for i in range(1, 6)] + ["tester"]
ADDRESSES = {m: f"172.28.0.{i + 2}" for i, m in enumerate(MEMBERS)}


def fault(kind: str, fault_id: str, **values) -> object:
    return concrete(FaultDef(kind, **values), MEMBERS, fault_id)


PARTITION = fault("partition", "p1", groups=(("node1", "node2"),))
ONE_WAY = fault("partition", "o1", from_=("node3",), to=("node1",))
LOSS = fault("loss", "l1", nodes=("node1",), peers=("node4",), percent=30)
RATE = fault("rate", "r1", nodes=("node1",), peers=("node4", "node5"), rate="1mbit")
DELAY = fault("delay", "d1", nodes=("node1",), peers=("node4",), delay=0.1, jitter=0.01)


def test_node1_drops_what_comes_from_the_other_side_tagged_with_each_fault():
    assert chain_rules("node1", [PARTITION, ONE_WAY, LOSS], ADDRESSES) == [
        "-A CLUSTERDEPLOY-FAULTS -s 172.28.0.4/32 -m comment --comment clusterdeploy:p1 -j DROP",
        "-A CLUSTERDEPLOY-FAULTS -s 172.28.0.5/32 -m comment --comment clusterdeploy:p1 -j DROP",
        "-A CLUSTERDEPLOY-FAULTS -s 172.28.0.6/32 -m comment --comment clusterdeploy:p1 -j DROP",
        "-A CLUSTERDEPLOY-FAULTS -s 172.28.0.4/32 -m conntrack --ctdir ORIGINAL -m comment "
        "--comment clusterdeploy:o1 -j DROP",
        "-A CLUSTERDEPLOY-FAULTS -s 172.28.0.5/32 -m statistic --mode random --probability "
        "0.30000 -m comment --comment clusterdeploy:l1 -j DROP",
    ]


def test_a_one_way_partition_changes_only_the_node_that_cannot_be_reached():
    assert chain_rules("node3", [ONE_WAY], ADDRESSES) == []
    assert chain_rules("node2", [PARTITION], ADDRESSES) == [
        f"-A CLUSTERDEPLOY-FAULTS -s 172.28.0.{i}/32 -m comment --comment clusterdeploy:p1 "
        f"-j DROP" for i in (4, 5, 6)]
    assert chain_rules("tester", [PARTITION, LOSS], ADDRESSES) == []


def test_shaping_takes_the_lowest_rate_and_adds_the_delays_per_peer():
    found = shapes("node1", [RATE, DELAY], ADDRESSES)
    assert [(s.peer, s.rate, s.delay_ms, s.jitter_ms, s.faults) for s in found] == [
        ("node4", "1mbit", 100.0, 10.0, ("r1", "d1")), ("node5", "1mbit", 0.0, 0.0, ("r1",))]
    assert [s.peer for s in shapes("node4", [RATE, DELAY], ADDRESSES)] == ["node1"]
    assert bits("512kbit") < bits("1mbit") < bits("1.5mbit") < bits("1gbit")


NODE1_SCRIPT = """\
set -u
fail() { echo "@@clusterdeploy-fault-error $*"; exit 1; }
iptables-restore --noflush <<'CLUSTERDEPLOY_RULES' || fail 'iptables-restore failed'
*filter
:CLUSTERDEPLOY-FAULTS - [0:0]
-A CLUSTERDEPLOY-FAULTS -s 172.28.0.5/32 -m statistic --mode random --probability 0.30000 \
-m comment --comment clusterdeploy:l1 -j DROP
COMMIT
CLUSTERDEPLOY_RULES
iptables -w -C INPUT -j CLUSTERDEPLOY-FAULTS 2>/dev/null || iptables -w -I INPUT 1 \
-j CLUSTERDEPLOY-FAULTS || fail 'cannot hook CLUSTERDEPLOY-FAULTS into INPUT'
dev=$(ip -o -4 addr show | awk -v a=172.28.0.2 '{split($4, p, "/"); if (p[1] == a) print $2}')
[ -n "$dev" ] || fail "no interface holds 172.28.0.2"
root=$(tc qdisc show dev "$dev" root)
case "$root" in
  *" cd: root"*) tc qdisc del dev "$dev" root || fail "cannot replace the qdisc";;
  *" 0: root"*|"") ;;
  *) fail "$dev has a qdisc clusterdeploy did not make ($root): remove it first";;
esac
t() { tc "$@" || fail "tc $* failed"; }
t qdisc add dev "$dev" root handle cd: htb default 1
t class add dev "$dev" parent cd: classid cd:1 htb rate 10gbit quantum 60000
# node4 (r1, d1)
t class add dev "$dev" parent cd: classid cd:10 htb rate 1mbit ceil 1mbit quantum 60000
t filter add dev "$dev" parent cd: protocol ip prio 1 u32 match ip dst 172.28.0.5/32 flowid cd:10
t qdisc add dev "$dev" parent cd:10 handle 100: netem delay 100ms 10ms
# node5 (r1)
t class add dev "$dev" parent cd: classid cd:11 htb rate 1mbit ceil 1mbit quantum 60000
t filter add dev "$dev" parent cd: protocol ip prio 1 u32 match ip dst 172.28.0.6/32 flowid cd:11
"""


def test_the_helper_script_of_a_node_golden():
    script = scripts.node_script(ADDRESSES["node1"], chain_rules("node1", [LOSS], ADDRESSES),
                                 shapes("node1", [RATE, DELAY], ADDRESSES))
    assert script == NODE1_SCRIPT


def test_a_delay_would_run_netem_under_the_peers_class():
    script = scripts.node_script(ADDRESSES["node4"], [], shapes("node4", [DELAY], ADDRESSES))
    assert ('t qdisc add dev "$dev" parent cd:10 handle 100: netem delay 100ms 10ms'
            in script.splitlines())
    assert "match ip dst 172.28.0.2/32 flowid cd:10" in script
    assert scripts.PREFLIGHT_DELAY == ["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                       "delay", "1ms"]


SWEEP = """\
set -u
fail() { echo "@@clusterdeploy-fault-error $*"; exit 1; }
if iptables-save -t filter | grep -q "^:CLUSTERDEPLOY-FAULTS "; then
  { echo '*filter'
    iptables-save -t filter | grep -E -- '^-A [A-Z]+ .*-j CLUSTERDEPLOY-FAULTS( |$)' \
| sed 's/^-A /-D /'
    echo '-F CLUSTERDEPLOY-FAULTS'; echo '-X CLUSTERDEPLOY-FAULTS'; echo COMMIT
  } | iptables-restore --noflush || fail 'cannot remove the chain CLUSTERDEPLOY-FAULTS'
fi
if [ "$(iptables-save -t filter | grep -v '^#')" = '*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT' ] && nft list table ip filter >/dev/null 2>&1; then nft delete table ip filter; fi
for dev in $(ls /sys/class/net); do
  case "$(tc qdisc show dev "$dev" root)" in *" cd: root"*)
    tc qdisc del dev "$dev" root || fail "cannot remove the qdisc cd: of $dev";; esac
done
"""


def test_the_heal_of_a_namespace_removes_every_jump_whatever_its_comment_golden():
    assert scripts.sweep_script() == SWEEP
    # a node without rules gets the same removal, and only its own qdisc is touched
    assert scripts.node_script("172.28.0.2", [], []).startswith(SWEEP.split("for dev")[0])


def test_the_host_script_runs_commands_then_helpers_and_reports_each(fake_docker):
    script = scripts.host_script(
        "ci", "helper:1", before=["echo journaled >&2"],
        commands=[scripts.Unit("pause-ci_node4", argv=("docker", "pause", "--", "ci_node4"))],
        helpers=[scripts.Unit("node-node1", "ci_node1", "echo rendered\n")],
        after=['echo "after $now"'])
    done = fake_docker.run(script)
    outcome = scripts.parse_outcome(done.stdout)
    assert outcome.ok and outcome.units == {"pause-ci_node4": (0, ""), "node-node1": (0, "")}
    assert done.stdout.splitlines()[-2] == f"after {outcome.time}"
    assert [c["argv"][0] for c in fake_docker.calls()] == ["pause", "run"]
    assert fake_docker.calls()[1]["stdin"] == "echo rendered\n"
    assert fake_docker.calls()[1]["argv"][1:] == [
        "--rm", "-i", "--pull", "never", "--log-driver", "none", "--network",
        "container:ci_node1", "--cap-add", "NET_ADMIN", "--label",
        "io.clusterdeploy.fault-helper=ci", "--", "helper:1", "sh", "-s"]


def test_a_failing_unit_skips_the_after_lines_and_is_explained(fake_docker):
    fake_docker.state["fail"] = {"pause": "Error response from daemon: Container abc is not "
                                          "running"}
    script = scripts.host_script("ci", "helper:1", commands=[
        scripts.Unit("pause-ci_node4", argv=("docker", "pause", "--", "ci_node4"))],
        after=["echo SHOULD-NOT-RUN"])
    outcome = scripts.parse_outcome(fake_docker.run(script).stdout)
    assert not outcome.ok and "SHOULD-NOT-RUN" not in outcome.text
    status, output = outcome.units["pause-ci_node4"]
    assert status == 1
    assert scripts.unit_error(output) == ("Error response from daemon: Container abc is not "
                                          "running")


@pytest.mark.parametrize(("output", "line"), [
    ("iptables-restore: line 3 failed\n@@clusterdeploy-fault-error iptables-restore failed\n",
     "iptables-restore failed: iptables-restore: line 3 failed"),
    ("", "failed without a message"),
])
def test_unit_errors_keep_the_tools_own_words(output, line):
    assert scripts.unit_error(output) == line
