"""Published ports (compose short syntax) and durations."""

from __future__ import annotations

import pytest

from clusterdeploy.clusterspec.durations import parse_duration
from clusterdeploy.clusterspec.ports import PortMapping, PortSyntaxError, parse_port


@pytest.mark.parametrize(("entry", "canonical"), [
    (40404, "40404/tcp"),
    ("40404", "40404/tcp"),
    ("53/udp", "53/udp"),
    ("40401:40404", "0.0.0.0:40401:40404/tcp"),
    ("0.0.0.0:40401:40404/tcp", "0.0.0.0:40401:40404/tcp"),
    ("127.0.0.1:40401:40404", "127.0.0.1:40401:40404/tcp"),
    ("127.0.0.1::40404", "127.0.0.1::40404/tcp"),
    ("127.0.0.1:5353:53/udp", "127.0.0.1:5353:53/udp"),
])
def test_parse_port_canonical_docker_arg(entry, canonical):
    assert parse_port(entry).docker_arg() == canonical
    assert str(parse_port(entry)) == canonical


def test_equivalent_spellings_are_equal():
    assert parse_port("40401:40404") == parse_port("0.0.0.0:40401:40404/tcp")
    assert parse_port(40404) == parse_port("40404/tcp")


def test_parse_port_fields():
    assert parse_port("127.0.0.1:40401:40404") == PortMapping(
        container_port=40404, host_port=40401, host_ip="127.0.0.1", protocol="tcp")


@pytest.mark.parametrize(("entry", "message"), [
    ("70000", "container port 70000 is outside 1-65535"),
    ("70000:40404", "host port 70000 is outside 1-65535"),
    ("0:40404", "host port 0 is outside 1-65535"),
    (0, "container port 0 is outside 1-65535"),
    ("x", "container port 'x' is not a number"),
    ("40404/sctp", "protocol 'sctp' is not tcp or udp"),
    ("1:2:3:4", "too many ':'-separated parts"),
    ("1.2.3:40401:40404", "host address '1.2.3' is not an IPv4 address"),
])
def test_parse_port_rejects_with_reason(entry, message):
    with pytest.raises(PortSyntaxError) as info:
        parse_port(entry)
    assert str(info.value) == message


@pytest.mark.parametrize(("a", "b", "clash"), [
    ("127.0.0.1:40401:40404", "127.0.0.1:40401:40404", True),
    ("127.0.0.1:40401:40404", "127.0.0.1:40401:8080", True),
    ("0.0.0.0:40401:40404", "127.0.0.1:40401:40404", True),
    ("127.0.0.1:40401:40404", "40401:40404", True),
    ("127.0.0.1:40401:40404", "127.0.0.2:40401:40404", False),
    ("127.0.0.1:40401:40404", "127.0.0.1:40402:40404", False),
    ("40401:53/udp", "40401:53/tcp", False),
    ("40404", "40404", False),  # no host port: the engine picks a free one
])
def test_clashes_with(a, b, clash):
    assert parse_port(a).clashes_with(parse_port(b)) is clash
    assert parse_port(b).clashes_with(parse_port(a)) is clash


@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10.0), ("500ms", 0.5), ("1m30s", 90.0), ("1h", 3600.0), ("1.5s", 1.5),
    ("2m", 120.0), ("1h1m1s", 3661.0),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", "10 s", "", "s", "10sec", "-1s", "1s "])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="is not a duration like 10s, 1m30s or 500ms"):
        parse_duration(text)
