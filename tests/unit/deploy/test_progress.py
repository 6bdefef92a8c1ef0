"""Progress of long phases: a build's current step and time, the containers the health wait
still waits for; in place on a terminal, plain lines otherwise, never silent for long."""

from __future__ import annotations

import io
import shlex
from typing import Any

import pytest
from pyinfra.api import StringCommand
from unitlib import base_doc, desired_for

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core.actions import Kind
from clusterdeploy.core.observed import ObservedState
from clusterdeploy.core.plan import plan
from clusterdeploy.deploy import operations, waiting
from clusterdeploy.deploy.progress import (
    HEARTBEAT,
    BuildProgress,
    Progress,
    pending_text,
    run_streaming,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def progress(tty: bool) -> tuple[Progress, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    return Progress("@local", stream, tty=tty, clock=clock), stream, clock


def test_plain_lines_when_something_changes_and_at_every_heartbeat():
    shown, stream, clock = progress(tty=False)
    build = BuildProgress(shown, "images.node (my-db:abc)")
    clock.now += 1
    build.line("Step 1/3 : FROM debian:bookworm")
    build.line(" ---> Using cache")  # nothing new: no line
    clock.now += 5
    build.tick()  # 6 s of silence: still no line
    clock.now += HEARTBEAT
    build.tick()
    clock.now += 30
    build.line("Step 3/3 : RUN go build -C ./cmd -o /out/service/server")
    build.finish(True)
    assert stream.getvalue().splitlines() == [
        "    [@local] build images.node (my-db:abc): starting (0s)",
        "    [@local] build images.node (my-db:abc): Step 1/3 FROM debian:bookworm (1s)",
        "    [@local] build images.node (my-db:abc): Step 1/3 FROM debian:bookworm (16s)",
        "    [@local] build images.node (my-db:abc): Step 3/3 RUN go build -C ./cmd -o "
        "/out/service/server (46s)",
        "    [@local] build images.node (my-db:abc): built in 46s"]


def test_on_a_terminal_one_line_updated_in_place():
    shown, stream, clock = progress(tty=True)
    build = BuildProgress(shown, "images.node (my-db:abc)")
    clock.now += 1
    build.tick()
    build.line("Step 2/3 : COPY cmd/ ./cmd/")
    clock.now += 70
    build.finish(False)
    assert stream.getvalue() == (
        "\r\033[K    [@local] build images.node (my-db:abc): starting (0s)"
        "\r\033[K    [@local] build images.node (my-db:abc): starting (1s)"
        "\r\033[K    [@local] build images.node (my-db:abc): Step 2/3 COPY cmd/ ./cmd/ (1s)"
        "\r\033[K    [@local] build images.node (my-db:abc): failed at Step 2/3 COPY cmd/ "
        "./cmd/ in 1m11s\n")


def test_pending_containers_in_words():
    pending = [(f"ci_node{i}", "starting") for i in range(1, 9)]
    assert pending_text(pending[:2], 6, 12.4) == (
        "waiting for health (12s): 4/6 ready; pending: ci_node1 (starting), ci_node2 (starting)")
    assert pending_text(pending, 100, 75).endswith("ci_node6 (starting) and 2 more")


def test_run_streaming_hands_over_each_line_as_it_comes():
    seen: list[str] = []
    idle: list[int] = []
    script = "echo 'Step 1/2 : FROM x'; sleep 0.3; printf 'Step 2/2 : RUN y\\nno newline'; exit 3"
    status, lines = run_streaming(shlex.join(["sh", "-c", script]), seen.append,
                                  lambda: idle.append(1), idle=0.1)
    assert status == 3
    assert lines == seen == ["Step 1/2 : FROM x", "Step 2/2 : RUN y", "no newline"]
    assert idle  # the silent 0.3 s called on_idle


def test_a_local_build_shows_its_steps_and_fails_with_its_output(project_desired, monkeypatch,
                                                                  capsys):
    build = of_kind(plan(project_desired, ObservedState()), Kind.BUILD)[0]
    script = "echo 'Step 1/2 : FROM debian:bookworm'; echo 'Step 2/2 : RUN false'; exit 1"
    monkeypatch.setattr(operations.commands, "build_shell",
                        lambda image, tag_latest: shlex.join(["sh", "-c", script]))
    host = LoggingHost()
    assert operations._run_build(None, host, build, False) is False
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"    [@local] build images.builder ({build.image.ref}): starting (0s)"
    assert err[-1] == (f"    [@local] build images.builder ({build.image.ref}): failed at "
                       "Step 2/2 RUN false in 0s")
    assert host.logged[0].startswith(f"build of images.builder ({build.image.ref}) failed at "
                                     "Step 2/2")


def test_the_health_wait_names_the_pending_containers(desired, monkeypatch, capsys):
    monkeypatch.setattr(waiting, "QUIET", 0.0)
    monkeypatch.setattr(waiting, "SETTLE_SECONDS", 0.0)  # the tester has no health check
    polls = iter(["starting", "starting", "healthy"])
    host = LoggingHost()

    def run(command: StringCommand, **kwargs: Any) -> tuple[bool, Any]:
        node2 = next(polls)
        text = "\n".join(f"/{c.name}\trunning\t{'' if c.name == 'ci_tester' else 'healthy'}\t0"
                         if c.name != "ci_node2" else f"/ci_node2\trunning\t{node2}\t0"
                         for c in desired.containers)
        return True, type("Output", (), {"stdout_lines": text.splitlines()})
    host.run_shell_command = run
    assert waiting.wait_healthy(None, host, desired.containers, 0.01, "local") is True
    assert capsys.readouterr().err.splitlines() == [
        "    [@local] waiting for health (0s): 3/4 ready; pending: ci_node2 (starting)",
        "    [@local] 4 containers healthy after 0s"]


class LoggingHost:
    name = "@local"

    def __init__(self) -> None:
        self.logged: list[str] = []

    def log_styled(self, text: str, **kwargs: Any) -> None:
        self.logged.append(text)


def of_kind(actions: list[Any], kind: Kind) -> list[Any]:
    return [a for a in actions if a.kind == kind]


@pytest.fixture
def project_desired(project):
    return desired_for(load_spec(project / "cluster.yml"))


@pytest.fixture
def desired(load):
    return desired_for(load(base_doc(count=3), "three.yml"))
