"""`logs [-f] NODE...`: nodes' logs merged into one stream, followed across restarts.

Through the Docker SDK of each host's Engine (local socket, or the SSH relay), one thread per
followed container: no docker CLI is needed on this machine or the host, and the lines carry
Docker's timestamps. What was logged before the command (the last `tail` lines of each node) is
printed first, merged in time order; then each new line as it arrives. A node that stops says
so (`[exited with code 0]`) and is followed again when it starts (`[started]`); a stop and start
quicker than a look (every half second) is `[restarted]`, a new container `[recreated]`.
Timestamps keep lines from being shown twice. Lines are printed by the calling thread only, so
a closed pipe or Ctrl+C reaches it there.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import stat
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from docker.errors import APIError

from ..clusterspec import Member, Spec
from ..core import labels
from ..docker.engine import Engine
from ..errors import DeployError, on_host
from .logview import Printer, split_stamp, stamp_ns
from .nodes import by_host, containers_of

if TYPE_CHECKING:
    from docker.models.containers import Container

POLL = 0.5  # seconds between looks at a stopped or missing container


@dataclass(frozen=True)
class Line:
    ns: int  # Docker's timestamp
    node: str
    payload: str


@dataclass(frozen=True)
class Note:
    node: str
    text: str


def parse(node: str, raw: bytes) -> list[Line]:
    """`docker logs --timestamps` output as lines (an unstamped line is kept, at time 0)."""
    found = []
    for text in raw.decode("utf-8", errors="replace").splitlines():
        stamp, payload = split_stamp(text)
        ns = stamp_ns(stamp)
        found.append(Line(ns, node, payload) if ns is not None else Line(0, node, text))
    return found


def backlog(host: str, node: str, container: Container, tail: int | None) -> list[Line]:
    try:
        raw = container.logs(stdout=True, stderr=True, timestamps=True,
                             tail="all" if tail is None else tail)
    except APIError as exc:  # removed meanwhile, or a log driver that cannot be read
        raise DeployError(on_host(host, f"{node}: cannot read its logs: "
                                        f"{exc.explanation or exc}")) from None
    return parse(node, raw)


def ending(container: Container) -> str:
    state = container.attrs.get("State", {})
    status = state.get("Status", "")
    if status == "exited":
        oom = " (OOM-killed)" if state.get("OOMKilled") else ""
        return f"exited with code {state.get('ExitCode')}{oom}"
    return "created, not started" if status == "created" else str(status)


class Follower(threading.Thread):
    """Follows one member's container (found by label each time it is looked up again) until
    `stop` is set; puts Lines and Notes on `out`."""

    def __init__(self, engine: Engine, cluster: str, member: Member, container: Container,
                 last_ns: int | None, tail: int | None, out: queue.Queue[Any],
                 stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"follow-{member.name}")
        self.engine, self.cluster, self.member = engine, cluster, member
        self.container: Container | None = container
        self.last_ns, self.tail = last_ns, tail
        self.out, self.stop = out, stop
        self.stream: Any = None
        self.said: object = None

    def run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # the engine or the connection went away
            if not self.stop.is_set():
                self.out.put(Note(self.member.name, f"stopped following: {exc}"))

    def _find(self) -> Container | None:
        found = self.engine.client.containers.list(all=True, filters={"label": [
            f"{labels.CLUSTER}={self.cluster}", f"{labels.MEMBER}={self.member.name}"]})
        return found[0] if found else None

    def _say_once(self, key: object, text: str) -> None:
        if key != self.said:
            self.said = key
            self.out.put(Note(self.member.name, text))

    def _loop(self) -> None:
        first = True
        assert self.container is not None
        followed = (self.container.id, self.container.attrs.get("State", {}).get("StartedAt"))
        ended = False  # whether the end of the followed run was said
        while not self.stop.is_set():
            container = self.container if first else self._find()
            if container is None:
                self._say_once("gone", "no container: waiting for one")
                ended = True
            elif container.status == "running":
                state = container.attrs.get("State", {})
                key = (container.id, state.get("StartedAt"))
                if key != followed:  # a new run; its end unseen if it was quick
                    self._say_once(key, "started" if ended else
                                   "restarted" if key[0] == followed[0] else "recreated")
                followed, ended = key, False
                self._follow(container, first, stamp_ns(state.get("StartedAt", "")))
                first = False
                continue  # look again at once: it has probably stopped
            else:
                state = container.attrs.get("State", {})
                self._say_once((container.id, state.get("FinishedAt")), ending(container))
                ended = True
            first = False
            self.stop.wait(POLL)

    def _follow(self, container: Container, first: bool, started_ns: int | None) -> None:
        """Stream the container's lines until it stops; only lines after the last one shown."""
        options: dict[str, Any] = {"stream": True, "follow": True, "timestamps": True}
        if self.last_ns is not None:
            options["since"] = max(1, self.last_ns // 1_000_000_000)
        elif first and self.tail == 0:
            options["tail"] = 0
        elif not first and started_ns:
            options["since"] = max(1, started_ns // 1_000_000_000)
        self.stream = container.logs(**options)
        pending = b""
        try:
            for chunk in self.stream:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in parse(self.member.name, b"\n".join(complete)):
                    if self.last_ns is None or line.ns > self.last_ns:
                        self.last_ns = line.ns
                        self.out.put(line)
        finally:
            with contextlib.suppress(Exception):
                self.stream.close()
        self.stop.wait(POLL)  # a stream that ends at once is not retried in a busy loop

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(Exception):
            if self.stream is not None:
                self.stream.close()


def output_closed(stream: IO[str]) -> bool:
    """Whether `stream` is a pipe whose reader has gone (POLLERR on its write end), so that
    an idle `logs -f | head` ends when head does, as `tail -f` does."""
    try:
        fd = stream.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
    except (OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, 0)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


@dataclass
class Output:
    """Where lines go: `write(text)` for node lines, `notice(text)` for notes in raw mode."""

    printer: Printer
    write: Callable[[str], object]
    notice: Callable[[str], object]
    flush: Callable[[], object]

    def put(self, item: Line | Note) -> None:
        if isinstance(item, Line):
            self.write(self.printer.line(item.node, item.payload))
        elif self.printer.raw:
            self.notice(self.printer.note(item.node, item.text))
        else:
            self.write(self.printer.note(item.node, item.text))


def show(spec: Spec, members: Sequence[Member], out: Output, tail: int | None, follow: bool,
         stdout: IO[str]) -> int:
    """Print the members' logs (the last `tail` lines of each, merged in time order); with
    `follow`, then every new line until interrupted (KeyboardInterrupt) or the pipe closes
    (BrokenPipeError). 0, or 1 when following ended because no container could be followed
    any more (each said why)."""
    order = {m.name: i for i, m in enumerate(members)}
    with contextlib.ExitStack() as stack:
        targets: list[tuple[Engine, Member, Container]] = []
        for host, on_host in by_host(spec, members).items():
            engine = stack.enter_context(Engine(host))
            targets += [(engine, m, c) for m, c in containers_of(engine, spec, on_host)]
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            history = list(pool.map(lambda t: backlog(t[0].name, t[1].name, t[2], tail),
                                    targets))
        for line in sorted((line for lines in history for line in lines),
                           key=lambda line: (line.ns, order[line.node])):
            out.put(line)
        out.flush()
        if not follow:
            return 0
        lines: queue.Queue[Line | Note] = queue.Queue()
        stop = threading.Event()
        followers = [Follower(engine, spec.name, member, container,
                              lines_[-1].ns if lines_ else None, tail, lines, stop)
                     for (engine, member, container), lines_ in zip(targets, history,
                                                                     strict=True)]
        try:
            for follower in followers:
                follower.start()
            _print_until_stopped(lines, followers, out, stdout)
            return 1
        finally:
            for follower in followers:
                follower.close()


def _print_until_stopped(lines: queue.Queue[Line | Note], followers: Sequence[Follower],
                         out: Output, stdout: IO[str]) -> None:
    while True:
        try:
            item = lines.get(timeout=POLL)
        except queue.Empty:
            if output_closed(stdout):
                raise BrokenPipeError from None
            if not any(f.is_alive() for f in followers):
                return
            continue
        out.put(item)
        while True:  # print what else is there, then flush once
            try:
                out.put(lines.get_nowait())
            except queue.Empty:
                break
        out.flush()
