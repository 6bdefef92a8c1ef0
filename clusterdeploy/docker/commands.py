"""Pure command builders: argument lists joined with shlex, so quoting is never hand-written.

No value from the spec reaches a shell unquoted: every argument goes through `shlex.join`/`quote`,
and file contents travel base64-encoded. Positional values (images, names) come after `--`, so
none of them can ever be read as an option.
"""

from __future__ import annotations

import base64
import math
import posixpath
import shlex
from collections.abc import Sequence

from ..core import labels
from ..core.desired import DesiredContainer, DesiredNetwork, DesiredVolume
from ..core.hashing import canonical_json
from ..core.hostsfile import hosts_markers
from ..core.images import DesiredImage
from ..core.ownership import MARKER
from ..core.render import RenderedFile


def docker_duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def health_args(container: DesiredContainer) -> list[str]:
    check = container.healthcheck
    if check is None:
        return []
    kind, *rest = check.test
    if kind == "NONE":
        return ["--no-healthcheck"]
    # The CLI always runs --health-cmd through /bin/sh -c; exec form is quoted to match it.
    command = rest[0] if kind == "CMD-SHELL" else shlex.join(rest)
    return [
        "--health-cmd", command,
        "--health-interval", docker_duration(check.interval),
        "--health-timeout", docker_duration(check.timeout),
        "--health-retries", str(check.retries),
        "--health-start-period", docker_duration(check.start_period),
    ]


def env_file(environment: dict[str, str]) -> bytes:
    """Docker's `--env-file` format, `NAME=value` a line (validation keeps newlines out)."""
    return "".join(f"{key}={value}\n" for key, value in sorted(environment.items())).encode()


def create_container(container: DesiredContainer, cluster: str,
                     environment_file: str | None = None) -> list[str]:
    """`docker create` for one container, with every label that marks it as the cluster's.

    The environment comes from `environment_file` (see `env_file`): values are often secrets,
    and a command line is readable by every user of the host."""
    args = [
        "docker", "create",
        "--name", container.name,
        "--hostname", container.hostname,
        "--network", container.network,
        "--ip", container.address,
        "--network-alias", container.hostname,
        "--label", f"{labels.CLUSTER}={cluster}",
        "--label", f"{labels.MEMBER}={container.member}",
        "--label", f"{labels.CONFIG_HASH}={container.config_hash}",
        "--label", f"{labels.CONFIG}={canonical_json(container.label_input())}",
        "--stop-timeout", str(math.ceil(container.stop_grace_period)),
    ]
    for mount in container.files_mount:
        args += ["--volume", mount]
    args += option_args(container)
    if container.user:
        args += ["--user", container.user]
    if container.init:
        args.append("--init")
    if container.privileged:
        args.append("--privileged")
    for cap in container.cap_add:
        args += ["--cap-add", cap]
    for cap in container.cap_drop:
        args += ["--cap-drop", cap]
    if container.environment:
        if environment_file is None:
            raise ValueError(f"{container.name}: its environment needs an env file")
        args += ["--env-file", environment_file]
    for port in sorted(container.ports):
        args += ["--publish", port.docker_arg()]
    args += health_args(container)
    entrypoint, *arguments = container.entrypoint if container.entrypoint else ("",)
    if container.entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    return [*args, "--", container.image, *arguments, *container.command]


def _ulimit(name: str, value: int | dict[str, int]) -> str:
    if isinstance(value, dict):
        return f"{name}={value['soft']}:{value['hard']}"
    return f"{name}={value}"


def option_args(container: DesiredContainer) -> list[str]:
    """The flags of the settings a spec may add (volumes, limits, kernel settings, ...)."""
    args: list[str] = []
    for volume in container.volumes:
        name, path = volume.split(":", 1)
        args += ["--mount", f"type=volume,source={name},target={path}"]
    for mount in container.mounts or ():
        args += ["--volume", mount]
    for path in container.tmpfs or ():
        args += ["--tmpfs", path]
    for flag, value in (("--memory", container.memory), ("--memory-swap", container.memory_swap),
                        ("--cpus", container.cpus), ("--pids-limit", container.pids_limit),
                        ("--restart", container.restart), ("--shm-size", container.shm_size),
                        ("--workdir", container.working_dir)):
        if value is not None:
            args += [flag, str(value)]
    for name, limit in sorted((container.ulimits or {}).items()):
        args += ["--ulimit", _ulimit(name, limit)]
    for key, setting in sorted((container.sysctls or {}).items()):
        args += ["--sysctl", f"{key}={setting}"]
    for entry in container.extra_hosts or ():
        args += ["--add-host", entry]
    for key, label in sorted((container.labels or {}).items()):
        args += ["--label", f"{key}={label}"]
    return args


def start_container(name: str) -> list[str]:
    return ["docker", "start", "--", name]


def stop_containers(names: Sequence[str]) -> list[str]:
    """Graceful stop, all at once: SIGTERM, then SIGKILL after each container's own stop
    timeout (set at create from its grace period)."""
    return ["docker", "stop", "--", *names]


def kill_containers(names: Sequence[str]) -> list[str]:
    return ["docker", "kill", "--", *names]


def remove_containers(names: Sequence[str]) -> list[str]:
    return ["docker", "rm", "--force", "--volumes", "--", *names]


OVERLAY_SETTLE_S = 5  # a host's part of an overlay, once its last container left, is torn down


def settle_overlay(cluster: str, seconds: float = OVERLAY_SETTLE_S) -> list[str]:
    """Wait `seconds` if no container of the cluster runs on this host any more.

    When the last container on a host leaves an attachable overlay network, the engine tears
    its part of the network down in the background; a container created or started meanwhile
    fails with "network ... not found", and one that got an address first can keep it in the
    swarm's allocator for good ("Address already in use", seen on Docker 20.10). Nothing the
    engine reports says when the teardown is over, so a host that was emptied waits."""
    return ["sh", "-c", '[ -n "$(docker ps -q --filter "label=$1")" ] || sleep "$2"',
            "settle", f"{labels.CLUSTER}={cluster}", f"{seconds:g}"]


def create_network(network: DesiredNetwork, cluster: str) -> list[str]:
    """A bridge, or an overlay standalone containers may attach to (run on a swarm manager)."""
    overlay = ["--attachable", "--ip-range", network.ip_range or network.subnet] \
        if network.driver == "overlay" else []
    return [
        "docker", "network", "create",
        "--driver", network.driver,
        *overlay,
        "--subnet", network.subnet,
        "--gateway", network.gateway,
        "--label", f"{labels.CLUSTER}={cluster}",
        "--label", f"{labels.CONFIG_HASH}={network.config_hash}",
        "--", network.name,
    ]


def create_volume(volume: DesiredVolume, cluster: str) -> list[str]:
    return ["docker", "volume", "create",
            "--label", f"{labels.CLUSTER}={cluster}",
            "--label", f"{labels.MEMBER}={volume.member}",
            "--label", f"{labels.KEEP}={'true' if volume.keep else 'false'}",
            "--", volume.name]


def remove_volume(name: str) -> list[str]:
    return ["docker", "volume", "rm", "--", name]


def remove_network(name: str) -> list[str]:
    return ["docker", "network", "rm", "--", name]


def disconnect(network: str, container: str) -> list[str]:
    return ["docker", "network", "disconnect", "--force", "--", network, container]


def build_image(image: DesiredImage, tag_latest: bool = True, context: str | None = None,
                dockerfile: str | None = None) -> list[str]:
    """`docker build` labelled with the content hash, tagged `<tag>:<hash>` (and `<tag>:latest`
    unless that tag belongs to an image clusterdeploy did not build).

    Images carry no cluster label: they are shared by content hash between clusters, and the
    legacy builder copies `--label` onto its intermediate containers, which must never look
    like the cluster's. `--force-rm` removes those containers when a step fails, too.
    """
    args = ["docker", "build", "--force-rm"]
    if image.network != "default":
        args += ["--network", image.network]
    args += ["--file", dockerfile or str(image.dockerfile), "--tag", image.ref]
    if tag_latest:
        args += ["--tag", image.latest]
    args += ["--label", f"{labels.IMAGE_HASH}={image.hash}",
             "--label", f"{labels.IMAGE_KEY}={image.key}"]
    for key, value in sorted(image.build_args.items()):
        args += ["--build-arg", f"{key}={value}"]
    return [*args, "--", context or str(image.context)]


# The legacy builder's `Step N/M :` lines name a failing step; the CLI here has no buildx.
BUILD_ENV = {"DOCKER_BUILDKIT": "0"}


def build_shell(image: DesiredImage, tag_latest: bool = True, context: str | None = None,
                dockerfile: str | None = None) -> str:
    """`build_image` as one shell command line, with BUILD_ENV set."""
    env = " ".join(f"{key}={value}" for key, value in BUILD_ENV.items())
    return f"{env} {shlex.join(build_image(image, tag_latest, context, dockerfile))}"


def tag_image(source: str, target: str) -> list[str]:
    return ["docker", "tag", "--", source, target]


def write_files(root: str, marker: bytes, directory: str, files: Sequence[RenderedFile]) -> str:
    """Shell that writes files atomically (a private temp file, then rename) into `directory`
    under the files root, both marked as clusterdeploy's (a `MARKER` file) when it makes them.
    The root is private (0700); the directory is readable, as the container needs it."""
    q = shlex.quote
    lines = ["umask 077", f"mkdir -p -- {q(directory)}", f"chmod 755 -- {q(directory)}"]
    for owned in (root, directory):
        path = q(posixpath.join(owned, MARKER))
        lines.append(f"[ -f {path} ] || printf %s {q(base64.b64encode(marker).decode())} | "
                     f"base64 -d > {path}")
    for f in files:
        target = posixpath.join(directory, f.path)
        encoded = base64.b64encode(f.content).decode()
        lines.append(f"t=$(mktemp -- {q(posixpath.join(directory, '.' + f.path))}.XXXXXX) && "
                     f"printf %s {q(encoded)} | base64 -d > \"$t\" && chmod {f.mode:o} \"$t\" && "
                     f"mv -f -- \"$t\" {q(target)}")
    return "\n".join(lines)



def hosts_script(cluster: str, block: str | None, path: str = "/etc/hosts") -> str:
    """Shell that replaces the cluster's block of /etc/hosts with `block` (or removes it),
    leaving every other line as it was; the file is rewritten in place (same inode: a
    running container's bind mount of it keeps working)."""
    q = shlex.quote
    begin, end = hosts_markers(cluster)
    lines = ["set -e", "t=$(mktemp)", "trap 'rm -f \"$t\"' EXIT",
             f"awk -v b={q(begin)} -v e={q(end)} '$0 == b {{skip = 1}} !skip {{print}} "
             f"$0 == e {{skip = 0}}' {q(path)} > \"$t\""]
    if block:
        lines.append(f"printf %s {q(base64.b64encode(block.encode()).decode())} | base64 -d "
                     f">> \"$t\"")
    lines.append(f'cat "$t" > {q(path)}')
    return "\n".join(lines)


def exec_command(container: str, command: Sequence[str]) -> list[str]:
    return ["docker", "exec", "--", container, *command]


def write_record(path: str, content: bytes) -> str:
    """Shell that writes a small record file clusterdeploy keeps on the host (private)."""
    q = shlex.quote
    return (f"umask 077 && printf %s {q(base64.b64encode(content).decode())} | base64 -d > "
            f"{q(path)}")
