"""Docker's cryptic errors rewritten into one line naming the host, the node and the fix."""

from __future__ import annotations

import pytest

from clusterdeploy.docker.errors import explain

CAPS = ("Error response from daemon: failed to create task for container: failed to create shim "
        "task: OCI runtime create failed: runc create failed: unable to start container process: "
        "error during container init: unable to apply caps: operation not permitted: unknown")
PORT_BIND = ("Error response from daemon: driver failed programming external connectivity on "
             "endpoint ci_node1 (4c67a4e95af2e3d4): Bind for 127.0.0.1:40401 failed: port is "
             "already allocated")
PORT_LISTEN = ("Error response from daemon: driver failed programming external connectivity on "
               "endpoint ci_node1 (4c67a4e9): Error starting userland proxy: listen tcp4 "
               "0.0.0.0:40401: bind: address already in use")


def test_privileged_caps_error():
    assert explain("local", "node1", CAPS) == (
        "local: node1: the engine cannot grant every capability a privileged container needs "
        "('unable to apply caps: operation not permitted') (set privileged: false and list what "
        "the node needs in cap_add, e.g. [NET_ADMIN, NET_RAW, SYS_PTRACE])")


@pytest.mark.parametrize(("output", "address"), [(PORT_BIND, "127.0.0.1"),
                                                 (PORT_LISTEN, "0.0.0.0")])
def test_port_already_allocated(output, address):
    assert explain("local", "node1", output) == (
        f"local: node1: host port {address}:40401 is already in use by another process or "
        "container (free it, or publish this node on another host port)")


@pytest.mark.parametrize("output", [
    "Error response from daemon: No such image: my-db:0817302b19b360ea",
    "Unable to find image 'my-db:0817302b19b360ea' locally\nError response from daemon: pull "
    "access denied for my-db, repository does not exist or may require 'docker login': denied: "
    "requested access to the resource is denied",
])
def test_missing_image(output):
    assert explain("web1", "node3", output, image="my-db:0817302b19b360ea") == (
        "web1: node3: image my-db:0817302b19b360ea is not on the host (the build of its `images` "
        "entry should have made it; redeploy, or build it by hand if it is not built by "
        "clusterdeploy)")


def test_container_name_taken():
    output = ('Error response from daemon: Conflict. The container name "/ci_node1" is already '
              'in use by container "e385d9e2a74d". You have to remove (or rename) that container '
              "to be able to reuse that name.")
    assert explain("local", "node1", output) == (
        "local: node1: the container name is taken by a container outside the cluster "
        "(remove or rename it)")


RLIMIT = ("Error response from daemon: failed to create shim task: OCI runtime create failed: "
          "runc create failed: unable to start container process: error during container init: "
          "error setting rlimits for ready process: error setting rlimit type 7: operation not "
          "permitted: unknown\nError: failed to start containers: ci_node1\n")


def test_unknown_error_keeps_the_last_line():
    assert explain("local", "node1", "first\nsomething new\n") == "local: node1: something new"


def test_unknown_error_shows_the_daemons_reason_not_the_cli_summary():
    output = "Error response from daemon: no such thing\nError: failed to start containers: x\n"
    assert explain("local", "node1", output) == "local: node1: no such thing"


def test_ulimit_above_the_engines_own_limit_names_the_setting():
    line = explain("local", "node1", RLIMIT)
    assert line.startswith("local: node1: the engine may not raise the nofile limit")
    assert "ulimits.nofile" in line


def test_no_output():
    assert explain("local", "node1", "") == "local: node1: failed without output"


def test_explanations_are_one_line():
    for output in (CAPS, PORT_BIND, PORT_LISTEN, RLIMIT, "a\nb\nc"):
        assert "\n" not in explain("local", "node1", output)
