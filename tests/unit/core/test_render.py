"""Per-node files rendered from templates: the replica table, setup.sh, template errors."""

from __future__ import annotations

import subprocess

import pytest
from unitlib import base_doc

from clusterdeploy.core.render import render_cluster, render_member
from clusterdeploy.errors import SpecError

REPLICAS = [f"node{i} 172.28.0.{i + 1} 40404" for i in range(1, 6)]


def files_of(spec, member):
    return {f.path: f for f in render_member(spec, member)}


def replica_lines(content: bytes) -> list[str]:
    return [line for line in content.decode().splitlines() if line and not line.startswith("#")]


def test_cluster_config_lists_every_replica(load):
    spec = load(base_doc())
    assert replica_lines(files_of(spec, spec.nodes[0])["Cluster.config"].content) == REPLICAS


def test_every_member_gets_the_same_replica_table(load):
    spec = load(base_doc())
    tables = {m.container_name: replica_lines(files_of(spec, m)["Cluster.config"].content)
              for m in spec.members}
    assert all(table == REPLICAS for table in tables.values())


def test_replica_port_is_the_first_service_port(load):
    doc = base_doc(count=2)
    doc["defaults"]["service_ports"] = {"http": 8080, "admin": 9090}
    for n in doc["nodes"]:
        n["ports"] = ["127.0.0.1:" + n["ports"][0].split(":")[1] + ":8080"]
    spec = load(doc)
    assert replica_lines(files_of(spec, spec.nodes[1])["Cluster.config"].content) == [
        "node1 172.28.0.2 8080", "node2 172.28.0.3 8080"]


def test_setup_sh_exports_this_nodes_values(load):
    spec = load(base_doc())
    setup = files_of(spec, spec.nodes[2])["setup.sh"]
    text = setup.content.decode()
    assert "export SELF_IP=172.28.0.4\n" in text
    assert "export NODE_NAME=node3\n" in text
    assert text.rstrip().endswith('exec /root/service/server "$@"')
    assert setup.mode == 0o755


def test_tester_setup_sh_idles(load):
    spec = load(base_doc())
    text = files_of(spec, spec.tester.member)["setup.sh"].content.decode()
    assert text.rstrip().endswith("exec sleep infinity")


def test_rendered_setup_sh_is_valid_shell(load, tmp_path):
    spec = load(base_doc())
    script = tmp_path / "setup.sh"
    script.write_bytes(files_of(spec, spec.nodes[0])["setup.sh"].content)
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0


def test_default_file_mode_is_0644(load):
    spec = load(base_doc())
    assert files_of(spec, spec.nodes[0])["Cluster.config"].mode == 0o644


def template_spec(tmp_path, body, name="bad.j2"):
    (tmp_path / name).write_text(body)
    doc = base_doc()
    doc["defaults"]["files"].append({"template": name, "path": "extra"})
    return doc


def test_shquote_filter_quotes_for_sh(load, tmp_path):
    hostile = "it's $(touch pwned) `touch pwned2` \"q\" ; rm -rf x\nnext"
    body = 'value={{ "' + hostile.replace("\\", "\\\\").replace('"', '\\"').replace(
        "\n", "\\n") + '" | shquote }}\nprintf %s "$value"\n'
    spec = load(template_spec(tmp_path, body, "quote.j2"))
    script = files_of(spec, spec.nodes[0])["extra"].content
    result = subprocess.run(["sh", "-c", script.decode()], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.stdout == hostile
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "pwned2").exists()


def test_undefined_variable_names_template_line_and_node(load, tmp_path):
    # reported when the cluster is rendered (validate, the inventory), before any host is
    # touched; once, not once per node
    with pytest.raises(SpecError) as info:
        render_cluster(load(template_spec(tmp_path, "# ok\n{{ node.name }}\n{{ node.nope }}\n")))
    [problem] = info.value.problems
    assert problem.message == "bad.j2 line 3: 'dict object' has no attribute 'nope', " \
                              "rendering node1"
    assert str(problem).startswith(f"{tmp_path / 'cluster.yml'}: ")


def test_undefined_top_level_variable_names_template_line_and_node(load, tmp_path):
    with pytest.raises(SpecError) as info:
        render_cluster(load(template_spec(
            tmp_path, "a\n{% if node.index == 2 %}{{ nope }}{% endif %}\n")))
    assert "bad.j2 line 2: 'nope' is undefined, rendering node2" in str(info.value)


def test_user_vars_reach_templates(load, tmp_path):
    doc = template_spec(tmp_path, "payload {{ vars.max_payload }} on {{ node.name }}\n")
    doc["vars"] = {"max_payload": 1024}
    spec = load(doc)
    files = {f.path: f.content for f in render_member(spec, spec.nodes[1])}
    assert files["extra"] == b"payload 1024 on node2\n"


def test_template_syntax_error_names_template_line_and_node(load, tmp_path):
    with pytest.raises(SpecError) as info:
        render_cluster(load(template_spec(tmp_path, "a\nb\n{% if %}\n")))
    [problem] = info.value.problems
    assert "bad.j2 line 3: syntax error" in problem.message
    assert "node1" in problem.message
