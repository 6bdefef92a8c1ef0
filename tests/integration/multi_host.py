"""Several "remote" Docker hosts on one host bridge, each reached only over SSH (for Swarm tests).

    with DockerHostGroup.start(tmp_path, count=3) as group:
        group.ssh(1, "docker info")                # host 1 over SSH (strict host-key checking)
        group.docker(2, "ps", "-a")                # engine 2, directly through its socket
        group.load_image("debian:bookworm")        # docker save once, docker load into each
        group.spec_hosts()                         # cluster-spec `hosts:` entries
        group.write_inventory(tmp_path / "inventory.py")   # pyinfra, one group of N hosts
        group.swarm_state(1)                       # `docker info` .Swarm, parsed
        group.reset_swarm()                        # every engine leaves any swarm

or, in a test module, `group = docker_host_group_fixture()` (a fixture named `group`).

What `up()` builds, for real (root only):
- bridge `<name>0` here with `bridge_address` (the subnet's first address), and the rule
  `iptables -I FORWARD -i <bridge> -o <bridge> -m comment --comment <mark> -j ACCEPT`: the
  main dockerd sets the FORWARD policy to DROP, and with br_netfilter loaded (dockerd loads it)
  frames bridged between two namespaces pass the FORWARD chain. `down()` deletes exactly that
  rule (found by its comment, `iptables -D`); no chain is ever flushed.
- hosts `<name>1` ... `<name>N`: each a RemoteDockerHost (remote_host.py) with
  `host_bridge=<bridge>`: its own namespace, veth `<name>I0` as a port of the bridge,
  `<name>I1` in the namespace with address `.10+I` of the subnet, its own dockerd and sshd.
- one `known_hosts` (every host's key) in the group's workdir; each host keeps its own key.

`up()` first removes what a killed run of the same name left (hosts 1-9, the bridge, the rule,
the group directory), and a lock (`/tmp/cdmultihost-<name>.lock`) stops two live groups of one
name. `down()` removes it all; `leftovers(name)` lists what is left (empty when all is gone).

Addresses (none overlaps another, remote_host.py's defaults 10.251.0.0/30, 10.252.0.1/24,
10.253.0.0/16, its second harness 10.251.0.4/30, 10.252.1.1/24, 10.254.0.0/16, the main
engine's 172.17.0.0/16 or the clusters' 172.28.0.0/16):
- 10.250.0.0/24  the host bridge (group "cdmh"): bridge .1, host I .10+I. A second group
  (the kill test's "cdmhk") uses 10.250.1.0/24.
- 10.249.S.1/24  engine slot S's docker0 (`--bip`), S = first_slot + I - 1 (1..15).
- 10.248.16S.0/20 engine slot S's local `--default-address-pool` (size 24: 16 networks, e.g.
  docker_gwbridge, created on swarm join, takes the first).
- 10.246.0.0/16  SWARM_ADDR_POOL, for `docker swarm init --default-addr-pool` (mask 24): the
  ingress network and overlays without `--subnet`. Swarm's default pool, 10.0.0.0/8, contains
  the bridge and every harness range above, and Swarm's allocator does not look at the
  nodes' routes (verified: with `--default-addr-pool 10.250.0.0/16` the ingress network got
  10.250.0.0/24, the very subnet the nodes talk over). With the default, ingress gets
  10.0.0.0/24 and each overlay without a subnet the next /24 (10.0.1.0/24, ...), far from
  10.246-10.254 in practice but not by construction: a swarm should be given this pool (the
  product's overlay networks have explicit subnets in 172.28.0.0/16 anyway).
Engines on different slots never share a range, so two groups can run side by side.

Measured (2 cores shared with other sessions, load 5-9, dockerd 20.10, 3 hosts, 2026-11-28;
test_multi_host_harness.py prints them with -s):
  group start (3 namespaces, engines, sshds; hosts in parallel)      2.5-3.7 s;  stop 3.4-5.3 s
  load_image debian:bookworm (164 MB: save once, 3 loads in parallel)  12-15 s
  swarm init 0.6 s; join 0.16-0.21 s per worker; 3 nodes Ready 0.05-0.13 s after the last join
  overlay network create (--attachable --subnet) 0.04-0.07 s; network rm on the manager <0.1 s
  docker run of a container on the overlay: ~2.2 s (first attachment on an engine)
  first cross-host ICMP ping (engine 1 -> 3) 0.21-0.23 s after both run; TCP 0.15-0.21 s
  same name and --ip again on another engine: rm + run 1.9-2.2 s, answers 0.12-0.16 s later
  reset_swarm (3 nodes leave) ~2 s;  leftover cleanup after kill -9 (2 hosts, a swarm) 4.5-5.7 s
  pyinfra exec on the 3 hosts 3.2-5.8 s

Pitfalls seen:
- A starved manager (load average 30 from other sessions; reproduced by capping the engines'
  processes to 5% CPU with a cpu cgroup) fails `docker run --network <overlay>` after ~25 s with
  "attaching to network failed, make sure your network options are correct and check manager
  logs: context deadline exceeded" (the container stays created) and `docker swarm leave
  --force` with "context deadline exceeded"; at 20% CPU both work (run ~22 s). Both recover
  once the CPU is back. reset_swarm() asks again; the self-test retries such a run.
- dockerd 20.10 adds a container's --hostname as a network alias: `getent hosts b` works.
- A worker may list the overlay for a while after `docker network rm` on the manager.
- Only the network namespace is entered, so /sys is the host's: dockerd logs "enabling default
  vlan on bridge br0 failed open /sys/class/net/br0/bridge/default_pvid: permission denied" for
  each overlay (harmless here). ip_vs is not loaded on this kernel (no /proc/sys/net/ipv4/vs;
  dockerd logs "error reading the kernel parameter net.ipv4.vs.*"): no routing mesh.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .remote_host import (
    PYINFRA,
    HarnessError,
    RemoteDockerHost,
    _link_exists,
    requirements_problem,
    run,
)

DEFAULT_NAME = "cdmh"
DEFAULT_SUBNET = "10.250.0.0/24"
MAX_HOSTS = 9            # host names <name>1..<name>9; leftover cleanup looks at all of them
MAX_SLOT = 15            # 10.248.16S.0/20 must stay inside 10.248.0.0/16
SWARM_ADDR_POOL = "10.246.0.0/16"
SWARM_ADDR_POOL_MASK = 24


def engine_ranges(slot: int) -> tuple[str, str]:
    """(`--bip`, `--default-address-pool` base) of the engine in `slot` (1..MAX_SLOT)."""
    if not 1 <= slot <= MAX_SLOT:
        raise ValueError(f"slot {slot}: 1..{MAX_SLOT}")
    return f"10.249.{slot}.1/24", f"10.248.{16 * slot}.0/20"


def bridge_mac(name: str) -> str:
    """A fixed, locally administered MAC for the bridge (else it follows its ports' MACs)."""
    digest = hashlib.sha1(name.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, 0xcd, *digest[:4]))


def forward_rule_mark(name: str) -> str:
    return f"clusterdeploy-multihost-{name}"


def forward_rule(bridge: str, name: str) -> list[str]:
    """The FORWARD rule's match and target (for iptables -I/-C/-D FORWARD ...)."""
    return ["-i", bridge, "-o", bridge, "-m", "comment", "--comment", forward_rule_mark(name),
            "-j", "ACCEPT"]


def group_requirements_problem() -> str | None:
    problem = requirements_problem()
    if problem:
        return problem
    if not shutil.which("iptables"):
        return "the multi-host harness needs iptables"
    return None


class DockerHostGroup:
    """N Docker hosts (network namespace, dockerd, sshd) on one bridge here (see module doc)."""

    def __init__(self, workdir: Path | str | None = None, *, name: str = DEFAULT_NAME,
                 count: int = 3, subnet: str = DEFAULT_SUBNET, first_slot: int = 1,
                 ssh_port: int = 22, tmpfs_size: str | None = "4g",
                 ready_timeout: float = 60.0, parallel: bool = True) -> None:
        if not (1 <= len(name) <= 12 and name.isalnum()):
            raise ValueError(f"name {name!r}: 1-12 letters or digits (interface names)")
        if not 1 <= count <= MAX_HOSTS:
            raise ValueError(f"count {count}: 1..{MAX_HOSTS}")
        network = ipaddress.ip_network(subnet)
        if network.prefixlen > 27:
            raise ValueError(f"subnet {subnet}: at most a /27 (hosts are .11 to .{10 + count})")
        self.name = name
        self.count = count
        self.subnet = network
        self.bridge = self.bridge_for(name)
        self.bridge_address = str(network.network_address + 1)
        self.run_dir = self.run_dir_for(name)
        self.workdir = Path(workdir) if workdir is not None else self.run_dir / "client"
        self.known_hosts = self.workdir / "known_hosts"
        self.parallel = parallel
        self.timings: dict[str, float] = {}
        self.left_by_earlier_run: list[str] = []
        self.hosts: list[RemoteDockerHost] = []
        for i in range(1, count + 1):
            bip, pool = engine_ranges(first_slot + i - 1)
            self.hosts.append(RemoteDockerHost(
                self.workdir / f"h{i}", name=f"{name}{i}", subnet=subnet,
                host_bridge=self.bridge, address=str(network.network_address + 10 + i),
                bridge_cidr=bip, address_pool=pool, ssh_port=ssh_port, tmpfs_size=tmpfs_size,
                ready_timeout=ready_timeout))
        self._lock: int | None = None

    # -- names shared with leftover cleanup ------------------------------------------------------

    @staticmethod
    def bridge_for(name: str) -> str:
        return f"{name}0"

    @staticmethod
    def run_dir_for(name: str) -> Path:
        return Path(f"/tmp/cdmultihost-{name}")

    @staticmethod
    def lock_path_for(name: str) -> Path:
        return Path(f"/tmp/cdmultihost-{name}.lock")

    @staticmethod
    def host_names_for(name: str) -> list[str]:
        return [f"{name}{i}" for i in range(1, MAX_HOSTS + 1)]

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def start(cls, workdir: Path | str | None = None, **options: Any,
              ) -> Iterator[DockerHostGroup]:
        """Set the group up (after cleaning a killed run's leftovers); always tear it down."""
        group = cls(workdir, **options)
        group.up()
        try:
            yield group
        finally:
            group.down()

    def up(self) -> DockerHostGroup:
        problem = group_requirements_problem()
        if problem:
            raise HarnessError(problem)
        began = time.monotonic()
        self._take_lock()  # outside the try: a live group of this name is not ours to stop
        try:
            cleaned = self.cleanup_leftovers(self.name, _locked=True)
            if cleaned:
                self.timings["cleanup leftovers"] = time.monotonic() - began
            self.left_by_earlier_run = cleaned
            self.run_dir.mkdir(mode=0o700)
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._create_bridge()
            self._each(lambda host: host.up())
            self.known_hosts.write_text("".join(host.known_hosts.read_text()
                                                for host in self.hosts))
        except BaseException:
            with contextlib.suppress(Exception):
                self.down()
            raise
        self.timings["start"] = time.monotonic() - began
        return self

    def down(self) -> None:
        """Stop and remove every host, the rule and the bridge (and a killed run's leftovers)."""
        if self._lock is None:
            return
        began = time.monotonic()
        try:
            def stop(host: RemoteDockerHost) -> Exception | None:
                self._keep_logs(host)
                try:
                    host.down()  # idempotent; cleans by name
                except Exception as exc:  # go on: the others must go too
                    return exc
                return None
            errors = [error for error in self._each(stop) if error is not None]
            self.cleanup_leftovers(self.name, _locked=True)
            if errors:
                raise errors[0]
        finally:
            self._release_lock()
        self.timings["stop"] = time.monotonic() - began

    def _keep_logs(self, host: RemoteDockerHost) -> None:
        """Copy the host's dockerd and sshd logs to its client directory (the run directory,
        a tmpfs, goes away), unless that directory goes away too."""
        if self.workdir.is_relative_to(self.run_dir):
            return
        for log in (host.dockerd_log, host.sshd_log):
            with contextlib.suppress(OSError):
                if log.exists():
                    shutil.copyfile(log, host.workdir / log.name)

    def _each(self, action: Callable[[RemoteDockerHost], Any]) -> list[Any]:
        """`action` on every host, in threads when `parallel` (the first error is raised)."""
        if not self.parallel or len(self.hosts) == 1:
            return [action(host) for host in self.hosts]
        with ThreadPoolExecutor(max_workers=len(self.hosts)) as pool:
            futures = [pool.submit(action, host) for host in self.hosts]
            return [future.result() for future in futures]

    def _take_lock(self) -> None:
        path = self.lock_path_for(self.name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise HarnessError(f"a multi-host group named {self.name!r} is running "
                                   f"(pid {holder or '?'}, lock {path})") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    def _release_lock(self) -> None:
        if self._lock is not None:
            self.lock_path_for(self.name).unlink(missing_ok=True)
            os.close(self._lock)
            self._lock = None

    def _create_bridge(self) -> None:
        if _link_exists(self.bridge):
            raise HarnessError(f"interface {self.bridge} exists (not removed as a leftover)")
        prefix = self.subnet.prefixlen
        for argv in (
            ["ip", "link", "add", self.bridge, "type", "bridge"],
            ["ip", "link", "set", self.bridge, "address", bridge_mac(self.name)],
            ["ip", "addr", "add", f"{self.bridge_address}/{prefix}", "dev", self.bridge],
            ["ip", "link", "set", self.bridge, "up"],
            ["iptables", "-w", "10", "-I", "FORWARD", *forward_rule(self.bridge, self.name)],
        ):
            run(argv)

    # -- helpers for tests -----------------------------------------------------------------------

    def host(self, i: int) -> RemoteDockerHost:
        """Host `i`, counted from 1."""
        if not 1 <= i <= self.count:
            raise IndexError(f"host {i}: 1..{self.count}")
        return self.hosts[i - 1]

    def address(self, i: int) -> str:
        return self.host(i).address

    def ssh_argv(self, i: int, command: str | None = None) -> list[str]:
        """ssh to host `i` with the group's known_hosts (strict host-key checking)."""
        return self.host(i).ssh_argv(command, known_hosts=self.known_hosts)

    def ssh(self, i: int, command: str, *, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
        """A shell command on host `i` over SSH (DOCKER_HOST there is its engine)."""
        return run(self.ssh_argv(i, command), check=check, timeout=timeout, input=input)

    def docker(self, i: int, *args: str, check: bool = True, timeout: float = 120,
               input: str | None = None) -> subprocess.CompletedProcess:
        """The docker CLI against engine `i`, directly through its socket."""
        return self.host(i).docker(*args, check=check, timeout=timeout, input=input)

    def in_namespace(self, i: int, *argv: str, check: bool = True, timeout: float = 60,
                     ) -> subprocess.CompletedProcess:
        """`argv` here, in host `i`'s network namespace (`nsenter --net=...`)."""
        return self.host(i).in_namespace(*argv, check=check, timeout=timeout)

    def load_image(self, ref: str, hosts: list[int] | None = None) -> float:
        """`docker save REF` from the main engine once, `docker load` into engines `hosts` (all
        by default, in parallel); returns the seconds taken."""
        began = time.monotonic()
        targets = [self.host(i) for i in (hosts or range(1, self.count + 1))]
        archive = self.run_dir / f"image-{os.getpid()}.tar"
        try:
            env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
            run(["docker", "save", "-o", str(archive), ref], timeout=600, env=env)
            with ThreadPoolExecutor(max_workers=len(targets)) as pool:
                for future in [pool.submit(host.docker, "load", "-i", str(archive),
                                           timeout=600) for host in targets]:
                    future.result()
        finally:
            archive.unlink(missing_ok=True)
        elapsed = time.monotonic() - began
        self.timings[f"load_image {ref}"] = elapsed
        return elapsed

    def spec_hosts(self, prefix: str = "h", images: str = "ship") -> list[dict[str, Any]]:
        """Cluster-spec `hosts:` entries `<prefix>1`..`<prefix>N` (one known_hosts for all)."""
        return [{"name": f"{prefix}{i}", "images": images, "ssh": {
            "address": host.address, "user": "root", "port": host.ssh_port,
            "key": str(host.client_key), "known_hosts": str(self.known_hosts)}}
            for i, host in enumerate(self.hosts, start=1)]

    def pyinfra_data(self, i: int) -> dict[str, Any]:
        """pyinfra SSH connector data for host `i` (the group's known_hosts)."""
        return {**self.host(i).pyinfra_data(), "ssh_known_hosts_file": str(self.known_hosts)}

    def write_inventory(self, path: Path | str | None = None, *,
                        group: str = "docker_hosts") -> Path:
        """A pyinfra inventory.py with every host (by address) in `group`."""
        path = Path(path) if path is not None else self.workdir / "inventory.py"
        hosts = [(self.address(i), self.pyinfra_data(i)) for i in range(1, self.count + 1)]
        path.write_text(f"# written by tests/integration/multi_host.py\n{group} = {hosts!r}\n")
        return path

    def pyinfra(self, *args: str, inventory: Path | str | None = None,
                cwd: Path | str | None = None, check: bool = True, timeout: float = 600,
                ) -> subprocess.CompletedProcess:
        """`pyinfra -y INVENTORY ARGS...` (every host, by default)."""
        argv = [str(PYINFRA), "-y", str(inventory or self.write_inventory()), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                cwd=cwd or self.workdir)
        if check and result.returncode != 0:
            raise HarnessError(f"pyinfra failed ({result.returncode}):\n"
                               f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        return result

    # -- Swarm: to inspect and to reset (the product, not the harness, creates swarms) ----------

    def swarm_state(self, i: int) -> dict[str, Any]:
        """`docker info --format '{{json .Swarm}}'` of engine `i`, parsed."""
        return json.loads(self.docker(i, "info", "--format", "{{json .Swarm}}").stdout)

    def reset_swarm(self, *, remove_containers: bool = True, timeout: float = 120) -> None:
        """Every engine leaves any swarm (`docker swarm leave --force`), after removing its
        containers (they may sit on overlay networks) unless told not to.

        A starved manager answers `leave` with "context deadline exceeded" (seen at load 30
        on 2 cores): it is asked again until it is inactive or `timeout` has passed."""
        def reset(host: RemoteDockerHost) -> None:
            if remove_containers:
                ids = host.docker("ps", "-aq", timeout=30).stdout.split()
                if ids:
                    host.docker("rm", "-f", "-v", *ids, timeout=120)
            deadline = time.monotonic() + timeout
            while True:
                state = json.loads(host.docker("info", "--format", "{{json .Swarm}}").stdout)
                if state.get("LocalNodeState") == "inactive":
                    return
                leave = host.docker("swarm", "leave", "--force", check=False, timeout=timeout)
                if leave.returncode != 0 and time.monotonic() > deadline:
                    raise HarnessError(f"{host.name}: docker swarm leave --force failed: "
                                       f"{leave.stderr.strip()}")
                if leave.returncode != 0:
                    time.sleep(1)
        began = time.monotonic()
        self._each(reset)
        self.timings["reset_swarm"] = time.monotonic() - began

    # -- leftovers -------------------------------------------------------------------------------

    @classmethod
    def _rule_present(cls, name: str) -> bool:
        argv = ["iptables", "-w", "10", "-C", "FORWARD", *forward_rule(cls.bridge_for(name), name)]
        return run(argv, check=False).returncode == 0

    @classmethod
    def leftovers(cls, name: str = DEFAULT_NAME) -> list[str]:
        """What of a group named `name` exists now (empty when it is fully gone)."""
        found = []
        for host in cls.host_names_for(name):
            found += RemoteDockerHost.leftovers(host)
        bridge = cls.bridge_for(name)
        if _link_exists(bridge):
            found.append(f"bridge {bridge}")
        if cls._rule_present(name):
            found.append(f"iptables FORWARD rule {' '.join(forward_rule(bridge, name))}")
        if cls.run_dir_for(name).exists():
            found.append(f"directory {cls.run_dir_for(name)}")
        return found

    @classmethod
    def cleanup_leftovers(cls, name: str = DEFAULT_NAME, *, _locked: bool = False) -> list[str]:
        """Remove what a killed group named `name` left; returns what was there."""
        if not _locked:
            probe = cls(name=name, count=1)
            probe._take_lock()
            try:
                return cls.cleanup_leftovers(name, _locked=True)
            finally:
                probe._release_lock()
        found = cls.leftovers(name)
        if not found:
            return found
        for host in cls.host_names_for(name):
            if RemoteDockerHost.leftovers(host):
                RemoteDockerHost.cleanup_leftovers(host)  # takes (and frees) its lock
        bridge = cls.bridge_for(name)
        for _ in range(10):  # exactly our rule (by its comment), as often as it was added
            if not cls._rule_present(name):
                break
            run(["iptables", "-w", "10", "-D", "FORWARD", *forward_rule(bridge, name)])
        if _link_exists(bridge):
            if not Path(f"/sys/class/net/{bridge}/bridge").is_dir():
                raise HarnessError(f"{bridge} is not a bridge: not ours, not removed")
            ports = os.listdir(f"/sys/class/net/{bridge}/brif")
            if ports:
                raise HarnessError(f"bridge {bridge} still has ports {ports}: not removed")
            run(["ip", "link", "del", bridge])
        run_dir = cls.run_dir_for(name)
        if run_dir.exists():
            shutil.rmtree(run_dir)
        left = cls.leftovers(name)
        if left:
            raise HarnessError(f"leftovers of multi-host group {name!r} remain: {left}")
        return found


def docker_host_group_fixture(*, scope: str = "module", name: str = DEFAULT_NAME,
                              **options: Any) -> Callable[..., Iterator[DockerHostGroup]]:
    """A pytest fixture (assign it to a module-level name) yielding a started DockerHostGroup.

    Missing prerequisites skip, except in CI (CI=true), where they (and any other set-up
    failure) fail the test.
    """
    import pytest

    @pytest.fixture(scope=scope)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerHostGroup]:
        problem = group_requirements_problem()
        if problem:
            if os.environ.get("CI"):
                pytest.fail(problem)
            pytest.skip(problem)
        with DockerHostGroup.start(tmp_path_factory.mktemp(name), name=name,
                                   **options) as group:
            yield group
        print(f"\nmulti-host group {name!r} timings: "
              + ", ".join(f"{k} {v:.2f}s" for k, v in group.timings.items()))

    return fixture
