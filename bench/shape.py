"""The benchmark's cluster, once per N, written for each tool: clusterdeploy's spec, compose's
file, the CLI floor's `docker create` arguments, and the per-node files compose and the floor
mount (clusterdeploy renders its own). See bench/README.md for why the work per container is
the same for all three.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

IMAGE = "cdbench-my-db:bench"  # pinned tag: others may re-tag my-db:latest during the run
CD_CLUSTER = "cdbench"
COMPOSE_PROJECT = "cdbenchcompose"
CLI_LABEL = "io.cdbench.tool"
CLUSTER_LABEL = "io.clusterdeploy.cluster"

# Per tool: container prefix, network, subnet /24 (third octet), host port base.
TOOLS = {
    "clusterdeploy": {"prefix": "cdbench", "network": "cdbench_net", "third": 0, "port": 47000},
    "compose": {"prefix": "cdbenchcompose", "network": "cdbenchcompose_net", "third": 1,
                "port": 47200},
    "cli": {"prefix": "cdbenchcli", "network": "cdbenchcli_net", "third": 2, "port": 47400},
}

HEALTH_CMD = "curl -fsS -o /dev/null http://127.0.0.1:40404/ping"
HEALTH = {"timeout": "3s", "retries": 3, "start_period": "30s"}
# Every health check is a `docker exec` (a runc exec: roughly 50 ms of CPU here). cluster.yml's
# 1 s interval at N=100 is 100 execs a second: on 2 cores that alone saturates the machine (load
# average ~190, checks time out, nodes turn unhealthy); 4 s still leaves it ~95 % busy. So the
# interval grows with N to keep at most HEALTH_RATE checks a second: 1 s at N=5, 3 s at N=30,
# 10 s at N=100. The same for every tool; it adds up to one interval to every cold deploy.
HEALTH_RATE = 10
CAPS = ["NET_ADMIN", "NET_RAW", "SYS_PTRACE"]
STOP_GRACE = 10
TEMPLATE_NAMES = ("Cluster.config.j2", "setup.sh.j2")


def health_interval(n: int) -> int:
    return max(1, math.ceil(n / HEALTH_RATE))


def healthcheck(n: int) -> dict:
    return {"test": ["CMD-SHELL", HEALTH_CMD], "interval": f"{health_interval(n)}s", **HEALTH}


def node_env(i: int, changed: bool) -> dict[str, str]:
    return {"CFG_PATH": "/root/Cluster.config",
            "BENCH_VERSION": "2" if changed and i == 1 else "1"}


def address(tool: str, i: int) -> str:
    return f"172.31.{TOOLS[tool]['third']}.{i + 1}"  # .1 is the gateway, node i is .(i+1)


def subnet(tool: str) -> str:
    return f"172.31.{TOOLS[tool]['third']}.0/24"


def container_name(tool: str, i: int) -> str:
    return f"{TOOLS[tool]['prefix']}_node{i}"


def host_port(tool: str, i: int) -> int:
    return TOOLS[tool]["port"] + i


def copy_templates(source: Path, spec_dir: Path) -> None:
    """The templates next to the spec: clusterdeploy reads templates only from the spec's
    folder or below it."""
    target = spec_dir / "templates"
    target.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_NAMES:
        shutil.copyfile(source / name, target / name)


def spec_defaults(n: int, image: str) -> dict:
    """Every node's container in clusterdeploy's spec (`defaults`), one function so that the
    multi-host benchmark deploys the very same container; its templates are `templates/`
    beside the spec (copy_templates)."""
    return {
        "image": image,
        "user": "root",
        "environment": node_env(0, False),
        "service_ports": {"http": 40404},
        "command": ["/clusterdeploy/setup.sh"],
        "stop_grace_period": f"{STOP_GRACE}s",
        "privileged": False,
        "init": True,
        "cap_add": CAPS,
        "healthcheck": healthcheck(n),
        "files": [
            {"template": "templates/Cluster.config.j2", "path": "Cluster.config",
             "mode": "0644"},
            {"template": "templates/setup.sh.j2", "path": "setup.sh", "mode": "0755"},
        ],
    }


def write_spec(path: Path, n: int, changed: bool) -> None:
    """clusterdeploy's spec: cluster.yml's shape, N nodes, no image builds, no tester; its
    templates in `templates/` beside it (copy_templates)."""
    spec = {
        "name": CD_CLUSTER,
        "network": {"name": TOOLS["clusterdeploy"]["network"], "subnet": subnet("clusterdeploy")},
        "images": {},
        "build": {"programs": []},
        "defaults": spec_defaults(n, IMAGE),
        "nodes": [
            {"name": f"node{i}", "hostname": f"node{i}",
             "container_name": container_name("clusterdeploy", i),
             "ports": [f"127.0.0.1:{host_port('clusterdeploy', i)}:40404"],
             **({"environment": node_env(i, True)} if changed and i == 1 else {})}
            for i in range(1, n + 1)
        ],
        "tester": {"enabled": False},
    }
    path.write_text(json.dumps(spec, indent=1))  # JSON is YAML


def render_files(tool: str, n: int, root: Path) -> None:
    """What clusterdeploy renders from docker-test/templates, for the compose and CLI runs."""
    replicas = "".join(f"node{j} {address(tool, j)} 40404\n" for j in range(1, n + 1))
    for i in range(1, n + 1):
        d = root / container_name(tool, i)
        d.mkdir(parents=True, exist_ok=True)
        (d / "Cluster.config").write_text(
            f"# Cluster.config of node{i}, rendered by cdbench for {tool}.\n"
            f"# The replica table: one replica a line, `<hostname> <address> <port>`.\n"
            + replicas)
        setup = d / "setup.sh"
        setup.write_text(
            "#!/bin/sh\n"
            f"# setup.sh of node{i} (node), rendered by cdbench for {tool}.\n"
            "set -eu\n"
            f"export SELF_IP={address(tool, i)}\n"
            f"export NODE_NAME=node{i}\n"
            'files_dir=$(dirname "$0")\n'
            'cfg="${CFG_PATH:-/root/Cluster.config}"\n'
            'if [ "$cfg" != "$files_dir/Cluster.config" ]; then\n'
            '  mkdir -p "$(dirname "$cfg")"\n'
            '  ln -sfn "$files_dir/Cluster.config" "$cfg"\n'
            "fi\n"
            "cd /root\n"
            'exec /root/service/server "$@"\n')
        setup.chmod(0o755)


def write_compose(path: Path, n: int, changed: bool, files_root: Path) -> None:
    net = "benchnet"
    services = {}
    for i in range(1, n + 1):
        services[f"node{i}"] = {
            "image": IMAGE,
            "container_name": container_name("compose", i),
            "hostname": f"node{i}",
            "user": "root",
            "init": True,
            "cap_add": CAPS,
            "environment": node_env(i, changed),
            "command": ["/clusterdeploy/setup.sh"],
            "volumes": [f"{files_root / container_name('compose', i)}:/clusterdeploy:ro"],
            "ports": [f"127.0.0.1:{host_port('compose', i)}:40404"],
            "stop_grace_period": f"{STOP_GRACE}s",
            "healthcheck": healthcheck(n),
            "networks": {net: {"ipv4_address": address("compose", i), "aliases": [f"node{i}"]}},
        }
    document = {
        "version": "2.4",
        "services": services,
        "networks": {net: {"name": TOOLS["compose"]["network"], "driver": "bridge",
                           "ipam": {"config": [{"subnet": subnet("compose"),
                                                "gateway": address("compose", 0)}]}}},
    }
    path.write_text(json.dumps(document, indent=1))


def cli_create_args(n: int, i: int, changed: bool, files_root: Path) -> list[str]:
    """The same `docker create` clusterdeploy issues (commands.create_container), by hand."""
    name = container_name("cli", i)
    args = ["create", "--name", name, "--hostname", f"node{i}",
            "--network", TOOLS["cli"]["network"], "--ip", address("cli", i),
            "--network-alias", f"node{i}", "--label", f"{CLI_LABEL}=cli",
            "--label", f"io.cdbench.member=node{i}", "--stop-timeout", str(STOP_GRACE),
            "--volume", f"{files_root / name}:/clusterdeploy:ro", "--user", "root", "--init"]
    for cap in CAPS:
        args += ["--cap-add", cap]
    for key, value in sorted(node_env(i, changed).items()):
        args += ["--env", f"{key}={value}"]
    args += ["--publish", f"127.0.0.1:{host_port('cli', i)}:40404/tcp",
             "--health-cmd", HEALTH_CMD, "--health-interval", f"{health_interval(n)}s",
             "--health-timeout", "3s", "--health-retries", "3",
             "--health-start-period", "30s", IMAGE, "/clusterdeploy/setup.sh"]
    return args
