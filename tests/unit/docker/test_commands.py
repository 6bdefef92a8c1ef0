"""Command builders: exact argument lists, and hostile values surviving a real shell.

The shell tests run the generated scripts with `sh`/`bash` in tmp_path, with `docker` replaced
on PATH by a fake that records its arguments (NUL-separated), so only quoting is tested.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from unitlib import base_doc, desired_for

from clusterdeploy.clusterspec import HealthCheck, load_spec
from clusterdeploy.core import labels
from clusterdeploy.core.hashing import canonical_json
from clusterdeploy.core.ownership import MARKER, marker
from clusterdeploy.core.render import RenderedFile
from clusterdeploy.docker.commands import (
    build_image,
    build_shell,
    create_container,
    create_network,
    disconnect,
    docker_duration,
    env_file,
    health_args,
    kill_containers,
    remove_containers,
    remove_network,
    start_container,
    stop_containers,
    tag_image,
    write_files,
)
from clusterdeploy.docker.parallel import FAIL_END, FAIL_MARK, parallel_script, parse_failures

FAKE_DOCKER = """#!/bin/sh
f=$(mktemp "$RECORD_DIR/call.XXXXXX")
for a in "$@"; do printf '%s\\0' "$a" >> "$f"; done
case " $* " in *" fail-me "*) echo "Error response from daemon: boom for $2" >&2; exit 1 ;; esac
exit 0
"""


def hostile(tmp_path: Path) -> dict[str, str]:
    pwned = tmp_path / "pwned"
    return {
        "SPACES": "a value with  spaces",
        "QUOTES": "it's \"quoted\" ''",
        "SUBST": f"$(touch {pwned})",
        "BACKTICKS": f"`touch {pwned}`",
        "SEMICOLON": f"x; touch {pwned} && echo",
        "BACKSLASH": "back\\slash \\n \\",
        "GLOB": "* ? [a-z]",
        "DOLLAR": "$HOME ${PATH} $1",
        "EMPTY": "",
        "UNICODE": "ünïcödé ✓",
    }


ENV = "/tmp/clusterdeploy-x/ci_node1.env"


@pytest.fixture
def recording_docker(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    record = tmp_path / "calls"
    record.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD_DIR": str(record)}

    def calls():
        return sorted(
            [arg.decode() for arg in f.read_bytes().split(b"\0")[:-1]]
            for f in record.iterdir())

    return env, calls


@pytest.fixture
def desired(load):
    doc = base_doc()
    doc["defaults"]["environment"] = {"CFG_PATH": "/root/Cluster.config", "B": "2", "A": "1"}
    return desired_for(load(doc))


@pytest.fixture
def hostile_container(load, tmp_path):
    doc = base_doc(count=2)
    doc["nodes"][1]["environment"] = hostile(tmp_path)
    return desired_for(load(doc)).container("ci_node2")


def test_create_container_argv(desired):
    c = desired.container("ci_node1")
    assert create_container(c, "ci", ENV) == [
        "docker", "create",
        "--name", "ci_node1",
        "--hostname", "node1",
        "--network", "netDB",
        "--ip", "172.28.0.2",
        "--network-alias", "node1",
        "--label", "io.clusterdeploy.cluster=ci",
        "--label", "io.clusterdeploy.member=node1",
        "--label", f"io.clusterdeploy.config-hash={c.config_hash}",
        "--label", f"io.clusterdeploy.config={canonical_json(c.label_input())}",
        "--stop-timeout", "10",
        "--volume", "/var/lib/clusterdeploy/ci/ci_node1:/clusterdeploy:ro",
        "--user", "root",
        "--init",
        "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--cap-add", "SYS_PTRACE",
        "--env-file", ENV,
        "--publish", "127.0.0.1:40401:40404/tcp",
        "--health-cmd", "curl -fsS -o /dev/null http://127.0.0.1:40404/ping",
        "--health-interval", "1000ms",
        "--health-timeout", "3000ms",
        "--health-retries", "3",
        "--health-start-period", "30000ms",
        "--", "busybox:1.36", "/clusterdeploy/setup.sh",
    ]


def test_create_tester_has_no_ports_and_no_health_check(desired):
    argv = create_container(desired.container("ci_tester"), "ci", ENV)
    assert "--publish" not in argv
    assert not any(a.startswith("--health") for a in argv)
    assert argv[argv.index("--ip") + 1] == "172.28.0.254"
    assert "io.clusterdeploy.member=tester" in argv


def test_privileged_and_cap_drop(load):
    doc = base_doc(count=1)
    doc["defaults"].update(privileged=True, cap_add=[], cap_drop=["MKNOD"], init=False)
    argv = create_container(desired_for(load(doc)).container("ci_node1"), "ci", ENV)
    assert "--privileged" in argv
    assert "--init" not in argv
    assert "--cap-add" not in argv
    assert argv[argv.index("--cap-drop") + 1] == "MKNOD"


def test_create_container_carries_every_label_of_ownership(desired):
    c = desired.container("ci_node3")
    argv = create_container(c, "ci", ENV)
    given = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert given == [f"{labels.CLUSTER}=ci", f"{labels.MEMBER}=node3",
                     f"{labels.CONFIG_HASH}={c.config_hash}",
                     f"{labels.CONFIG}={canonical_json(c.label_input())}"]


def test_stop_timeout_is_the_grace_period_rounded_up(load):
    doc = base_doc(count=1)
    doc["defaults"]["stop_grace_period"] = "2500ms"
    argv = create_container(desired_for(load(doc)).container("ci_node1"), "ci", ENV)
    assert argv[argv.index("--stop-timeout") + 1] == "3"


def test_create_network_argv(desired):
    assert create_network(desired.network, "ci") == [
        "docker", "network", "create", "--driver", "bridge",
        "--subnet", "172.28.0.0/24", "--gateway", "172.28.0.1",
        "--label", "io.clusterdeploy.cluster=ci",
        "--label", f"io.clusterdeploy.config-hash={desired.network.config_hash}",
        "--", "netDB",
    ]


def test_build_image_argv(project):
    desired = desired_for(load_spec(project / "cluster.yml"))
    builder, node = desired.images
    argv = build_image(node)
    assert argv[:5] == ["docker", "build", "--force-rm", "--file",
                        str(project / "docker-test" / "Dockerfile")]
    assert argv[5:9] == ["--tag", node.ref, "--tag", "my-db:latest"]
    assert f"io.clusterdeploy.image-hash={node.hash}" in argv
    # images are shared by content hash; the builder would copy a cluster label onto its
    # intermediate containers, making them look like the cluster's
    assert not any(a.startswith("io.clusterdeploy.cluster=") for a in argv)
    build_args = [argv[i + 1] for i, a in enumerate(argv) if a == "--build-arg"]
    assert build_args == sorted(build_args)
    assert f"BUILDER_IMAGE={builder.ref}" in build_args
    assert argv[-2:] == ["--", str(project)]


def test_build_network_and_latest_tag_are_chosen(project):
    node = desired_for(load_spec(project / "cluster.yml")).images[-1]
    host = dataclasses.replace(node, network="host")
    assert build_image(host)[2:5] == ["--force-rm", "--network", "host"]
    assert "my-db:latest" not in build_image(node, tag_latest=False)


def test_build_shell_forces_the_legacy_builder_that_names_failing_steps(project):
    node = desired_for(load_spec(project / "cluster.yml")).images[-1]
    assert build_shell(node) == "DOCKER_BUILDKIT=0 " + shlex.join(build_image(node))


def test_small_command_builders():
    assert start_container("ci_node1") == ["docker", "start", "--", "ci_node1"]
    assert stop_containers(["a", "b"]) == ["docker", "stop", "--", "a", "b"]
    assert kill_containers(["a", "b"]) == ["docker", "kill", "--", "a", "b"]
    assert remove_containers(["a"]) == ["docker", "rm", "--force", "--volumes", "--", "a"]
    assert remove_network("netDB") == ["docker", "network", "rm", "--", "netDB"]
    assert disconnect("netDB", "a") == ["docker", "network", "disconnect", "--force", "--",
                                        "netDB", "a"]
    assert tag_image("my-db:abc", "my-db:latest") == ["docker", "tag", "--", "my-db:abc",
                                                      "my-db:latest"]


def test_docker_duration():
    assert [docker_duration(s) for s in (1.0, 0.5, 30.0, 1.2345)] == [
        "1000ms", "500ms", "30000ms", "1234ms"]


@pytest.mark.parametrize(("test", "expected"), [
    (("CMD-SHELL", "curl -f http://x/ || exit 1"), "curl -f http://x/ || exit 1"),
    (("CMD", "sh", "-c", "echo 'a b'"), "sh -c 'echo '\"'\"'a b'\"'\"''"),
])
def test_health_cmd_forms(desired, test, expected):
    check = HealthCheck(test=test, interval=1.0, timeout=3.0, retries=3, start_period=0.0)
    c = dataclasses.replace(desired.container("ci_node1"), healthcheck=check)
    args = health_args(c)
    assert args[args.index("--health-cmd") + 1] == expected


def test_health_none_disables_the_image_health_check(desired):
    check = HealthCheck(test=("NONE", ""), interval=1.0, timeout=1.0, retries=1, start_period=0)
    c = dataclasses.replace(desired.container("ci_node1"), healthcheck=check)
    assert health_args(c) == ["--no-healthcheck"]


# --- hostile values -----------------------------------------------------------------------------


def test_hostile_env_values_are_passed_verbatim_in_the_env_file(hostile_container, tmp_path):
    lines = env_file(hostile_container.environment).decode().splitlines()
    for key, value in hostile(tmp_path).items():
        assert f"{key}={value}" in lines


def test_env_values_never_reach_the_command_line(hostile_container, tmp_path):
    argv = create_container(hostile_container, "ci", ENV)
    assert "--env" not in argv
    joined = " ".join(argv)
    for value in hostile(tmp_path).values():
        assert not value or value not in joined.replace(
            canonical_json(hostile_container.label_input()), "")
    assert all(v.startswith("sha256:") for v in
               hostile_container.label_input()["environment"].values())


def test_a_container_with_an_environment_needs_an_env_file(desired):
    with pytest.raises(ValueError, match="needs an env file"):
        create_container(desired.container("ci_node1"), "ci")


def test_hostile_argv_survives_shlex_round_trip(hostile_container):
    argv = create_container(hostile_container, "ci", ENV)
    assert shlex.split(shlex.join(argv)) == argv


def test_hostile_argv_survives_a_real_shell(hostile_container, recording_docker, tmp_path):
    env, calls = recording_docker
    argv = create_container(hostile_container, "ci", ENV)
    subprocess.run(["sh", "-c", shlex.join(argv)], cwd=tmp_path, env=env, check=True)
    assert calls() == [argv[1:]]
    assert not (tmp_path / "pwned").exists()


def test_parallel_script_passes_exact_argv(hostile_container, desired, recording_docker, tmp_path):
    env, calls = recording_docker
    units = [
        ("ci_node2", [remove_containers(["ci_node2"]),
                      create_container(hostile_container, "ci", ENV),
                      start_container("ci_node2")]),
        ("ci_node1", [create_container(desired.container("ci_node1"), "ci", ENV)]),
        ("weird name; $(touch pwned)", [["docker", "start", "it's `x`"]]),
    ]
    result = subprocess.run(["bash", "-s"], input=parallel_script(units, 2), cwd=tmp_path,
                            env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert calls() == sorted(argv[1:] for _, commands in units for argv in commands)
    assert not (tmp_path / "pwned").exists()


def test_parallel_script_reports_failing_units(recording_docker, tmp_path):
    env, calls = recording_docker
    units = [(f"ci_node{i}", [["docker", "start", f"ci_node{i}"],
                              ["docker", "x", "fail-me" if i in (2, 4) else "ok"],
                              ["docker", "after", f"ci_node{i}"]]) for i in range(1, 6)]
    result = subprocess.run(["bash", "-s"], input=parallel_script(units, 3), cwd=tmp_path,
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert parse_failures(result.stdout) == {
        "ci_node2": "Error response from daemon: boom for fail-me",
        "ci_node4": "Error response from daemon: boom for fail-me",
    }
    after = [c for c in calls() if c[0] == "after"]
    assert after == [["after", "ci_node1"], ["after", "ci_node3"], ["after", "ci_node5"]]


def test_parallel_script_with_no_units_succeeds(tmp_path):
    result = subprocess.run(["bash", "-s"], input=parallel_script([], 4), cwd=tmp_path,
                            text=True)
    assert result.returncode == 0


def test_write_files_writes_exact_bytes_and_modes_into_marked_private_dirs(tmp_path):
    root = tmp_path / "state dir $(touch pwned)" / "ci"
    directory = root / "ci_node1"
    content = (b"#!/bin/sh\necho 'it''s' \"$(touch pwned)\" `touch pwned`\n"
               b"\x00\xff binary\r\n no trailing newline")
    files = [RenderedFile("setup.sh", content, 0o755),
             RenderedFile("Cluster.config", b"node1 172.28.0.2 40404\n", 0o644)]
    script = write_files(str(root), marker("ci"), str(directory), files)
    subprocess.run(["sh", "-c", script], cwd=tmp_path, check=True)
    assert (directory / "setup.sh").read_bytes() == content
    assert (directory / "Cluster.config").read_bytes() == b"node1 172.28.0.2 40404\n"
    assert (directory / "setup.sh").stat().st_mode & 0o777 == 0o755
    assert (directory / "Cluster.config").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in directory.iterdir()) == [MARKER, "Cluster.config", "setup.sh"]
    assert (root / MARKER).read_bytes() == (directory / MARKER).read_bytes() == marker("ci")
    assert root.stat().st_mode & 0o777 == 0o700  # other users of the host see nothing
    assert directory.stat().st_mode & 0o777 == 0o755  # the container's user reads its files
    assert not (tmp_path / "pwned").exists()


def test_write_files_replaces_existing_content(tmp_path):
    directory = tmp_path / "ci" / "d"
    directory.mkdir(parents=True)
    (directory / "Cluster.config").write_text("old and longer than the new content\n")
    files = [RenderedFile("Cluster.config", b"new\n", 0o644)]
    subprocess.run(["sh", "-c", write_files(str(tmp_path / "ci"), marker("ci"), str(directory),
                                            files)], check=True)
    assert (directory / "Cluster.config").read_bytes() == b"new\n"


def test_parallel_script_writes_private_files_and_removes_them(recording_docker, tmp_path):
    env, calls = recording_docker
    private = tmp_path / "private"
    units = [("ci_node1", [["docker", "create", "--env-file", str(private / "a.env"), "x"]]),
             ("check", [["sh", "-c", f"stat -c %a {private} {private / 'a.env'} >&2; "
                                     f"cat {private / 'a.env'} >&2; exit 1"]])]
    result = subprocess.run(["bash", "-s"], input=parallel_script(
        units, 1, (str(private), {"a.env": b"SECRET=s3cret\n"})), cwd=tmp_path, env=env,
        capture_output=True, text=True)
    assert parse_failures(result.stdout)["check"] == "700\n600\nSECRET=s3cret"
    assert not private.exists()
    assert ["create", "--env-file", str(private / "a.env"), "x"] in calls()


# --- parse_failures -----------------------------------------------------------------------------


def test_parse_failures_on_sample_output():
    output = "\n".join([
        "some noise",
        f"{FAIL_MARK}ci_node2",
        'docker: Error response from daemon: Conflict. The container name "/ci_node2" is '
        "already in use by container \"4f2f\".",
        "See 'docker run --help'.",
        FAIL_END,
        "more noise",
        f"{FAIL_MARK}name with spaces",
        "Error response from daemon: driver failed programming external connectivity on "
        "endpoint ci_node3: Bind for 127.0.0.1:40403 failed: port is already allocated",
        FAIL_END,
    ])
    assert parse_failures(output) == {
        "ci_node2": 'docker: Error response from daemon: Conflict. The container name '
                    '"/ci_node2" is already in use by container "4f2f".\n'
                    "See 'docker run --help'.",
        "name with spaces": "Error response from daemon: driver failed programming external "
                            "connectivity on endpoint ci_node3: Bind for 127.0.0.1:40403 failed: "
                            "port is already allocated",
    }


def test_parse_failures_of_clean_output_is_empty():
    assert parse_failures("") == {}
    assert parse_failures("all fine\n") == {}


FLAKY_DOCKER = """#!/bin/sh
# `docker COMMAND ... NAME` fails with the scripted answers of $STATE/COMMAND-NAME (one per line,
# each used once), then succeeds. Every call is recorded.
echo "$*" >> "$STATE/calls"
for name; do :; done
answers="$STATE/$1-$name"
if [ -s "$answers" ]; then head -n 1 "$answers" >&2; sed -i 1d "$answers"; exit 1; fi
exit 0
"""


@pytest.fixture
def flaky_docker(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("docker", FLAKY_DOCKER), ("sleep", "#!/bin/sh\necho \"$1\" >> "
                                                           "\"$STATE/sleeps\"\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(tmp_path)}

    def run(units, answers):
        for key, lines in answers.items():
            (tmp_path / key).write_text("".join(f"{line}\n" for line in lines))
        result = subprocess.run(["bash", "-s"], input=parallel_script(units, 4), env=env,
                                capture_output=True, text=True, timeout=30)
        calls = (tmp_path / "calls").read_text().splitlines()
        sleeps = (tmp_path / "sleeps").read_text().split() if (tmp_path / "sleeps").exists() \
            else []
        return result, calls, sleeps
    return run


NOT_FOUND = "Error response from daemon: network 3oj6mm5 not found"


def test_a_start_that_meets_a_swarm_catching_up_is_asked_again(flaky_docker):
    result, calls, sleeps = flaky_docker(
        [("ci_node1", [["docker", "start", "ci_node1"]])], {"start-ci_node1": [NOT_FOUND] * 2})
    assert result.returncode == 0, result.stdout
    assert calls == ["start ci_node1"] * 3 and sleeps == ["1", "2"]


def test_a_start_that_keeps_failing_or_fails_otherwise_gives_up(flaky_docker):
    deadline = "attaching to network failed, make sure your network options are correct and " \
               "check manager logs: context deadline exceeded"
    result, calls, sleeps = flaky_docker(
        [("ci_node1", [["docker", "start", "ci_node1"]]),
         ("ci_node2", [["docker", "start", "ci_node2"]])],
        {"start-ci_node1": [deadline] * 12,
         "start-ci_node2": ["Error response from daemon: no such file"]})
    assert result.returncode == 1
    failures = parse_failures(result.stdout)
    assert failures == {"ci_node1": deadline,
                        "ci_node2": "Error response from daemon: no such file"}
    assert calls.count("start ci_node1") == 8 and calls.count("start ci_node2") == 1
    assert sorted(sleeps) == ["1", "2", "3", "4", "5", "6", "7"]


def test_a_create_refused_by_a_swarm_catching_up_is_asked_again(flaky_docker):
    result, calls, sleeps = flaky_docker(
        [("ci_node1", [["docker", "create", "ci_node1"], ["docker", "start", "--", "ci_node1"]])],
        {"create-ci_node1": [NOT_FOUND] * 3})
    assert result.returncode == 0, result.stdout
    assert calls == ["create ci_node1"] * 4 + ["start -- ci_node1"] and sleeps == ["1", "2", "3"]


def test_a_container_that_cannot_find_its_network_is_created_afresh(flaky_docker):
    """Created while its host dropped the overlay, a container never starts: it is removed and
    created again, and the fresh one starts."""
    result, calls, sleeps = flaky_docker(
        [("ci_node1", [["docker", "stop", "old"], ["docker", "rm", "old"],
                       ["docker", "create", "ci_node1"], ["docker", "start", "--", "ci_node1"]])],
        {"start-ci_node1": [NOT_FOUND] * 2})
    assert result.returncode == 0, result.stdout
    assert calls == ["stop old", "rm old",
                     "create ci_node1", "start -- ci_node1", "rm -f -- ci_node1",
                     "create ci_node1", "start -- ci_node1", "rm -f -- ci_node1",
                     "create ci_node1", "start -- ci_node1"]
    assert sleeps == ["1", "2"]


def test_a_start_that_fails_otherwise_keeps_its_container(flaky_docker):
    result, calls, _ = flaky_docker(
        [("ci_node1", [["docker", "create", "ci_node1"], ["docker", "start", "--", "ci_node1"]])],
        {"start-ci_node1": ["Error response from daemon: exec format error"]})
    assert parse_failures(result.stdout) == {
        "ci_node1": "Error response from daemon: exec format error"}
    assert calls == ["create ci_node1", "start -- ci_node1"]


def test_only_idempotent_commands_are_asked_again(flaky_docker):
    result, calls, _ = flaky_docker([("ci_node1", [["docker", "rm", "ci_node1"]])],
                                    {"rm-ci_node1": ["network abc not found"]})
    assert result.returncode == 1 and calls == ["rm ci_node1"]


def test_a_command_that_fails_silently_is_named_with_its_exit_status(flaky_docker):
    result, _, _ = flaky_docker([("ci_node1", [["docker", "create", "ci_node1"],
                                                ["sh", "-c", "exit 137"]])], {})
    assert parse_failures(result.stdout) == {"ci_node1": "`sh -c` exited 137 without output"}


def test_a_unit_that_ends_before_the_script_waits_for_it_still_fails_the_script(flaky_docker):
    """`wait -n` cannot see a job that already ended; the exit status must not depend on
    whether the script got to waiting in time (ten tries: the old script lost some)."""
    units = [(f"ci_node{i}", [["docker", "rm", f"ci_node{i}"]]) for i in range(1, 6)]
    for attempt in range(10):
        result, _, _ = flaky_docker(units, {"rm-ci_node2": ["Error response from daemon: gone"]})
        assert result.returncode == 1, f"attempt {attempt}: {result.stdout}"
        assert parse_failures(result.stdout) == {"ci_node2": "Error response from daemon: gone"}


def test_the_first_unit_can_end_before_the_others_begin(tmp_path):
    done = tmp_path / "first-done"
    units = [("first", [["sh", "-c", f"/usr/bin/sleep 0.3; touch {done}"]]),
             *[(f"then{i}", [["test", "-e", str(done)]]) for i in range(3)]]
    alone = subprocess.run(["bash", "-s"], input=parallel_script(units, 8, first_alone=True),
                           capture_output=True, text=True, timeout=30)
    assert alone.returncode == 0, alone.stdout
    done.unlink()
    together = subprocess.run(["bash", "-s"], input=parallel_script(units, 8),
                              capture_output=True, text=True, timeout=30)
    assert set(parse_failures(together.stdout)) == {"then0", "then1", "then2"}
