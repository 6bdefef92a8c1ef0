"""A "remote" Docker host for tests: a second engine and an sshd in a network namespace.

    with RemoteDockerHost.start(tmp_path) as remote:
        remote.ssh("docker info")                  # over SSH, DOCKER_HOST set by sshd
        remote.docker("ps", "-a")                  # the namespace engine, from here
        remote.load_image("my-db:latest")          # docker save | docker load
        remote.write_inventory(tmp_path / "inventory.py")   # pyinfra host data

or, in a test module, `remote = remote_docker_host_fixture()` (a fixture named `remote`).

What `up()` builds, for real (root only):
- network namespace `<name>` (`/run/netns/<name>`), veth `<name>0` (here, `host_address`) and
  `<name>1` (in the namespace, `address`, loopback up too), in a private /30: the tests reach
  only that host; or, with `host_bridge=BRIDGE` (an existing bridge here, owned by the caller,
  e.g. multi_host.py), `<name>0` is a port of that bridge without an address and `<name>1`
  gets `address` in the bridge's `subnet`: several hosts on one bridge reach each other;
- `nsenter --net=/run/netns/<name> dockerd` with its own data root, exec root, pid file, socket,
  config file, cgroup parent and containerd namespaces, under `/tmp/cdremote-<name>/` (a tmpfs
  by default, `tmpfs_size=None` for disk; `ip netns exec` is not used: it remounts /sys and
  hides the cgroups);
- `nsenter --net=... sshd -D` on `address:ssh_port`: host key and client key generated here,
  key-only root login, `SetEnv DOCKER_HOST=unix://<socket>` so `ssh root@address docker ...`
  talks to that engine; `known_hosts` written here (host-key checking stays on).

`down()` removes the engine's containers and networks, stops sshd and dockerd by their pid
files, kills what they left (verified: in the namespace, in the engine's cgroup, or a docker
binary naming the run directory), unmounts what is left under the run directory, deletes the
veth and the namespace and removes the run directory. `up()` first does the same to whatever a
killed earlier run of the same name left, so a run after `kill -9` works. A lock file
(`/tmp/cdremote-<name>.lock`, flock) stops two live harnesses of one name from fighting.

Pitfalls: sshd's privilege separation needs /run/sshd (created if missing, never removed);
StrictModes is off because /tmp is world-writable; every SSH command sources root's .bashrc.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_NAME = "cdremote"
DEFAULT_SUBNET = "10.251.0.0/30"
# Binaries whose command line naming our run directory proves they are ours.
OWN_BINARIES = frozenset({
    "dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy",
    "runc", "sshd", "docker-init", "tini",
})
PYINFRA = Path(sys.executable).parent / "pyinfra"


class HarnessError(RuntimeError):
    """The remote test host could not be set up or torn down."""


def run(argv: list[str], *, check: bool = True, timeout: float = 60,
        env: dict[str, str] | None = None, input: str | None = None,
        ) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                            input=input)
    if check and result.returncode != 0:
        raise HarnessError(f"{shlex.join(argv)} failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def generate_key(path: Path, comment: str = "cdremote") -> Path:
    """A new ed25519 key pair without passphrase at `path` and `path.pub`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return path


def requirements_problem() -> str | None:
    """Why the harness cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "the remote-host harness needs root (network namespaces, dockerd, sshd)"
    missing = [tool for tool in ("ip", "nsenter", "dockerd", "docker", "ssh", "ssh-keygen",
                                 "umount") if not shutil.which(tool)]
    if not Path("/usr/sbin/sshd").exists():
        missing.append("/usr/sbin/sshd (openssh-server)")
    if missing:
        return f"the remote-host harness needs {', '.join(missing)}"
    return None


# --- processes --------------------------------------------------------------------------------

def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        return ""


def _exe_name(pid: int) -> str:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (a zombie, waiting for a parent that never reaps it, does not count)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our child (else a no-op)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        for pid in pids:
            _reap(pid)
        left = [pid for pid in pids if _alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _stop(pids: list[int], timeout: float) -> None:
    """SIGTERM, then SIGKILL what is still running after `timeout`."""
    _signal(pids, signal.SIGTERM)
    left = _wait_gone(pids, timeout)
    if left:
        _signal(left, signal.SIGKILL)
        left = _wait_gone(left, 10)
    if left:
        raise HarnessError(f"processes do not die: {[_cmdline(p) or p for p in left]}")


def _mountpoints_under(directory: Path) -> list[str]:
    prefix = str(directory)
    points = []
    for line in _read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")  # \040 etc.
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return points


def _unmount_all(directory: Path) -> None:
    """Unmount everything at or under `directory`, deepest first (stacked mounts too)."""
    for _ in range(20):
        points = _mountpoints_under(directory)
        if not points:
            return
        for point in sorted(points, key=lambda p: p.count("/"), reverse=True):
            if run(["umount", point], check=False).returncode != 0:
                run(["umount", "-l", point], check=False)


def _cgroup_mounts() -> list[str]:
    points = []
    for line in _read("/proc/self/mountinfo").splitlines():
        pre, _, post = line.partition(" - ")
        if post.split()[:1] in (["cgroup"], ["cgroup2"]):
            points.append(pre.split()[4])
    return points


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


# --- the harness ------------------------------------------------------------------------------

class RemoteDockerHost:
    """A Docker host reached over SSH, in a network namespace of its own (see module doc)."""

    def __init__(self, workdir: Path | str | None = None, *, name: str = DEFAULT_NAME,
                 subnet: str = DEFAULT_SUBNET, bridge_cidr: str = "10.252.0.1/24",
                 address_pool: str = "10.253.0.0/16", ssh_port: int = 22,
                 tmpfs_size: str | None = "8g", ready_timeout: float = 60.0,
                 host_bridge: str | None = None, address: str | None = None) -> None:
        if not (1 <= len(name) <= 14 and name.replace("-", "").isalnum()):
            raise ValueError(f"name {name!r}: 1-14 letters, digits or '-' (interface names)")
        network = ipaddress.ip_network(subnet)
        self.name = name
        self.subnet = network
        self.host_bridge = host_bridge
        if host_bridge is None:
            if network.prefixlen != 30 or address is not None:
                raise ValueError(f"subnet {subnet}: a /30 (host side, namespace side); "
                                 "address= only with host_bridge=")
            self.host_address, self.address = (str(a) for a in network.hosts())
        else:
            # on a bridge: the bridge (the caller's) has the subnet's first address
            bridge_address = network.network_address + 1
            if address is None or not (bridge_address < ipaddress.ip_address(address)
                                       < network.broadcast_address):
                raise ValueError(f"address {address!r}: one of subnet {subnet}'s addresses "
                                 f"after the bridge's {bridge_address}")
            self.host_address, self.address = str(bridge_address), address
        self.bridge_cidr = bridge_cidr
        self.address_pool = address_pool
        self.ssh_port = ssh_port
        self.tmpfs_size = tmpfs_size
        self.ready_timeout = ready_timeout
        self.run_dir = self.run_dir_for(name)
        self.workdir = Path(workdir) if workdir is not None else self.run_dir / "client"
        self.netns = name
        self.netns_path = Path("/run/netns") / name
        self.host_ifname, self.ns_ifname = f"{name}0", f"{name}1"
        self.cgroup_parent = f"{name}-engine"
        self.data_root = self.run_dir / "data"
        self.exec_root = self.run_dir / "exec"
        self.socket = self.run_dir / "docker.sock"
        self.docker_host = f"unix://{self.socket}"
        self.dockerd_pidfile = self.run_dir / "dockerd.pid"
        self.dockerd_log = self.run_dir / "dockerd.log"
        self.sshd_dir = self.run_dir / "sshd"
        self.sshd_config = self.sshd_dir / "sshd_config"
        self.host_key = self.sshd_dir / "ssh_host_ed25519_key"
        self.authorized_keys = self.sshd_dir / "authorized_keys"
        self.sshd_pidfile = self.run_dir / "sshd.pid"
        self.sshd_log = self.run_dir / "sshd.log"
        self.client_key = self.workdir / "id_ed25519"
        self.known_hosts = self.workdir / "known_hosts"
        self.timings: dict[str, float] = {}
        self.left_by_earlier_run: list[str] = []
        self._dockerd: subprocess.Popen | None = None
        self._sshd: subprocess.Popen | None = None
        self._lock: int | None = None
        self._up = False

    # -- names and paths shared with leftover cleanup -------------------------------------------

    @staticmethod
    def run_dir_for(name: str) -> Path:
        return Path(f"/tmp/cdremote-{name}")

    @staticmethod
    def lock_path_for(name: str) -> Path:
        return Path(f"/tmp/cdremote-{name}.lock")

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def start(cls, workdir: Path | str | None = None, **options: Any,
              ) -> Iterator[RemoteDockerHost]:
        """Set the host up (after cleaning a killed run's leftovers); always tear it down."""
        remote = cls(workdir, **options)
        remote.up()
        try:
            yield remote
        finally:
            remote.down()

    def up(self) -> RemoteDockerHost:
        problem = requirements_problem()
        if problem:
            raise HarnessError(problem)
        began = time.monotonic()
        self._take_lock()  # outside the try: a live harness of this name is not ours to stop
        try:
            cleaned = self.cleanup_leftovers(self.name, _locked=True)
            if cleaned:
                self.timings["cleanup leftovers"] = time.monotonic() - began
            self.left_by_earlier_run = cleaned
            self._check_addresses_free()
            self.run_dir.mkdir(mode=0o700)
            if self.tmpfs_size:
                # the engine's data in memory: fast loads, and removal is one umount (deleting
                # an image's files one by one takes seconds on this disk, mounted `discard`)
                run(["mount", "-t", "tmpfs", "-o", f"size={self.tmpfs_size},mode=0700",
                     f"cdremote-{self.name}", str(self.run_dir)])
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._create_network()
            self._start_dockerd()
            self._prepare_ssh()
            self.start_sshd()
            self._up = True
        except BaseException:
            with contextlib.suppress(Exception):
                self.down()
            raise
        self.timings["start"] = time.monotonic() - began
        return self

    def down(self) -> None:
        """Stop and remove everything this harness (or a killed run of its name) started."""
        if self._lock is None:
            return  # never set up, or already down
        began = time.monotonic()
        try:
            if self._sshd is not None or self._dockerd is not None or self._up:
                self._remove_engine_objects()
            self.stop_sshd()
            self._stop_dockerd()
            self.cleanup_leftovers(self.name, _locked=True)
        finally:
            self._up = False
            self._release_lock()
        self.timings["stop"] = time.monotonic() - began

    def _take_lock(self) -> None:
        path = self.lock_path_for(self.name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise HarnessError(f"a remote-host harness named {self.name!r} is running "
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

    # -- network ---------------------------------------------------------------------------------

    def _check_addresses_free(self) -> None:
        routes = run(["ip", "-4", "-o", "addr", "show"]).stdout
        # on a bridge, the host side's address is the bridge's (there, by design)
        mine = (self.address,) if self.host_bridge else (self.host_address, self.address)
        for address in mine:
            if f" {address}/" in routes:
                raise HarnessError(f"address {address} of subnet {self.subnet} is already in "
                                   f"use here; choose another subnet=")

    def _create_network(self) -> None:
        prefix = self.subnet.prefixlen
        ns = ["ip", "-n", self.netns]
        if self.host_bridge is None:
            host_side = ["ip", "addr", "add", f"{self.host_address}/{prefix}", "dev",
                         self.host_ifname]
        elif Path(f"/sys/class/net/{self.host_bridge}/bridge").is_dir():
            host_side = ["ip", "link", "set", self.host_ifname, "master", self.host_bridge]
        else:
            raise HarnessError(f"host_bridge {self.host_bridge!r} is not a bridge here")
        for argv in (
            ["ip", "netns", "add", self.netns],
            ["ip", "link", "add", self.host_ifname, "type", "veth", "peer", "name",
             self.ns_ifname],
            ["ip", "link", "set", self.ns_ifname, "netns", self.netns],
            host_side,
            ["ip", "link", "set", self.host_ifname, "up"],
            [*ns, "addr", "add", f"{self.address}/{prefix}", "dev", self.ns_ifname],
            [*ns, "link", "set", self.ns_ifname, "up"],
            [*ns, "link", "set", "lo", "up"],
        ):
            run(argv)

    def nsenter(self, *argv: str) -> list[str]:
        """`argv` run inside the namespace's network (only the network namespace)."""
        return ["nsenter", f"--net={self.netns_path}", *argv]

    def in_namespace(self, *argv: str, check: bool = True, timeout: float = 60,
                     ) -> subprocess.CompletedProcess:
        """Run a command here, in the test host's network namespace (e.g. curl a port)."""
        return run(self.nsenter(*argv), check=check, timeout=timeout)

    # -- dockerd --------------------------------------------------------------------------------

    def dockerd_argv(self) -> list[str]:
        config = self.run_dir / "daemon.json"
        return self.nsenter(
            "dockerd",
            "--config-file", str(config),          # not /etc/docker/daemon.json
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.dockerd_pidfile),
            "--host", self.docker_host,
            "--bip", self.bridge_cidr,
            "--default-address-pool", f"base={self.address_pool},size=24",
            "--cgroup-parent", f"/{self.cgroup_parent}",
            "--containerd-namespace", f"{self.name}-moby",
            "--containerd-plugins-namespace", f"{self.name}-plugins",
        )

    def _start_dockerd(self) -> None:
        (self.run_dir / "daemon.json").write_text("{}\n")
        began = time.monotonic()
        with open(self.dockerd_log, "ab") as log:
            self._dockerd = subprocess.Popen(self.dockerd_argv(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log, start_new_session=True)
        self._wait("dockerd", self._dockerd, self.dockerd_log,
                   lambda: self.docker("version", "--format", "{{.Server.Version}}",
                                       check=False, timeout=10).returncode == 0)
        self.timings["dockerd ready"] = time.monotonic() - began

    def _wait(self, what: str, process: subprocess.Popen, log: Path,
              ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while not ready():
            if process.poll() is not None:
                raise HarnessError(f"{what} exited ({process.returncode}): "
                                   f"{_read(log).strip()[-1500:]}")
            if time.monotonic() > deadline:
                raise HarnessError(f"{what} not ready within {self.ready_timeout}s: "
                                   f"{_read(log).strip()[-1500:]}")
            time.sleep(0.05)

    def _remove_engine_objects(self) -> None:
        """Every container and user-made network of the namespace engine (if it answers)."""
        if not self.socket.exists():
            return
        ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
        if ids:
            self.docker("rm", "-f", "-v", *ids, check=False, timeout=120)
        nets = self.docker("network", "ls", "-q", "--filter", "type=custom", check=False,
                           timeout=30).stdout.split()
        if nets:
            self.docker("network", "rm", *nets, check=False, timeout=60)

    def _stop_dockerd(self) -> None:
        pid = self._verified_pid(self.dockerd_pidfile, "dockerd", self.run_dir)
        if pid is None and self._dockerd is not None and self._dockerd.poll() is None:
            pid = self._dockerd.pid  # started, pid file not yet written
        if pid is not None:
            _stop([pid], timeout=30)
        if self._dockerd is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._dockerd.wait(timeout=5)
            self._dockerd = None

    # -- sshd -----------------------------------------------------------------------------------

    def _prepare_ssh(self) -> None:
        self.sshd_dir.mkdir(mode=0o700, exist_ok=True)
        generate_key(self.host_key, f"{self.name}-host")
        generate_key(self.client_key, f"{self.name}-client")
        self.authorized_keys.write_text(Path(f"{self.client_key}.pub").read_text())
        self.authorized_keys.chmod(0o600)
        self.sshd_config.write_text("\n".join([
            f"ListenAddress {self.address}:{self.ssh_port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.sshd_pidfile}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PermitRootLogin prohibit-password",
            "AllowUsers root",
            "AuthenticationMethods publickey",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "UsePAM no",
            "StrictModes no",            # the run directory is under world-writable /tmp
            "UseDNS no",
            "PrintMotd no",
            "X11Forwarding no",
            "AllowTcpForwarding yes",
            "MaxSessions 64",            # pyinfra opens one channel per command
            "MaxStartups 64:30:128",
            f"SetEnv DOCKER_HOST={self.docker_host}",
            "Subsystem sftp internal-sftp",   # pyinfra uploads files over SFTP
            "",
        ]))
        host_key = Path(f"{self.host_key}.pub").read_text().split()[:2]
        entry = (self.address if self.ssh_port == 22 else f"[{self.address}]:{self.ssh_port}")
        self.known_hosts.write_text(f"{entry} {' '.join(host_key)}\n")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        run(self.nsenter("/usr/sbin/sshd", "-t", "-f", str(self.sshd_config)))

    def start_sshd(self) -> None:
        """Start (or restart) the test host's sshd and wait until a real login works."""
        if self._sshd is not None and self._sshd.poll() is None:
            return
        began = time.monotonic()
        self.sshd_log.unlink(missing_ok=True)
        self._sshd = subprocess.Popen(
            self.nsenter("/usr/sbin/sshd", "-D", "-f", str(self.sshd_config),
                         "-E", str(self.sshd_log)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self._wait("sshd", self._sshd, self.sshd_log, self._ssh_port_open)
        self._wait("sshd login", self._sshd, self.sshd_log,
                   lambda: self.ssh("true", check=False, timeout=10).returncode == 0)
        self.timings["sshd ready"] = time.monotonic() - began

    def set_sftp(self, enabled: bool) -> None:
        """Give sshd the SFTP subsystem or take it away (as minimal hosts have none), and
        restart it."""
        line = "Subsystem sftp internal-sftp"
        lines = [entry for entry in self.sshd_config.read_text().splitlines() if entry != line]
        self.sshd_config.write_text("\n".join([*lines, *([line] if enabled else []), ""]))
        self.stop_sshd()
        self.start_sshd()

    def stop_sshd(self) -> None:
        """Stop sshd by its pid file (the engine keeps running): for 'unreachable' tests."""
        pid = self._verified_pid(self.sshd_pidfile, "sshd", self.sshd_config)
        if pid is None and self._sshd is not None and self._sshd.poll() is None:
            pid = self._sshd.pid
        if pid is not None:
            _stop([pid], timeout=10)
        if self._sshd is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._sshd.wait(timeout=5)
            self._sshd = None

    def _ssh_port_open(self) -> bool:
        try:
            with socket.create_connection((self.address, self.ssh_port), timeout=1):
                return True
        except OSError:
            return False

    @staticmethod
    def _verified_pid(pidfile: Path, binary: str, mark: Path) -> int | None:
        """The pid in `pidfile` if it is a live `binary` whose command line names `mark`."""
        pid = _pid_from_file(pidfile)
        if pid is None or not _alive(pid):
            return None
        if _exe_name(pid) != binary or str(mark) not in _cmdline(pid):
            return None
        return pid

    # -- helpers for tests ----------------------------------------------------------------------

    def ssh_argv(self, command: str | None = None, *, key: Path | str | None = None,
                 known_hosts: Path | str | None = None) -> list[str]:
        argv = [
            "ssh", "-F", "/dev/null",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts or self.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none",
            "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR",
            "-i", str(key or self.client_key),
            "-p", str(self.ssh_port),
            f"root@{self.address}",
        ]
        return [*argv, command] if command is not None else argv

    def ssh(self, command: str, *, check: bool = True, timeout: float = 120,
            key: Path | str | None = None, input: str | None = None,
            ) -> subprocess.CompletedProcess:
        """Run a shell command on the test host over SSH (DOCKER_HOST is set there)."""
        return run(self.ssh_argv(command, key=key), check=check, timeout=timeout, input=input)

    def docker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
        env["DOCKER_HOST"] = self.docker_host
        return env

    def docker(self, *args: str, check: bool = True, timeout: float = 120,
               input: str | None = None) -> subprocess.CompletedProcess:
        """The docker CLI against the namespace engine, directly through its socket."""
        return run(["docker", *args], check=check, timeout=timeout, env=self.docker_env(),
                   input=input)

    def load_image(self, ref: str) -> float:
        """`docker save REF | DOCKER_HOST=<ns engine> docker load`; returns the seconds taken."""
        began = time.monotonic()
        save = subprocess.Popen(["docker", "save", ref], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        load = subprocess.run(["docker", "load"], stdin=save.stdout, capture_output=True,
                              text=True, env=self.docker_env(), timeout=600)
        assert save.stdout is not None
        save.stdout.close()
        save_err = save.stderr.read().decode(errors="replace") if save.stderr else ""
        if save.stderr:
            save.stderr.close()
        save_rc = save.wait(timeout=60)
        if save_rc != 0 or load.returncode != 0:
            raise HarnessError(f"shipping {ref} failed: save {save_rc} {save_err.strip()}; "
                               f"load {load.returncode} {load.stderr.strip()}")
        elapsed = time.monotonic() - began
        self.timings[f"load_image {ref}"] = elapsed
        return elapsed

    def pyinfra_data(self, key: Path | str | None = None) -> dict[str, Any]:
        """pyinfra SSH connector host data for the test host (host-key checking on)."""
        return {
            "ssh_hostname": self.address,
            "ssh_user": "root",
            "ssh_port": self.ssh_port,
            "ssh_key": str(key or self.client_key),
            "ssh_known_hosts_file": str(self.known_hosts),
            "ssh_strict_host_key_checking": "yes",
            # paramiko would otherwise also try ~/.ssh/id_* and an agent
            "ssh_paramiko_connect_kwargs": {"allow_agent": False, "look_for_keys": False},
        }

    def write_inventory(self, path: Path | str | None = None, *, group: str = "docker_hosts",
                        host: str | None = None, key: Path | str | None = None,
                        extra_data: dict[str, Any] | None = None) -> Path:
        """A pyinfra inventory.py with one host (the test host) in `group`."""
        path = Path(path) if path is not None else self.workdir / "inventory.py"
        data = {**self.pyinfra_data(key), **(extra_data or {})}
        path.write_text(f"# written by tests/integration/remote_host.py\n"
                        f"{group} = [({(host or self.address)!r}, {data!r})]\n")
        return path

    def pyinfra(self, *args: str, inventory: Path | str | None = None,
                cwd: Path | str | None = None, check: bool = True, timeout: float = 600,
                ) -> subprocess.CompletedProcess:
        """`pyinfra -y INVENTORY ARGS...` (the inventory written by write_inventory by default)."""
        inventory = inventory or self.write_inventory()
        argv = [str(PYINFRA), "-y", str(inventory), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                cwd=cwd or self.workdir)
        if check and result.returncode != 0:
            raise HarnessError(f"{shlex.join(argv)} failed ({result.returncode}):\n"
                               f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        return result

    # -- leftovers -------------------------------------------------------------------------------

    @classmethod
    def leftovers(cls, name: str = DEFAULT_NAME) -> list[str]:
        """What of a harness named `name` exists now (empty when it is fully gone)."""
        found = []
        run_dir = cls.run_dir_for(name)
        if Path(f"/run/netns/{name}").exists():
            found.append(f"network namespace /run/netns/{name}")
        if _link_exists(f"{name}0"):
            found.append(f"veth {name}0")
        found += [f"process {pid}: {_cmdline(pid)}" for pid in cls._own_processes(name)]
        found += [f"mount {point}" for point in _mountpoints_under(run_dir)]
        found += [f"cgroup {path}" for path in cls._cgroup_dirs(name)]
        if run_dir.exists():
            found.append(f"directory {run_dir}")
        return found

    @classmethod
    def cleanup_leftovers(cls, name: str = DEFAULT_NAME, *, _locked: bool = False) -> list[str]:
        """Remove what a killed harness named `name` left; returns what was there."""
        if not _locked:
            probe = cls(name=name)
            probe._take_lock()
            try:
                return cls.cleanup_leftovers(name, _locked=True)
            finally:
                probe._release_lock()
        found = cls.leftovers(name)
        if not found:
            return found
        run_dir = cls.run_dir_for(name)
        socket_path = run_dir / "docker.sock"
        dockerd = cls._verified_pid(run_dir / "dockerd.pid", "dockerd", run_dir)
        if dockerd is not None and socket_path.exists():
            env = {**os.environ, "DOCKER_HOST": f"unix://{socket_path}"}
            ids = run(["docker", "ps", "-aq"], check=False, env=env, timeout=20).stdout.split()
            if ids:
                run(["docker", "rm", "-f", *ids], check=False, env=env, timeout=60)
        if dockerd is not None:
            _stop([dockerd], timeout=30)
        sshd = cls._verified_pid(run_dir / "sshd.pid", "sshd", run_dir)
        if sshd is not None:
            _stop([sshd], timeout=10)
        own = cls._own_processes(name)
        if own:
            _signal(own, signal.SIGKILL)
            left = _wait_gone(own, 10)
            if left:
                raise HarnessError(f"leftover processes do not die: {left}")
        _unmount_all(run_dir)
        for path in cls._cgroup_dirs(name):
            with contextlib.suppress(OSError):
                path.rmdir()
        if _link_exists(f"{name}0"):
            run(["ip", "link", "del", f"{name}0"], check=False)
        netns = Path(f"/run/netns/{name}")
        if netns.exists():
            run(["ip", "netns", "del", name], check=False)
            if netns.exists():  # a stale file whose mount is gone
                with contextlib.suppress(OSError):
                    netns.unlink()
        if run_dir.exists():
            mounts = _mountpoints_under(run_dir)
            if mounts:
                raise HarnessError(f"cannot unmount {mounts}")
            shutil.rmtree(run_dir)
        left = cls.leftovers(name)
        if left:
            raise HarnessError(f"leftovers of remote host {name!r} remain: {left}")
        return found

    @staticmethod
    def _own_processes(name: str) -> list[int]:
        """Live processes of a harness named `name`, each proven ours: in its network namespace,
        in its engine's cgroup, or a docker/sshd binary whose command line names its run dir."""
        try:
            netns = os.stat(f"/run/netns/{name}")
            netns_id: tuple[int, int] | None = (netns.st_dev, netns.st_ino)
        except OSError:
            netns_id = None
        run_dir = str(RemoteDockerHost.run_dir_for(name))
        cgroup = f"/{name}-engine/"
        me = os.getpid()
        found = []
        for pid in _pids():
            if pid in (1, me) or not _alive(pid):
                continue
            try:
                ns = os.stat(f"/proc/{pid}/ns/net")
                in_netns = netns_id is not None and (ns.st_dev, ns.st_ino) == netns_id
            except OSError:
                continue
            in_cgroup = any(line.split(":", 2)[-1].startswith(cgroup)
                            for line in _read(f"/proc/{pid}/cgroup").splitlines())
            named = (_exe_name(pid) in OWN_BINARIES
                     and (run_dir + "/") in (_cmdline(pid) + " "))
            if in_netns or in_cgroup or named:
                found.append(pid)
        return found

    @staticmethod
    def _cgroup_dirs(name: str) -> list[Path]:
        """Cgroup directories of the engine's cgroup parent, deepest first."""
        dirs: list[Path] = []
        for mount in _cgroup_mounts():
            top = Path(mount) / f"{name}-engine"
            if top.is_dir():
                subdirs = [Path(root) for root, _, _ in os.walk(top)]
                dirs += sorted(subdirs, key=lambda p: len(p.parts), reverse=True)
        return dirs


def remote_docker_host_fixture(*, scope: str = "module", name: str = DEFAULT_NAME,
                               **options: Any) -> Callable[..., Iterator[RemoteDockerHost]]:
    """A pytest fixture (assign it to a module-level name) yielding a started RemoteDockerHost.

    Missing prerequisites (not root, no sshd, ...) skip, except in CI (CI=true), where they
    and any other set-up failure fail the test.
    """
    import pytest

    @pytest.fixture(scope=scope)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteDockerHost]:
        problem = requirements_problem()
        if problem:
            if os.environ.get("CI"):
                pytest.fail(problem)
            pytest.skip(problem)
        with RemoteDockerHost.start(tmp_path_factory.mktemp(name), name=name,
                                    **options) as remote:
            yield remote

    return fixture
