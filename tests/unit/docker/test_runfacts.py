"""cluster.json and events.json: what the report needs besides the logs, from Docker's
events and `docker inspect` (a real one, of a node whose server crashed)."""

from __future__ import annotations

import json
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
