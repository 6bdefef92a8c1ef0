"""Container settings a database test needs, from the spec to the exact `docker create` flags,
and what a Docker engine would refuse as one-line spec errors."""

from __future__ import annotations

import pytest
from unitlib import base_doc, desired_for

from clusterdeploy.docker.commands import create_container

ENV = "/tmp/clusterdeploy-x/node.env"


def flags(load, **settings):
    doc = base_doc(count=1)
    doc["nodes"][0].update(settings)
    return create_container(desired_for(load(doc)).container("ci_node1"), "ci", ENV)


def pairs(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_every_option_reaches_docker_create(load, tmp_path):
    argv = flags(load, volumes=[{"name": "data", "path": "/var/lib/db"}],
                 mounts=["./certs:/etc/certs", "shared:/shared:rw", "/srv/x:/x"],
                 tmpfs=["/run", "/scratch:size=64m"], memory="512m", memory_swap="1g",
                 cpus=0.5, pids_limit=200, ulimits={"nofile": 65536,
                                                    "nproc": {"soft": 100, "hard": 200}},
                 sysctls={"net.core.somaxconn": 1024}, restart="on-failure:3",
                 extra_hosts=["db.example:10.0.0.5"], shm_size="256m",
                 labels={"team": "storage", "debug": True}, working_dir="/srv",
                 entrypoint=["/bin/tini", "--"])
    assert pairs(argv, "--mount") == ["type=volume,source=ci_node1_data,target=/var/lib/db"]
    assert pairs(argv, "--volume")[1:] == [f"{tmp_path / 'certs'}:/etc/certs:ro",
                                           "shared:/shared:rw", "/srv/x:/x:ro"]
    assert pairs(argv, "--tmpfs") == ["/run", "/scratch:size=64m"]
    assert (pairs(argv, "--memory"), pairs(argv, "--memory-swap"), pairs(argv, "--cpus"),
            pairs(argv, "--pids-limit")) == (["512m"], ["1g"], ["0.5"], ["200"])
    assert pairs(argv, "--ulimit") == ["nofile=65536", "nproc=100:200"]
    assert pairs(argv, "--sysctl") == ["net.core.somaxconn=1024"]
    assert pairs(argv, "--restart") == ["on-failure:3"]
    assert pairs(argv, "--add-host") == ["db.example:10.0.0.5"]
    assert pairs(argv, "--shm-size") == ["256m"]
    assert "team=storage" in pairs(argv, "--label") and "debug=true" in pairs(argv, "--label")
    assert pairs(argv, "--workdir") == ["/srv"]
    assert pairs(argv, "--entrypoint") == ["/bin/tini"]
    assert argv[argv.index("--") + 1:] == ["busybox:1.36", "--", "/clusterdeploy/setup.sh"]


def test_an_empty_entrypoint_clears_the_images(load):
    argv = flags(load, entrypoint=[])
    assert pairs(argv, "--entrypoint") == [""]


def test_unset_options_add_no_flag_and_change_no_hash(load):
    plain = desired_for(load(base_doc(count=1))).container("ci_node1")
    argv = create_container(plain, "ci", ENV)
    for flag in ("--mount", "--tmpfs", "--memory", "--cpus", "--ulimit", "--sysctl",
                 "--restart", "--add-host", "--shm-size", "--workdir", "--entrypoint"):
        assert flag not in argv
    with_memory = base_doc(count=1)
    with_memory["nodes"][0]["memory"] = "64m"
    changed = desired_for(load(with_memory, "m.yml")).container("ci_node1")
    assert changed.config_hash != plain.config_hash


@pytest.mark.parametrize(("settings", "path", "message"), [
    ({"memory": "64q"}, "nodes[0].memory", "'64q' is not valid here (write a size like 512m"),
    ({"memory": "4m"}, "nodes[0].memory", "4m is under 6m, the least a Docker engine allows"),
    ({"memory": "1g", "memory_swap": "512m"}, "nodes[0].memory_swap",
     "512m needs a memory limit no larger than it"),
    ({"sysctls": {"vm.swappiness": 10}}, "nodes[0].sysctls",
     "use a namespaced setting: net.*, kernel.shm*"),
    ({"restart": "sometimes"}, "nodes[0].restart",
     "use no, always, unless-stopped, on-failure or on-failure:N"),
    ({"labels": {"io.clusterdeploy.cluster": "other"}}, "nodes[0].labels",
     "io.clusterdeploy.* labels are clusterdeploy's own"),
    ({"ulimits": {"nofile": {"soft": 10, "hard": 5}}}, "nodes[0].ulimits.nofile",
     "soft 10 is over hard 5"),
    ({"ulimits": {"files": 10}}, "nodes[0].ulimits", "'files' is not one of"),
    ({"tmpfs": ["run"]}, "nodes[0].tmpfs[0]", "write an absolute path"),
    ({"cpus": 0}, "nodes[0].cpus", "0 is outside 0.01-1024"),
    ({"volumes": [{"name": "Data!", "path": "/d"}]}, "nodes[0].volumes[0].name",
     "name the volume with lower-case letters"),
])
def test_values_an_engine_refuses_are_spec_errors(errors, settings, path, message):
    doc = base_doc(count=1)
    doc["nodes"][0].update(settings)
    found = [str(p) for p in errors(doc).problems if p.path == path]
    assert any(message in text for text in found), [str(p) for p in errors(doc).problems]
