"""Helpers of the unit tests: small specs, desired states and matching observed states."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterdeploy.clusterspec import Spec, load_spec
from clusterdeploy.core import labels
from clusterdeploy.core.desired import DesiredContainer, DesiredState, desired_state
from clusterdeploy.core.hashing import canonical_json, sha256_bytes
from clusterdeploy.core.observed import (
    Attachment,
    ObservedContainer,
    ObservedNetwork,
    ObservedState,
)
from clusterdeploy.core.ownership import MARKER, marker
from clusterdeploy.core.render import render_cluster
from clusterdeploy.errors import SpecError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PROJECT = FIXTURES / "project"
TEMPLATES = PROJECT / "docker-test" / "templates"
STATE_DIR = "/var/lib/clusterdeploy"
BASE_IDS = {"debian:bookworm": "sha256:" + "d" * 64, "busybox:1.36": "sha256:" + "b" * 64}


def base_doc(count: int = 5, **top: Any) -> dict[str, Any]:
    """A valid spec with no images to build: busybox nodes, the fixture templates (copied
    next to the spec by write_spec)."""
    doc: dict[str, Any] = {
        "name": "ci",
        "network": {"name": "netDB", "subnet": "172.28.0.0/24"},
        "images": {},
        "build": {"programs": []},
        "defaults": {
            "image": "busybox:1.36",
            "files": [
                {"template": "templates/Cluster.config.j2", "path": "Cluster.config"},
                {"template": "templates/setup.sh.j2", "path": "setup.sh", "mode": "0755"},
            ],
        },
        "nodes": [
            {"name": f"node{i}", "container_name": f"ci_node{i}",
             "ports": [f"127.0.0.1:{40400 + i}:40404"]}
            for i in range(1, count + 1)
        ],
        "tester": {"container_name": "ci_tester"},
    }
    doc.update(top)
    return copy.deepcopy(doc)


def write_spec(directory: Path, doc: dict[str, Any] | str, name: str = "cluster.yml") -> Path:
    """The doc as a spec file in `directory`, next to a copy of the fixture templates
    (`templates/`, which base_doc uses: templates live inside the spec's folder)."""
    if not (directory / "templates").exists():
        shutil.copytree(TEMPLATES, directory / "templates")
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def spec_errors(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value


def desired_for(spec: Spec, base_ids: dict[str, str] | None = None) -> DesiredState:
    return desired_state(spec, render_cluster(spec), STATE_DIR,
                         build_ids=BASE_IDS if base_ids is None else base_ids)


def container_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def observed_from(desired: DesiredState) -> ObservedState:
    """The host exactly as `desired` wants it: every container running and healthy."""
    containers = tuple(
        ObservedContainer(
            id=container_id(c.name), name=c.name, status="running", exit_code=0,
            health="healthy" if c.healthcheck else None,
            labels={labels.CLUSTER: desired.cluster, labels.MEMBER: c.member,
                    labels.CONFIG_HASH: c.config_hash,
                    labels.CONFIG: canonical_json(c.label_input())},
            networks=(desired.network.name,),
            attachment=attachment_of(c),
        )
        for c in desired.containers
    )
    network = ObservedNetwork(
        id=container_id(desired.network.name), name=desired.network.name,
        labels={labels.CLUSTER: desired.cluster, labels.CONFIG_HASH: desired.network.config_hash},
        subnets=(desired.network.subnet,),
        containers={c.id: c.name for c in containers},
        driver=desired.network.driver,
        scope="swarm" if desired.network.driver == "overlay" else "local",
    )
    images: dict[str, str] = {}
    for image in desired.images:
        image_id = "sha256:" + image.hash
        images[image.ref] = image_id
        images[image.latest] = image_id
    files = {
        f"{c.files_host_dir}/{f.path}": sha256_bytes(f.content)
        for c in desired.containers for f in c.files
    }
    mark = sha256_bytes(marker(desired.cluster))
    files.update({f"{d}/{MARKER}": mark for d in [desired.files_root,
                                                 *(c.files_host_dir for c in desired.containers)]})
    return ObservedState(
        names={c.name: desired.cluster for c in containers},
        containers=containers,
        networks=(network,),
        images=images,
        own_images=frozenset(images.values()),
        files=files,
        files_root_exists=True,
    )


def attachment_of(container: DesiredContainer) -> Attachment:
    """The wiring Docker reports for a container created as `container` says."""
    return Attachment(
        hostname=container.hostname,
        networks={container.network: (container.address,
                                      (container.hostname, container_id(container.name)[:12]))},
        ports=frozenset(str(p) for p in container.ports),
        mounts=frozenset(container.files_mount),
    )


def replace_container(observed: ObservedState, name: str, **changes: Any) -> ObservedState:
    return dataclasses.replace(observed, containers=tuple(
        dataclasses.replace(c, **changes) if c.name == name else c for c in observed.containers
    ))


def plan_text(actions: list[Any]) -> str:
    """The plan as the person reads it, with image content hashes shown as <hash>."""
    return re.sub(r":[0-9a-f]{16}\b", ":<hash>", "\n".join(map(str, actions)))


class FakeDocker:
    """tests/unit/fakedocker.py first on PATH: scripts we generate run under a real shell
    against a `docker` that answers from `state` and logs every call."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        wrapper = self.bin / "docker"
        wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} "
                           f"{Path(__file__).with_name('fakedocker.py')} \"$@\"\n")
        wrapper.chmod(0o755)
        self.state_file = directory / "state.json"
        self.log = directory / "calls.jsonl"
        self.state: dict[str, Any] = {}

    def env(self) -> dict[str, str]:
        self.state_file.write_text(json.dumps(self.state))
        return {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                "FAKE_DOCKER_STATE": str(self.state_file), "FAKE_DOCKER_LOG": str(self.log)}

    def run(self, script: str, shell: str = "sh") -> subprocess.CompletedProcess[str]:
        return subprocess.run([shell, "-s"], input=script, capture_output=True, text=True,
                              env=self.env(), timeout=60, check=False)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls()]
