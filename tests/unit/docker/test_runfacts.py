"""cluster.json and events.json: what the report needs besides the logs, from Docker's
events and `docker inspect` (a real one, of a node whose server crashed)."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

from unitlib import FIXTURES

from clusterdeploy.docker import runfacts
from clusterdeploy.docker.runfacts import container_shape, merge, normalize, rfc3339

CLUSTER = "io.clusterdeploy.cluster=cdreport"


def raw_event(action: str, name: str = "cdreport_node3", nanos: int = 1795853749613256391,
              **attributes: str) -> dict:
    return {"Type": "container", "Action": action, "status": action, "time": nanos // 10**9,
            "timeNano": nanos, "Actor": {"ID": "92d9", "Attributes": {
                "name": name, "image": "my-db:deb804f1815fd0a2", "io.clusterdeploy.cluster":
                "cdreport", **attributes}}}


def test_rfc3339_keeps_docker_s_nanoseconds():
    assert rfc3339(1795853749613256391) == "2026-11-28T08:15:49.613256391Z"
    assert rfc3339(1795853749000000005) == "2026-11-28T08:15:49.000000005Z"


def test_events_the_report_shows():
    assert normalize(raw_event("die", exitCode="2")) == {
        "time": "2026-11-28T08:15:49.613256391Z", "container": "cdreport_node3",
        "action": "die", "exit_code": 2}
    assert normalize(raw_event("kill", signal="15"))["signal"] == 15
    assert normalize(raw_event("health_status: unhealthy"))["health"] == "unhealthy"
    assert normalize(raw_event("oom"))["action"] == "oom"


def test_health_check_execs_are_left_out():
    assert normalize(raw_event("exec_create: /bin/sh -c curl -fsS http://127.0.0.1:40404/")) is None
    assert normalize(raw_event("exec_die", exitCode="0")) is None


def test_merge_keeps_each_event_once_in_time_order():
    early = normalize(raw_event("start", nanos=1_000_000_000_000_000_001))
    late = normalize(raw_event("die", nanos=1_000_000_000_000_000_002, exitCode="0"))
    assert merge([late, early], [early]) == [early, late]


def test_the_shape_of_a_crashed_node_from_its_inspect():
    attrs = json.loads((FIXTURES / "inspect" / "crashed-node.json").read_text())
    container = SimpleNamespace(attrs=attrs, name=attrs["Name"].lstrip("/"),
                                labels=attrs["Config"]["Labels"])
    shape = container_shape(container)
    assert shape == {
        "name": "cdreport_node3", "member": "node3", "role": "node", "hostname": "node3",
        # an exited container has no IPAddress any more; its static address stays
        "addresses": {"cdreportNet": "172.28.219.4"},
        "ports": ["127.0.0.1:41903->40404/tcp"],
        "image": attrs["Config"]["Image"], "image_id": attrs["Image"],
        "image_hash": attrs["Config"]["Labels"]["io.clusterdeploy.image-hash"],
        "image_key": "node", "created": attrs["Created"]}
    assert CLUSTER.split("=")[1] == attrs["Config"]["Labels"]["io.clusterdeploy.cluster"]


def test_an_exact_events_read_ends_at_its_bound_others_at_the_next_second():
    """The engine streams until `until` has passed on its clock: an exact read (our clock's
    engine, before anything stops) ends at the moment asked; the others wait for the next
    whole second, slack for another clock and for a `die` logged after `docker stop` returned."""
    assert runfacts.events_window(100.9, 200.25, exact=True) == (100, "200.250000000")
    assert runfacts.events_window(100.9, 200.25, exact=False) == (100, "201")


class LiveStream:
    """Docker's event stream as the SDK gives it: the events, then nothing until closed."""

    def __init__(self, events):
        self.events, self.closed = events, threading.Event()

    def __iter__(self):
        yield from self.events
        self.closed.wait(10)

    def close(self):
        self.closed.set()


class EventsClient:
    def __init__(self, live):
        self.live, self.reads = live, []

    def events(self, since, filters, decode, until=None):
        if until is None:
            return LiveStream(self.live)
        self.reads.append(until)
        return iter([])


def recorder_with(live, local=True):
    client = EventsClient(live)
    engine = SimpleNamespace(host=SimpleNamespace(is_local=local), client=client)
    return runfacts.EventRecorder(engine, "cdreport").start(since=0.0), client


def die_of(name, at):
    return raw_event("die", name=name, nanos=int(at * 1e9), exitCode="0")


def test_once_the_stream_shows_every_stopped_container_die_the_late_read_is_exact():
    stopping = time.time()
    recorder, client = recorder_with([die_of("n1", stopping + 0.1), die_of("n2", stopping + 0.2)])
    record = recorder.stop(["n1", "n2"], stopping)
    assert "." in client.reads[0]  # up to now, not to the next whole second
    assert [e["container"] for e in record["events"]] == ["n1", "n2"]


def test_a_die_the_stream_has_not_shown_keeps_the_whole_second_of_slack(monkeypatch):
    monkeypatch.setattr(runfacts, "DIE_WAIT", 0.05)
    stopping = time.time()
    earlier = die_of("n2", stopping - 60)  # a die from before the stop does not count
    recorder, client = recorder_with([die_of("n1", stopping + 0.1), earlier])
    recorder.stop(["n1", "n2"], stopping)
    assert "." not in client.reads[0]


def test_another_hosts_engine_keeps_the_slack():
    stopping = time.time()
    recorder, client = recorder_with([die_of("n1", stopping + 0.1)], local=False)
    recorder.stop(["n1"], stopping)
    assert "." not in client.reads[0]
