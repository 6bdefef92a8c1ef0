"""The multi-host harness: three engines behind SSH on one bridge, a Swarm overlay across them."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .multi_host import (
    SWARM_ADDR_POOL,
    SWARM_ADDR_POOL_MASK,
    DockerHostGroup,
    docker_host_group_fixture,
    engine_ranges,
    forward_rule,
    group_requirements_problem,
)
from .remote_host import HarnessError, RemoteDockerHost, _mountpoints_under

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
IMAGE = "debian:bookworm"
OVERLAY = "cdmh-ov"
OVERLAY_SUBNET = "172.28.250.0/24"
LISTEN_PORT = 7000
# A container that answers every TCP connection on LISTEN_PORT with $WHO (perl-base is in
# minbase Debian; the image has no nc, socat, ping, curl or python).
LISTENER = ["perl", "-MIO::Socket::INET", "-e",
            f"$s = IO::Socket::INET->new(LocalPort => {LISTEN_PORT}, Listen => 16, "
            "ReuseAddr => 1) or die \"listen: $!\"; "
            "while ($c = $s->accept) { print $c \"$ENV{WHO}\\n\"; close $c }"]
# A second group, started next to the module's one, for the kill -9 and teardown checks.
KILLED = {"name": "cdmhk", "count": 2, "subnet": "10.250.1.0/24", "first_slot": 11}

group = docker_host_group_fixture(name="cdmh", count=3)


def fail_or_skip(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def local_docker(*args: str, check: bool = True, timeout: float = 120,
                 input: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          timeout=timeout, env=env, input=input)


def wait_for(check: Callable[[], bool], timeout: float = 30) -> float:
    """Seconds until `check()` holds."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not within {timeout}s: {check}")
        time.sleep(0.1)
    return time.monotonic() - began


def tcp_probe(peer: str, port: int, read: int = 7) -> list[str]:
    """argv: connect to peer:port with bash's /dev/tcp, print what the peer sends first."""
    return ["timeout", "3", "bash", "-c",
            f"exec 3<>/dev/tcp/{peer}/{port} && head -c {read} <&3"]


@pytest.fixture(scope="module")
def image(group: DockerHostGroup) -> str:
    """debian:bookworm in every engine of the group (made with mmdebstrap when missing)."""
    if local_docker("image", "inspect", IMAGE, check=False).returncode != 0:
        if not shutil.which("mmdebstrap"):
            fail_or_skip(f"the main engine has no {IMAGE} and there is no mmdebstrap")
        build = subprocess.Popen(["mmdebstrap", "--variant=minbase", "bookworm", "-"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        subprocess.run(["docker", "import", "-", IMAGE], stdin=build.stdout, check=True,
                       capture_output=True, timeout=600)
        assert build.wait(timeout=60) == 0
    seconds = group.load_image(IMAGE)
    print(f"\nload_image({IMAGE}) into {group.count} engines: {seconds:.2f}s")
    return IMAGE


@pytest.fixture
def clean_swarm(group: DockerHostGroup) -> Iterator[None]:
    group.reset_swarm()
    yield
    group.reset_swarm()
    for i in range(1, group.count + 1):
        assert group.swarm_state(i)["LocalNodeState"] == "inactive"


def test_three_hosts_answer_docker_info_over_ssh(group: DockerHostGroup) -> None:
    assert group.count == 3
    assert group.known_hosts.read_text().count("\n") == 3
    for i in range(1, 4):
        host = group.host(i)
        argv = group.ssh_argv(
            i, "docker info --format '{{.DockerRootDir}} {{.Swarm.LocalNodeState}}'")
        assert "StrictHostKeyChecking=yes" in argv
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
        assert out.stdout.split() == [str(host.data_root), "inactive"]
        # in its own namespace, on the bridge's subnet, with its own docker0 and pool
        addresses = group.ssh(i, "ip -4 -o addr show scope global").stdout
        assert f"{group.address(i)}/24" in addresses and "eth0" not in addresses
        bip, pool = engine_ranges(i)
        subnet = group.docker(i, "network", "inspect", "bridge", "--format",
                              "{{(index .IPAM.Config 0).Subnet}}").stdout.strip()
        assert ipaddress.ip_network(subnet) == ipaddress.ip_interface(bip).network
        assert f"base={pool}" in " ".join(host.dockerd_argv())
    assert group.known_hosts.read_text().count("\n") == 3  # strict: nothing was added


def test_a_host_key_not_in_known_hosts_is_refused(group: DockerHostGroup,
                                                  tmp_path: Path) -> None:
    only_first = tmp_path / "known_hosts"
    only_first.write_text(group.known_hosts.read_text().splitlines()[0] + "\n")
    ok = subprocess.run(group.host(1).ssh_argv("true", known_hosts=only_first),
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(group.host(2).ssh_argv("true", known_hosts=only_first),
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode == 255 and "Host key verification failed" in refused.stderr


def test_namespaces_reach_each_other_across_the_bridge(group: DockerHostGroup) -> None:
    for i in range(1, 4):
        for j in range(1, 4):
            if i != j:
                banner = group.in_namespace(i, *tcp_probe(group.address(j), 22)).stdout
                assert banner == "SSH-2.0", (i, j, banner)
    # without the FORWARD rule, the main engine's DROP policy cuts them apart (here: only ours)
    rule = forward_rule(group.bridge, group.name)
    assert subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                          check=True).stdout.count(group.bridge) == 2  # -i and -o, one rule
    subprocess.run(["iptables", "-w", "10", "-D", "FORWARD", *rule], check=True)
    try:
        cut = group.in_namespace(1, *tcp_probe(group.address(2), 22), check=False)
        assert cut.returncode != 0 and cut.stdout == ""
    finally:
        subprocess.run(["iptables", "-w", "10", "-I", "FORWARD", *rule], check=True)
    banner = group.in_namespace(1, *tcp_probe(group.address(2), 22)).stdout
    assert banner == "SSH-2.0"


def test_pyinfra_reaches_every_host_with_the_written_entries(group: DockerHostGroup) -> None:
    began = time.monotonic()
    result = group.pyinfra("exec", "--", "docker info --format '{{.DockerRootDir}}'")
    print(f"\npyinfra exec on {group.count} hosts: {time.monotonic() - began:.2f}s")
    output = result.stdout + result.stderr
    for i in range(1, 4):
        assert f"[{group.address(i)}] {group.host(i).data_root}" in output, output
    hosts = group.spec_hosts()
    assert [h["name"] for h in hosts] == ["h1", "h2", "h3"]
    assert {h["ssh"]["known_hosts"] for h in hosts} == {str(group.known_hosts)}
    assert [h["ssh"]["address"] for h in hosts] == [group.address(i) for i in range(1, 4)]


def test_a_second_group_of_the_same_name_is_refused(group: DockerHostGroup) -> None:
    with pytest.raises(HarnessError, match="is running"):
        DockerHostGroup(name=group.name).up()
    assert group.ssh(1, "docker info --format '{{.DockerRootDir}}'").stdout.strip() == str(
        group.host(1).data_root)
    assert group.in_namespace(1, *tcp_probe(group.address(3), 22)).stdout == "SSH-2.0"


ATTACH_TIMEOUT = "attaching to network failed"


def run_listener(group: DockerHostGroup, i: int, name: str, ip: str, who: str) -> None:
    """A listener on the overlay, on engine i. A starved manager (load 30 here) fails the
    attachment with "... check manager logs: context deadline exceeded" after ~25 s and leaves
    the container created: removed and tried again (twice at most, said on stdout)."""
    argv = ["run", "-d", "--init", "--name", name, "--hostname", name.split("-")[-1],
            "--network", OVERLAY, "--ip", ip, "-e", f"WHO={who}", IMAGE, *LISTENER]
    for attempt in range(3):
        result = group.docker(i, *argv, check=attempt == 2)
        if result.returncode == 0:
            return
        if ATTACH_TIMEOUT not in result.stderr:
            raise HarnessError(f"docker run {name} on engine {i}: {result.stderr.strip()}")
        print(f"\nRETRY docker run {name} on engine {i}: {result.stderr.strip()}")
        group.docker(i, "rm", "-f", name, check=False)


def icmp_ping(group: DockerHostGroup, i: int, container: str, peer: str) -> bool:
    """One ICMP echo from `container` on engine i, by perl's Net::Ping (the image has no ping;
    minbase has no /etc/protocols either, and Net::Ping looks "icmp" up there)."""
    code = "$p = Net::Ping->new('icmp', 1); exit($p->ping($ARGV[0]) ? 0 : 1)"
    script = ("grep -qs '^icmp' /etc/protocols || echo 'icmp 1 ICMP' >> /etc/protocols; "
              'exec perl -MNet::Ping -e "$0" "$1"')
    return group.docker(i, "exec", container, "bash", "-c", script, code, peer,
                        check=False, timeout=30).returncode == 0


def exchange(group: DockerHostGroup, i: int, container: str, peer: str) -> str:
    """What `peer`'s listener answers to a TCP connection from `container` on engine i."""
    result = group.docker(i, "exec", container, *tcp_probe(peer, LISTEN_PORT, 64), check=False,
                          timeout=30)
    return result.stdout.strip() if result.returncode == 0 else ""


def test_swarm_overlay_across_engines(group: DockerHostGroup, image: str,
                                      clean_swarm: None) -> None:
    timings: dict[str, float] = {}
    a1, a2, a3 = (group.address(i) for i in (1, 2, 3))

    began = time.monotonic()
    group.docker(1, "swarm", "init", "--advertise-addr", a1, "--default-addr-pool",
                 SWARM_ADDR_POOL, "--default-addr-pool-mask-length", str(SWARM_ADDR_POOL_MASK))
    timings["swarm init"] = time.monotonic() - began
    token = group.docker(1, "swarm", "join-token", "-q", "worker").stdout.strip()
    for i in (2, 3):
        began = time.monotonic()
        group.docker(i, "swarm", "join", "--token", token, f"{a1}:2377")
        timings[f"swarm join {i}"] = time.monotonic() - began

    def all_ready() -> bool:
        out = group.docker(1, "node", "ls", "--format", "{{.Status}}").stdout.split()
        return out == ["Ready"] * 3
    timings["3 nodes Ready after last join"] = wait_for(all_ready)
    for i, address in ((1, a1), (2, a2), (3, a3)):
        state = group.swarm_state(i)
        assert state["LocalNodeState"] == "active", state
        assert state["NodeAddr"] == address
        assert state["ControlAvailable"] is (i == 1)
    ingress = json.loads(group.docker(1, "network", "inspect", "ingress", "--format",
                                      "{{json .IPAM.Config}}").stdout)
    print(f"\ningress network: {ingress}")
    assert ipaddress.ip_network(ingress[0]["Subnet"]).subnet_of(
        ipaddress.ip_network(SWARM_ADDR_POOL))

    began = time.monotonic()
    group.docker(1, "network", "create", "--driver", "overlay", "--attachable", "--subnet",
                 OVERLAY_SUBNET, OVERLAY)
    timings["overlay create"] = time.monotonic() - began

    began = time.monotonic()
    run_listener(group, 1, "cdmh-a", "172.28.250.11", "a@h1")
    run_listener(group, 3, "cdmh-b", "172.28.250.13", "b@h3")
    timings["two containers on the overlay (engines 1, 3)"] = time.monotonic() - began
    has_net_ping = group.docker(1, "exec", "cdmh-a", "perl", "-MNet::Ping", "-e", "1",
                                check=False).returncode == 0
    if has_net_ping:
        timings["first cross-host ICMP ping after"] = wait_for(
            lambda: icmp_ping(group, 1, "cdmh-a", "172.28.250.13"))
    timings["first cross-host TCP exchange after"] = wait_for(
        lambda: exchange(group, 1, "cdmh-a", "172.28.250.13") == "b@h3")
    # by name and by IP, both ways
    assert group.docker(1, "exec", "cdmh-a", "getent", "hosts", "cdmh-b").stdout.split()[
        0] == "172.28.250.13"
    assert group.docker(3, "exec", "cdmh-b", "getent", "hosts", "cdmh-a").stdout.split()[
        0] == "172.28.250.11"
    assert exchange(group, 1, "cdmh-a", "cdmh-b") == "b@h3"
    assert exchange(group, 3, "cdmh-b", "cdmh-a") == "a@h1"
    assert exchange(group, 3, "cdmh-b", "172.28.250.11") == "a@h1"
    short = group.docker(1, "exec", "cdmh-a", "getent", "hosts", "b", check=False)
    aliases = group.docker(3, "inspect", "cdmh-b", "--format",
                           f"{{{{json (index .NetworkSettings.Networks {OVERLAY!r}).Aliases}}}}"
                           .replace("'", '"')).stdout.strip()
    print(f"getent hosts b (the --hostname): rc {short.returncode} {short.stdout.strip()!r}; "
          f"aliases of cdmh-b: {aliases}")

    # the same name and --ip again, on ANOTHER engine (2)
    began = time.monotonic()
    group.docker(1, "rm", "-f", "cdmh-a")
    run_listener(group, 2, "cdmh-a", "172.28.250.11", "a@h2")
    timings["remove on 1, create on 2 (same --ip)"] = time.monotonic() - began
    timings["moved container answers by IP after"] = wait_for(
        lambda: exchange(group, 3, "cdmh-b", "172.28.250.11") == "a@h2")
    timings["moved container answers by name after"] = wait_for(
        lambda: exchange(group, 3, "cdmh-b", "cdmh-a") == "a@h2")
    assert exchange(group, 2, "cdmh-a", "cdmh-b") == "b@h3"

    # the overlay goes away on the manager once its containers are gone
    group.docker(2, "rm", "-f", "cdmh-a")
    group.docker(3, "rm", "-f", "cdmh-b")
    began = time.monotonic()
    group.docker(1, "network", "rm", OVERLAY)
    timings["overlay rm on the manager"] = time.monotonic() - began
    assert OVERLAY not in group.docker(1, "network", "ls", "--format", "{{.Name}}").stdout.split()
    on_workers = {i: OVERLAY in group.docker(i, "network", "ls", "--format", "{{.Name}}").stdout
                  .split() for i in (2, 3)}
    print(f"overlay still listed on workers right after rm: {on_workers}")
    print("swarm timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    print(f"group timings: {group.timings}")


KILLED_CHILD = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.integration.multi_host import DockerHostGroup
group = DockerHostGroup({workdir!r}, **{options!r}).up()
group.load_image("debian:bookworm", hosts=[1])
group.docker(1, "swarm", "init", "--advertise-addr", group.address(1))
group.docker(1, "run", "-d", "--init", "debian:bookworm", "sleep", "infinity")
print("READY", flush=True)
time.sleep(600)
"""


def test_killed_run_is_cleaned_up_and_stop_leaves_nothing(tmp_path: Path) -> None:
    problem = group_requirements_problem()
    if problem:
        fail_or_skip(problem)
    if local_docker("image", "inspect", IMAGE, check=False).returncode != 0:
        fail_or_skip(f"the main engine has no {IMAGE}")
    name = KILLED["name"]
    DockerHostGroup.cleanup_leftovers(name)
    code = KILLED_CHILD.format(repo=str(REPO), workdir=str(tmp_path / "killed"), options=KILLED)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.strip() == "READY", line + (child.stderr.read() if child.stderr else "")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    left = DockerHostGroup.leftovers(name)
    print(f"\nleft by the killed run: {len(left)} items")
    assert f"bridge {name}0" in left, left
    assert any(item.startswith("iptables FORWARD rule") for item in left), left
    for i in (1, 2):
        assert f"network namespace /run/netns/{name}{i}" in left, left
    assert any("dockerd" in item for item in left), left
    assert any("sleep infinity" in item for item in left), left  # the container survived
    assert any(item.startswith("mount ") and "/exec/netns/" in item for item in left), left

    with DockerHostGroup.start(tmp_path / "again", **KILLED) as again:
        def lasting(items: list[str]) -> list[str]:  # processes may exit meanwhile
            return [item for item in items if not item.startswith("process ")]
        assert lasting(again.left_by_earlier_run) == lasting(left)
        for i in (1, 2):
            assert again.docker(i, "ps", "-aq").stdout.split() == []  # fresh engines
            assert again.swarm_state(i)["LocalNodeState"] == "inactive"
        assert again.in_namespace(1, *tcp_probe(again.address(2), 22)).stdout == "SSH-2.0"
        # stop must also clear a live swarm with an overlay and a container on it
        again.load_image(IMAGE, hosts=[2])
        again.docker(1, "swarm", "init", "--advertise-addr", again.address(1))
        token = again.docker(1, "swarm", "join-token", "-q", "worker").stdout.strip()
        again.docker(2, "swarm", "join", "--token", token, f"{again.address(1)}:2377")
        again.docker(1, "network", "create", "-d", "overlay", "--attachable", OVERLAY)
        again.docker(2, "run", "-d", "--init", "--network", OVERLAY, IMAGE, "sleep", "infinity")
        assert _mountpoints_under(again.host(2).exec_root / "netns")  # overlay sandboxes
        pids = [int(path.read_text()) for host in again.hosts
                for path in (host.dockerd_pidfile, host.sshd_pidfile)]
        run_dirs = [host.run_dir for host in again.hosts]
    print(f"group after kill -9: {again.timings}")
    assert DockerHostGroup.leftovers(name) == []
    forward = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                             check=True).stdout
    assert f"{name}0" not in forward
    assert not Path(f"/sys/class/net/{name}0").exists()
    for i in range(1, 10):
        assert not Path(f"/run/netns/{name}{i}").exists()
        assert not Path(f"/sys/class/net/{name}{i}0").exists()
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    for run_dir in run_dirs:
        assert not run_dir.exists() and _mountpoints_under(run_dir) == []
    assert not DockerHostGroup.run_dir_for(name).exists()
    assert not DockerHostGroup.lock_path_for(name).exists()
    assert not any(RemoteDockerHost.lock_path_for(f"{name}{i}").exists() for i in (1, 2))
