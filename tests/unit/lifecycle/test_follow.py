"""Following without Docker: timestamps order and de-duplicate lines, a stopped node says so
and is followed again when it starts, a closed pipe is noticed while idle."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator

from fakes import FakeContainer, FakeEngine, with_client
from unitlib import base_doc

from clusterdeploy.lifecycle.follow import Follower, Line, Note, output_closed, parse
from clusterdeploy.lifecycle.nodes import resolve

T0 = "2026-11-28T09:15:02.000000001Z"
T1 = "2026-11-28T09:15:03.000000001Z"
T2 = "2026-11-28T09:15:04.000000001Z"
NS0, NS1, NS2 = 1795857302_000000001, 1795857303_000000001, 1795857304_000000001


def test_parse_reads_dockers_timestamps():
    raw = f"{T1} hello\n{T0} {{\"msg\": \"x\"}}\nno stamp\n".encode()
    assert parse("node1", raw) == [Line(NS1, "node1", "hello"),
                                   Line(NS0, "node1", '{"msg": "x"}'),
                                   Line(0, "node1", "no stamp")]


def drain(out: queue.Queue, count: int, timeout: float = 5) -> list:
    return [out.get(timeout=timeout) for _ in range(count)]


def stream_then_exit(container: FakeContainer, chunks: list[bytes], code: int) -> Iterator[bytes]:
    yield from chunks
    container.attrs["State"].update(Status="exited", ExitCode=code,
                                    FinishedAt="2026-11-28T09:20:00Z")


def test_follow_prints_new_lines_once_says_when_the_node_stops_and_follows_its_restart(load):
    spec = load(base_doc(count=2))
    member = resolve(spec, ["node2"])[0]
    container = FakeContainer("node2")
    engine = with_client(FakeEngine(container))
    streams = iter([
        # first run: a line already shown (T0), one split across two chunks
        stream_then_exit(container, [f"{T0} old\n{T1} new ".encode(), b"line\n"], 0),
        # after the restart: T1 again (since= is in whole seconds), then T2
        stream_then_exit(container, [f"{T1} new line\n{T2} after restart\n".encode()], 3),
    ])
    calls = []

    def logs(**options):
        calls.append(options)
        return next(streams)
    container.logs = logs
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    follower = Follower(engine, "ci", member, container, NS0, None, out, stop)
    follower.start()
    try:
        assert drain(out, 2) == [Line(NS1, "node2", "new line"),
                                 Note("node2", "exited with code 0")]
        container.attrs["State"].update(Status="running", StartedAt="2026-11-28T09:30:00Z")
        assert drain(out, 3) == [Note("node2", "started"), Line(NS2, "node2", "after restart"),
                                 Note("node2", "exited with code 3")]
    finally:
        follower.close()
        follower.join(5)
    assert calls[0] == {"stream": True, "follow": True, "timestamps": True,
                        "since": NS0 // 10**9}
    assert calls[1]["since"] == NS1 // 10**9
    assert not follower.is_alive()


def test_a_stopped_node_is_said_once_and_a_removed_one_is_waited_for(load):
    spec = load(base_doc(count=2))
    member = resolve(spec, ["node1"])[0]
    container = FakeContainer("node1", status="exited", exit_code=137)
    engine = with_client(FakeEngine(container))
    out: queue.Queue = queue.Queue()
    follower = Follower(engine, "ci", member, container, None, None, out, threading.Event())
    follower.start()
    try:
        assert drain(out, 1) == [Note("node1", "exited with code 137")]
        engine.containers.clear()
        assert drain(out, 1) == [Note("node1", "no container: waiting for one")]
        assert out.empty()
    finally:
        follower.close()
        follower.join(5)


def test_with_tail_0_following_starts_at_the_end(load):
    spec = load(base_doc(count=1))
    member = resolve(spec, ["node1"])[0]
    container = FakeContainer("node1")
    container.log_chunks = [f"{T2} fresh\n".encode()]
    engine = with_client(FakeEngine(container))
    out: queue.Queue = queue.Queue()
    follower = Follower(engine, "ci", member, container, None, 0, out, threading.Event())
    follower.start()
    try:
        assert drain(out, 1) == [Line(NS2, "node1", "fresh")]
    finally:
        follower.close()
        follower.join(5)
    assert container.calls[0] == ("logs", {"stream": True, "follow": True, "timestamps": True,
                                           "tail": 0})


def test_a_pipe_whose_reader_is_gone_is_noticed_while_idle():
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream:
        assert not output_closed(stream)
        os.close(read)
        assert output_closed(stream)
    with open(os.devnull, "w") as not_a_pipe:
        assert not output_closed(not_a_pipe)


def test_a_restart_quicker_than_a_look_is_restarted_and_a_new_container_recreated(load):
    spec = load(base_doc(count=1))
    member = resolve(spec, ["node1"])[0]
    container = FakeContainer("node1")
    engine = with_client(FakeEngine(container))
    replacement = FakeContainer("node1")
    replacement.id = "id-new"

    def quick_restart():
        yield f"{T1} before\n".encode()
        container.attrs["State"]["StartedAt"] = "2026-11-28T09:30:00Z"  # running again

    def replaced():
        yield f"{T2} after\n".encode()
        engine.containers[:] = [replacement]
    streams = iter([quick_restart(), replaced(), iter([])])
    container.logs = lambda **options: next(streams)
    replacement.logs = lambda **options: iter(())
    out: queue.Queue = queue.Queue()
    follower = Follower(engine, "ci", member, container, None, None, out, threading.Event())
    follower.start()
    try:
        assert drain(out, 4) == [Line(NS1, "node1", "before"), Note("node1", "restarted"),
                                 Line(NS2, "node1", "after"), Note("node1", "recreated")]
    finally:
        follower.close()
        follower.join(5)
