"""`exec NODE -- CMD...`: a command in a node's container, through the docker CLI.

The docker CLI already does what an interactive session needs (raw terminal, window size,
stdin and signals); reimplementing that over the SDK's hijacked socket would be worse. A
remote host's engine is reached with DOCKER_HOST set to the Engine's relay, kept alive while
the CLI runs. The exit code is the command's (the CLI passes it on; 126/127 when it cannot run;
128+N when the CLI dies of signal N).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence

from ..clusterspec import Spec
from ..docker.engine import Engine
from ..errors import DeployError, on_host
from .nodes import containers_of, exited, host_of, resolve


def exec_argv(container: str, command: Sequence[str], tty: bool) -> list[str]:
    """stdin is always passed (`-i`: pipes into the command work); a TTY only when asked."""
    return ["docker", "exec", "-i", *(["-t"] if tty else []), container, *command]


@contextlib.contextmanager
def sigint_to_child() -> Iterator[None]:
    """Ctrl+C goes to the foreground process group, the docker CLI with it: this process lets
    the CLI decide, and reports its exit. (A handler, not SIG_IGN: an ignored signal would stay
    ignored in the CLI.)"""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_in(spec: Spec, node: str, command: Sequence[str], tty: bool) -> int:
    """Run `command` in the node's container; its exit code."""
    member = resolve(spec, [node])[0]
    host = host_of(spec, member)
    if shutil.which("docker") is None:
        raise DeployError("exec needs the docker CLI on this machine (install Debian's "
                          "docker.io or docker-ce-cli)")
    with Engine(host) as engine:
        [(_, container)] = containers_of(engine, spec, [member])
        if container.status != "running":
            raise DeployError(on_host(host.name, (
                f"{member.name} is not running ({exited(container)}) (start it: "
                f"`clusterdeploy start {member.name}`)")))
        env = engine.cli_env()
        with sigint_to_child():
            code = subprocess.call(exec_argv(container.id or member.container_name, command,
                                             tty), env=env)
    return 128 - code if code < 0 else code
