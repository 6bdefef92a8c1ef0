"""Bad specs and the exact messages a person reads: `<file>: <path>: <what> (<fix>)`."""

from __future__ import annotations

import pytest
from unitlib import base_doc

NODE_KEYS = (
    "address, cap_add, cap_drop, command, container_name, cpus, entrypoint, environment, "
    "extra_hosts, files, files_dir, healthcheck, host, hostname, image, init, labels, memory, "
    "memory_swap, mounts, name, pids_limit, ports, privileged, ready_timeout, restart, "
    "service_ports, shm_size, stop_grace_period, sysctls, tmpfs, ulimits, user, volumes, "
    "working_dir"
)
RFC1123_FIX = ("use an RFC 1123 label: letters, digits and '-', at most 63 characters, "
               "not starting or ending with '-'")


def node(i, **values):
    """Mutation: set keys of nodes[i]."""
    def apply(doc):
        doc["nodes"][i].update(values)
    return apply


def top(**values):
    def apply(doc):
        doc.update(values)
    return apply


def delete(key):
    def apply(doc):
        del doc[key]
    return apply


def sanitizers(*names):
    def apply(doc):
        doc["build"]["sanitizers"] = list(names)
    return apply


def subnet(value):
    def apply(doc):
        doc["network"]["subnet"] = value
    return apply


def defaults(**values):
    def apply(doc):
        doc["defaults"].update(values)
    return apply


# (id, mutation of base_doc(), path, fragment of the message or fix)
BAD_SPECS = [
    ("unknown-top-key", top(nmae="ci"), "nmae",
     "unknown key 'nmae' (check the spelling; allowed here: bootstrap, build, defaults, faults, "
     "host_names, hosts, images, logs, name, network, nodes, tester, vars)"),
    ("unknown-node-key", node(1, hostnme="x"), "nodes[1].hostnme",
     f"unknown key 'hostnme' (check the spelling; allowed here: {NODE_KEYS})"),
    ("missing-name", delete("name"), "", "missing required key 'name' (add name:)"),
    ("wrong-type-ports", node(0, ports="127.0.0.1:40401:40404"), "nodes[0].ports",
     "'127.0.0.1:40401:40404' is a string, expected array"),
    ("wrong-type-init", defaults(init="yes"), "defaults.init",
     "'yes' is a string, expected boolean"),
    ("bad-duration", defaults(stop_grace_period="10 s"), "defaults.stop_grace_period",
     "'10 s' is not valid here (write a duration like 10s, 1m30s or 500ms)"),
    ("duplicate-name", node(1, name="node1"), "nodes[1].name",
     "name 'node1' is used by node1, node1"),
    ("duplicate-hostname", node(1, hostname="node1"), "nodes[1].hostname",
     "hostname 'node1' is used by node1, node2 (give each node its own hostname)"),
    ("duplicate-container-name", node(1, container_name="ci_node1"), "nodes[1].container_name",
     "container_name 'ci_node1' is used by node1, node2 (give each node its own container_name)"),
    ("tester-container-name-taken", top(tester={"container_name": "ci_node1"}),
     "tester.container_name", "container_name 'ci_node1' is used by node1, tester"),
    ("same-host-port-loopback", node(1, ports=["127.0.0.1:40401:40404"]), "nodes[1].ports[0]",
     "host port 127.0.0.1:40401 is already published by node1 (127.0.0.1:40401:40404/tcp); "
     "node2 cannot bind it too (give each node its own host port (HOST_PORT:CONTAINER_PORT, "
     "host first), e.g. 127.0.0.1:40402:40404)"),
    ("any-address-vs-loopback", node(1, ports=["40401:40404"]), "nodes[1].ports[0]",
     "host port 0.0.0.0:40401 is already published by node1 (127.0.0.1:40401:40404/tcp); "
     "node2 cannot bind it too"),
    ("container-port-not-listened", node(1, ports=["127.0.0.1:40402:8080"]), "nodes[1].ports[0]",
     "container port 8080 is not a port the service listens on (40404) (publish a service "
     "port, e.g. 127.0.0.1:40402:40404)"),
    ("hostname-shell-injection", node(1, hostname="node1;touch /tmp/pwned"), "nodes[1].hostname",
     f"'node1;touch /tmp/pwned' is not valid here ({RFC1123_FIX})"),
    ("hostname-leading-dash", node(1, hostname="-node"), "nodes[1].hostname",
     "'-node' is not valid here"),
    ("hostname-trailing-dash", node(1, hostname="node-"), "nodes[1].hostname",
     "'node-' is not valid here"),
    ("hostname-underscore", node(1, hostname="node_2"), "nodes[1].hostname",
     "'node_2' is not valid here"),
    ("hostname-dot", node(1, hostname="node.2"), "nodes[1].hostname", "'node.2' is not valid"),
    ("hostname-64-chars", node(1, hostname="a" * 64), "nodes[1].hostname",
     f"'{'a' * 64}' is not valid here"),
    ("hostname-empty", node(1, hostname=""), "nodes[1].hostname", "'' is not valid here"),
    ("host-port-70000", node(1, ports=["127.0.0.1:70000:40404"]), "nodes[1].ports[0]",
     "host port 70000 is outside 1-65535"),
    ("container-port-70000", node(1, ports=["70000"]), "nodes[1].ports[0]",
     "container port 70000 is outside 1-65535"),
    ("integer-port-70000", node(1, ports=[70000]), "nodes[1].ports[0]",
     "70000 is outside 1-65535 (use a number from 1 to 65535)"),
    ("host-port-0", node(1, ports=["127.0.0.1:0:40404"]), "nodes[1].ports[0]",
     "host port 0 is outside 1-65535"),
    ("integer-port-0", node(1, ports=[0]), "nodes[1].ports[0]", "0 is outside 1-65535"),
    ("subnet-too-small", subnet("172.28.0.0/30"), "network.subnet",
     "subnet 172.28.0.0/30 has 2 usable addresses; the gateway, 5 nodes and the tester need 7 "
     "(use a larger subnet, e.g. 172.28.0.0/28)"),
    ("subnet-host-bits", subnet("172.28.0.7/24"), "network.subnet",
     "'172.28.0.7/24' is not a valid subnet: 172.28.0.7/24 has host bits set"),
    ("address-outside-subnet", node(1, address="10.0.0.5"), "nodes[1].address",
     "10.0.0.5 is not a host address in 172.28.0.0/24 (choose an address in 172.28.0.0/24)"),
    ("address-broadcast", node(1, address="172.28.0.255"), "nodes[1].address",
     "172.28.0.255 is not a host address in 172.28.0.0/24"),
    ("address-gateway", node(1, address="172.28.0.1"), "nodes[1].address",
     "172.28.0.1 is the network's gateway"),
    ("duplicate-explicit-address",
     lambda doc: (node(1, address="172.28.0.9")(doc), node(2, address="172.28.0.9")(doc)),
     "nodes[2].address", "address 172.28.0.9 is used by node2, node3 (give each node its own "
     "address or leave it out)"),
    ("unknown-sanitizer", sanitizers("tsan"), "build.sanitizers[0]",
     "'tsan' is not one of race, msan, asan (choose one of race, msan, asan)"),
    ("msan-with-race", sanitizers("msan", "race"), "build.sanitizers",
     "msan and race cannot be combined: msan works only alone"),
    ("asan-with-msan", sanitizers("asan", "msan"), "build.sanitizers",
     "asan and msan cannot be combined"),
    ("missing-template", defaults(files=[{"template": "nope.j2", "path": "x"}]),
     "defaults.files[0].template", "nope.j2 does not exist"),
    ("missing-dockerfile", top(images={"x": {"tag": "x", "dockerfile": "nope/Dockerfile"}}),
     "images.x.dockerfile", "nope/Dockerfile does not exist"),
]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [case[1:] for case in BAD_SPECS],
                         ids=[case[0] for case in BAD_SPECS])
def test_bad_spec_is_reported_at_its_path(errors, tmp_path, mutate, path, fragment):
    doc = base_doc()
    mutate(doc)
    error = errors(doc)
    lines = str(error).splitlines()
    prefix = f"{tmp_path / 'cluster.yml'}: {path}: " if path else f"{tmp_path / 'cluster.yml'}: "
    matching = [line for line in lines if line.startswith(prefix) and fragment in line]
    assert matching, f"no problem at {path!r} containing {fragment!r} in:\n{error}"


def test_wrong_type_fix_is_grammatical(errors):
    doc = base_doc()
    doc["nodes"][0]["ports"] = "127.0.0.1:40401:40404"
    assert "(write an array here)" in str(errors(doc))


def test_valid_spec_has_no_problems(load):
    assert len(load(base_doc()).nodes) == 5


def test_host_ip_with_an_ephemeral_host_port_is_accepted(load):
    doc = base_doc(count=2)
    doc["nodes"][1]["ports"] = ["127.0.0.1::40404"]
    assert str(load(doc).nodes[1].ports[0]) == "127.0.0.1::40404/tcp"


def test_compact_publish_beyond_65535_names_the_nodes(errors):
    error = errors(base_doc(nodes={"count": 5, "publish": {"base": 65532}}))
    lines = str(error).splitlines()
    assert len(lines) == 2
    assert "node4" in lines[0] and "65536" in lines[0]
    assert "node5" in lines[1] and "65537" in lines[1]


# --- the seed README's port list: every node publishes "40404:4040I" ----------------------------


def seed_readme_ports():
    doc = base_doc()
    for i, n in enumerate(doc["nodes"], start=1):
        n["ports"] = [f"40404:{40400 + i}"]
    return doc


def test_seed_readme_ports_are_rejected_naming_nodes_and_port(errors):
    text = str(errors(seed_readme_ports()))
    assert ("nodes[1].ports[0]: host port 0.0.0.0:40404 is already published by node1 "
            "(0.0.0.0:40404:40401/tcp); node2 cannot bind it too") in text
    for i in (2, 3, 4, 5):
        assert f"node{i} cannot bind it too" in text


def test_seed_readme_ports_say_they_look_swapped(errors):
    text = str(errors(seed_readme_ports()))
    assert ("nodes[0].ports[0]: container port 40401 is not a port the service listens on "
            "(40404) (the ports look swapped: compose short syntax is HOST_PORT:CONTAINER_PORT)"
            ) in text


@pytest.mark.parametrize("i", [1, 2, 3, 4, 5])
def test_seed_readme_ports_fix_suggests_loopback_4040i_to_40404(errors, i):
    problems = [p for p in errors(seed_readme_ports()).problems
                if p.path == f"nodes[{i - 1}].ports[0]"]
    assert problems
    suggested = {p.fix.rsplit("e.g. ", 1)[-1] for p in problems}
    assert suggested == {f"127.0.0.1:{40400 + i}:40404"}


# --- every problem at once, sorted by path ------------------------------------------------------


def test_schema_problems_are_all_reported_sorted_with_numeric_indices(errors):
    doc = base_doc(count=12)
    doc["nmae"] = "x"
    for i in (10, 2, 9):
        doc["nodes"][i]["hostname"] = f"bad_{i}"
    doc["defaults"]["init"] = "yes"
    paths = [p.path for p in errors(doc).problems]
    assert paths == ["defaults.init", "nmae", "nodes[2].hostname", "nodes[9].hostname",
                     "nodes[10].hostname"]


def test_semantic_problems_are_all_reported_sorted(errors):
    doc = base_doc(count=12)
    for n in doc["nodes"]:
        n["ports"] = ["127.0.0.1:5000:40404"]
    doc["nodes"][3]["address"] = "10.0.0.1"
    doc["build"]["sanitizers"] = ["msan", "race"]
    paths = [p.path for p in errors(doc).problems]
    assert paths == ["build.sanitizers", "nodes[1].ports[0]", "nodes[2].ports[0]",
                     "nodes[3].address", *[f"nodes[{i}].ports[0]" for i in range(3, 12)]]


def test_each_problem_is_one_line(errors):
    doc = base_doc(count=12)
    for n in doc["nodes"]:
        n["ports"] = ["127.0.0.1:5000:40404"]
    error = errors(doc)
    assert len(str(error).splitlines()) == len(error.problems) == 11
