"""Loading a spec: defaults filled in, the compact form expanded, file selection, YAML errors."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from unitlib import REPO, base_doc, spec_errors, write_spec

from clusterdeploy.clusterspec import SPEC_ENV, load_spec, spec_path

# --- the repository's default spec -------------------------------------------------------------


@pytest.fixture(scope="module")
def default_spec():
    return load_spec(REPO / "cluster.yml")


def test_default_spec_has_five_nodes(default_spec):
    assert [n.name for n in default_spec.nodes] == ["node1", "node2", "node3", "node4", "node5"]
    assert [n.hostname for n in default_spec.nodes] == [f"node{i}" for i in range(1, 6)]


def test_default_spec_container_names(default_spec):
    assert [n.container_name for n in default_spec.nodes] == [f"ci_node{i}" for i in range(1, 6)]
    assert default_spec.tester.container_name == "ci_tester"


def test_default_spec_publishes_4040i_on_loopback_to_40404(default_spec):
    assert [[str(p) for p in n.ports] for n in default_spec.nodes] == [
        [f"127.0.0.1:{40400 + i}:40404/tcp"] for i in range(1, 6)
    ]


def test_default_spec_network_and_privileges(default_spec):
    assert default_spec.name == "ci"
    assert default_spec.network.name == "netDB"
    assert default_spec.network.subnet == "172.28.0.0/24"
    assert default_spec.defaults["privileged"] is False
    assert default_spec.defaults["cap_add"] == ("NET_ADMIN", "NET_RAW", "SYS_PTRACE")
    assert all(not n.settings["privileged"] for n in default_spec.nodes)


def test_default_spec_images_builder_then_node(default_spec):
    assert {k: i.tag for k, i in default_spec.images.items()} == {
        "builder": "go-builder", "node": "my-db"}
    assert default_spec.images["node"].requires == ("builder",)
    assert (REPO / "docker-test" / "Dockerfile").is_file()


# --- defaults and values ------------------------------------------------------------------------


def test_node_defaults_filled_in(load):
    spec = load(base_doc())
    node = spec.nodes[0]
    assert node.hostname == "node1"
    assert node.address == "172.28.0.2"
    assert node.settings["init"] is True
    assert node.settings.stop_grace_period == 10.0
    assert node.settings.service_ports == {"http": 40404}
    assert node.settings.environment == {"CFG_PATH": "/root/Cluster.config"}
    assert spec.tester.member.address == "172.28.0.254"
    assert [h.name for h in spec.hosts] == ["local"]
    assert spec.hosts[0].is_local and spec.hosts[0].images == "ship"


def test_ssh_host_paths_resolve_against_the_spec_file(load, tmp_path):
    doc = base_doc()
    doc["hosts"] = [{"name": "lab", "ssh": {"address": "10.251.0.2", "key": "keys/id",
                                            "known_hosts": "/abs/known_hosts"},
                     "images": "build"}]
    host = load(doc).hosts[0]
    assert not host.is_local and host.images == "build"
    assert host.ssh is not None
    assert (host.ssh.address, host.ssh.user, host.ssh.port) == ("10.251.0.2", "root", 22)
    assert host.ssh.key == tmp_path / "keys" / "id"
    assert str(host.ssh.known_hosts) == "/abs/known_hosts"


def test_addresses_follow_spec_order_after_the_gateway(load):
    spec = load(base_doc())
    assert spec.network.gateway == "172.28.0.1"
    assert [n.address for n in spec.nodes] == [f"172.28.0.{i}" for i in range(2, 7)]


def test_container_name_defaults_to_cluster_and_node_name(load):
    doc = base_doc()
    for node in doc["nodes"]:
        del node["container_name"]
    del doc["tester"]
    spec = load(doc)
    assert spec.nodes[0].container_name == "ci_node1"
    assert spec.tester.container_name == "ci_tester"


def test_node_environment_is_merged_with_defaults(load):
    doc = base_doc()
    doc["nodes"][2]["environment"] = {"FOO": "bar"}
    spec = load(doc)
    assert spec.nodes[2].settings.environment == {"CFG_PATH": "/root/Cluster.config",
                                                  "FOO": "bar"}
    assert spec.nodes[1].settings.environment == {"CFG_PATH": "/root/Cluster.config"}


def test_environment_numbers_and_booleans_become_strings(load):
    doc = base_doc()
    doc["defaults"]["environment"] = {"N": 3, "B": True, "F": False}
    assert load(doc).nodes[0].settings.environment == {"N": "3", "B": "true", "F": "false"}


def test_default_subnet_is_stable_and_derived_from_the_name(load):
    doc = base_doc()
    del doc["network"]
    first, second = load(doc).network, load(doc).network
    assert first == second
    assert first.name == "netDB"
    assert ipaddress.IPv4Network(first.subnet).subnet_of(ipaddress.IPv4Network("172.28.0.0/16"))


def test_spec_is_immutable(load):
    spec = load(base_doc())
    with pytest.raises(AttributeError):
        spec.nodes[0].name = "x"


# --- the compact form ---------------------------------------------------------------------------


def compact(count=5, **extra):
    nodes = {"count": count, "container_name": "ci_node{i}", "publish": {"base": 40400}}
    nodes.update(extra)
    return base_doc(nodes=nodes)


def test_compact_form_expands_names_and_containers(load):
    spec = load(compact())
    assert [n.name for n in spec.nodes] == [f"node{i}" for i in range(1, 6)]
    assert [n.container_name for n in spec.nodes] == [f"ci_node{i}" for i in range(1, 6)]
    assert [n.hostname for n in spec.nodes] == [f"node{i}" for i in range(1, 6)]


def test_compact_form_publishes_base_plus_i_to_the_service_port(load):
    spec = load(compact())
    assert [[str(p) for p in n.ports] for n in spec.nodes] == [
        [f"127.0.0.1:{40400 + i}:40404/tcp"] for i in range(1, 6)
    ]


def test_compact_form_equals_the_list_form(load):
    def shape(spec):
        return [(n.name, n.hostname, n.container_name, n.address, n.ports, n.settings)
                for n in spec.nodes]

    assert shape(load(compact())) == shape(load(base_doc()))


def test_compact_form_override_applies_to_that_node_only(load):
    spec = load(compact(overrides={"node3": {"environment": {"FOO": "bar"}}}))
    envs = {n.name: n.settings.environment for n in spec.nodes}
    assert envs["node3"] == {"CFG_PATH": "/root/Cluster.config", "FOO": "bar"}
    assert all("FOO" not in env for name, env in envs.items() if name != "node3")


def test_compact_form_override_for_unknown_node_is_an_error(errors):
    error = errors(compact(overrides={"node9": {"environment": {"FOO": "bar"}}}))
    assert [(p.path, p.message, p.fix) for p in error.problems] == [
        ("nodes.overrides.node9", "there is no node 'node9'",
         "use a generated name, node1..node5"),
    ]


def test_two_hundred_nodes_compact_spec_loads(load):
    doc = compact(count=200)
    doc["network"]["subnet"] = "172.28.0.0/23"
    spec = load(doc)
    assert len(spec.nodes) == 200
    assert spec.nodes[-1].name == "node200"
    assert str(spec.nodes[-1].ports[0]) == "127.0.0.1:40600:40404/tcp"
    assert len({n.address for n in spec.nodes} | {spec.tester.member.address}) == 201


def test_three_hundred_nodes_do_not_fit_a_slash_24(errors):
    doc = compact(count=300)
    doc["network"]["subnet"] = "172.28.0.0/24"
    assert str(errors(doc).problems[0]).endswith(
        "network.subnet: subnet 172.28.0.0/24 has 254 usable addresses; the gateway, 300 nodes "
        "and the tester need 302 (use a larger subnet, e.g. 172.28.0.0/23)")


# --- which file ---------------------------------------------------------------------------------


def test_cluster_spec_environment_variable_selects_the_file(tmp_path, monkeypatch):
    path = write_spec(tmp_path, base_doc(name="fromenv"), "other.yml")
    monkeypatch.setenv(SPEC_ENV, str(path))
    monkeypatch.chdir(tmp_path)
    spec = load_spec()
    assert spec.name == "fromenv"
    assert spec.file == path


def test_argument_wins_over_cluster_spec(tmp_path, monkeypatch):
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "env.yml"))
    assert spec_path(tmp_path / "arg.yml") == str(tmp_path / "arg.yml")


def test_default_file_is_cluster_yml(monkeypatch):
    monkeypatch.delenv(SPEC_ENV, raising=False)
    assert spec_path() == "cluster.yml"


def test_relative_paths_resolve_against_the_spec_file(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    doc = base_doc()
    doc["logs"] = {"dir": "mylogs"}
    write_spec(sub, doc)
    monkeypatch.chdir(tmp_path)
    assert load_spec(Path("sub") / "cluster.yml").logs_dir == sub / "mylogs"


# --- unreadable documents -----------------------------------------------------------------------


def test_missing_file_is_one_line(tmp_path):
    path = tmp_path / "nope.yml"
    error = spec_errors(path)
    assert str(error) == f"{path}: no such file (create it or set CLUSTER_SPEC)"
    assert "\n" not in str(error)


def test_unreadable_spec_is_one_line(tmp_path):
    (tmp_path / "dir.yml").mkdir()
    assert str(spec_errors(tmp_path / "dir.yml")) == (
        f"{tmp_path / 'dir.yml'}: is not a regular file (point at a YAML file)")


def test_yaml_syntax_error_reports_line_and_column(tmp_path):
    path = write_spec(tmp_path, "name: ci\nnodes: [a, b\n  foo: : bar\n")
    assert str(spec_errors(path)) == (
        f"{path}: line 3, column 6: YAML syntax error: expected ',' or ']', but got ':' "
        "(fix the YAML)")


def test_yaml_bad_indentation_reports_line_and_column(tmp_path):
    path = write_spec(tmp_path, "name: ci\nnodes:\n  - name: a\n   bad: 1\n")
    assert f"{path}: line 4, column 4: YAML syntax error" in str(spec_errors(path))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "", "42\n"],
                         ids=["list", "string", "empty", "number"])
def test_non_mapping_document_is_rejected(tmp_path, text):
    path = write_spec(tmp_path, text)
    assert str(spec_errors(path)) == (
        f"{path}: the spec must be a YAML mapping (start with `name: <cluster>` and `nodes:`)")


def test_node_healthcheck_is_merged_over_the_inherited_one(load):
    doc = base_doc()
    doc["nodes"][0]["healthcheck"] = {"test": ["CMD", "true"]}
    doc["nodes"][1]["healthcheck"] = {"retries": 9}
    spec = load(doc)
    first, second = spec.nodes[0].settings.healthcheck, spec.nodes[1].settings.healthcheck
    assert first is not None and second is not None
    assert first.test == ("CMD", "true") and first.interval == 1.0 and first.retries == 3
    assert second.test == spec.defaults.healthcheck.test and second.retries == 9


def test_node_http_healthcheck_replaces_an_inherited_test(load):
    doc = base_doc()
    doc["nodes"][0]["healthcheck"] = {"http": "/healthz"}
    check = load(doc).nodes[0].settings.healthcheck
    assert check is not None
    assert check.test == ("CMD", "curl", "-fsS", "-o", "/dev/null",
                          "http://127.0.0.1:40404/healthz")


@pytest.mark.parametrize(("count", "interval"), [(5, 1.0), (10, 1.0), (11, 2.0), (30, 3.0),
                                                  (100, 10.0)])
def test_the_default_health_interval_scales_with_the_node_count(load, count, interval):
    doc = base_doc(nodes={"count": count})
    spec = load(doc)
    assert {n.settings.healthcheck.interval for n in spec.nodes} == {interval}


def test_a_written_health_interval_wins_over_the_scaled_default(load):
    doc = base_doc(nodes={"count": 100})
    doc["defaults"]["healthcheck"] = {"interval": "2s"}
    assert load(doc).nodes[0].settings.healthcheck.interval == 2.0


def test_healthcheck_none_turns_the_check_off(load):
    doc = base_doc(count=1)
    doc["nodes"][0]["healthcheck"] = {"test": ["NONE"]}
    assert load(doc).nodes[0].settings.healthcheck.test == ("NONE",)


@pytest.mark.parametrize("test", [["CMD"], ["NONE", "x"], ["CMD-SHELL"]])
def test_a_healthcheck_test_that_is_no_check_is_a_spec_error(errors, test):
    doc = base_doc(count=1)
    doc["nodes"][0]["healthcheck"] = {"test": test}
    assert any(p.path == "nodes[0].healthcheck.test" for p in errors(doc).problems)
