"""The log printer: a JSON line as `time level message fields`, a node's prefix, colours only
when asked (a terminal)."""

from __future__ import annotations

import json

import pytest

from clusterdeploy.lifecycle.logview import Printer, Style, pretty, split_stamp, stamp_ns

PLAIN = Style(colour=False)
COLOUR = Style(colour=True)
GO_LINE = json.dumps({"time": "2026-11-28T09:15:02.123456789Z", "level": "info", "node": "node2",
                      "message": "listening", "fields": {"addr": "0.0.0.0:40404", "port": 40404}})


def test_the_services_json_line_is_time_level_message_fields():
    assert pretty(GO_LINE, PLAIN, "node2") == (
        "09:15:02.123 INFO  listening addr=0.0.0.0:40404 port=40404")


def test_node_is_dropped_only_when_the_prefix_says_it():
    assert "node=node2" not in pretty(GO_LINE, PLAIN, "node2")
    assert pretty(GO_LINE, PLAIN, "other").endswith(
        "listening node=node2 addr=0.0.0.0:40404 port=40404")


@pytest.mark.parametrize(("record", "shown"), [
    # slog's JSONHandler: msg, attributes at the top level
    ({"time": "2026-11-28T09:15:02.5+01:00", "level": "WARN", "msg": "slow", "ms": 12},
     "09:15:02.500 WARN  slow ms=12"),
    # zap: ts in seconds, lvl names of its own
    ({"level": "dpanic", "ts": 1795338902.25, "msg": "boom"}, "09:15:02.250 PANIC boom"),
    # pino: numeric levels, time in milliseconds
    ({"level": 50, "time": 1795338902250, "msg": "failed"}, "09:15:02.250 ERROR failed"),
    ({"severity": "warning", "message": "x"}, "WARN  x"),
    # nested fields are dotted; values that need it are quoted as JSON
    ({"msg": "req", "fields": {"http": {"path": "/a b", "code": 200}, "ok": True, "n": None}},
     'req http.path="/a b" http.code=200 ok=true n=null'),
    ({"msg": "empty", "fields": {}, "s": ""}, 'empty s=""'),
])
def test_common_json_log_shapes(record, shown):
    assert pretty(json.dumps(record), PLAIN) == shown


@pytest.mark.parametrize("line", ["plain text", "[1, 2]", "42", "{not json", ""])
def test_anything_but_a_json_object_is_left_as_it_is(line):
    assert pretty(line, PLAIN) == line


def test_colours_on_a_terminal_only():
    assert "\x1b[" not in pretty(GO_LINE, PLAIN, "node2")
    coloured = pretty(GO_LINE.replace('"info"', '"error"'), COLOUR, "node2")
    assert "\x1b[31mERROR\x1b[0m" in coloured
    assert "\x1b[2maddr=\x1b[0m0.0.0.0:40404" in coloured


def test_prefix_is_padded_to_the_longest_name_and_coloured_per_node():
    printer = Printer(["node1", "tester"], {"node1": 0, "tester": 5}, PLAIN)
    assert printer.line("node1", "hello") == "node1  | hello"
    assert printer.line("tester", "hi") == "tester | hi"
    coloured = Printer(["node1", "tester"], {"node1": 0, "tester": 5}, COLOUR)
    assert coloured.line("node1", "hello") == "\x1b[36mnode1  |\x1b[0m hello"
    assert coloured.line("tester", "hi").startswith("\x1b[96mtester |\x1b[0m")


def test_raw_prints_lines_as_written_and_prefixes_only_several_nodes():
    one = Printer(["node2"], {}, PLAIN, raw=True)
    assert one.line("node2", GO_LINE) == GO_LINE
    several = Printer(["node1", "node2"], {}, PLAIN, raw=True)
    assert several.line("node2", GO_LINE) == f"node2 | {GO_LINE}"


def test_notes_say_what_happened_to_the_container():
    printer = Printer(["node2"], {}, PLAIN)
    assert printer.note("node2", "exited with code 0") == "node2 | [exited with code 0]"


def test_dockers_timestamp_is_split_off_and_read_to_the_nanosecond():
    stamp, payload = split_stamp("2026-11-28T09:15:02.123456789Z hello world")
    assert (stamp, payload) == ("2026-11-28T09:15:02.123456789Z", "hello world")
    assert stamp_ns(stamp) == 1795857302_123456789
    assert stamp_ns("2026-11-28T10:15:02.5+01:00") == 1795857302_500000000
    assert stamp_ns("2026-11-28T09:15:02Z") == 1795857302_000000000
    assert stamp_ns("hello") is None
