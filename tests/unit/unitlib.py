"""Helpers of the unit tests: small specs, desired states and matching observed states."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterdeploy import labels
from clusterdeploy.desired import DesiredState, desired_state
from clusterdeploy.errors import SpecError
from clusterdeploy.hashing import canonical_json, sha256_bytes
from clusterdeploy.observe import ObservedContainer, ObservedNetwork, ObservedState
from clusterdeploy.spec import Spec, load_spec

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PROJECT = FIXTURES / "project"
TEMPLATES = PROJECT / "docker-test" / "templates"
STATE_DIR = "/var/lib/clusterdeploy"
BASE_IDS = {"debian:bookworm": "sha256:" + "d" * 64, "busybox:1.36": "sha256:" + "b" * 64}


def base_doc(count: int = 5, **top: Any) -> dict[str, Any]:
    """A valid spec with no images to build: busybox nodes, the fixture templates (absolute)."""
    doc: dict[str, Any] = {
        "name": "ci",
        "network": {"name": "netDB", "subnet": "172.28.0.0/24"},
        "images": {},
        "build": {"programs": []},
        "defaults": {
            "image": "busybox:1.36",
            "files": [
                {"template": str(TEMPLATES / "Cluster.config.j2"), "path": "Cluster.config"},
                {"template": str(TEMPLATES / "setup.sh.j2"), "path": "setup.sh", "mode": "0755"},
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
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def spec_errors(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value


def desired_for(spec: Spec, base_ids: dict[str, str] | None = None) -> DesiredState:
    return desired_state(spec, BASE_IDS if base_ids is None else base_ids, STATE_DIR)


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
                    labels.CONFIG: canonical_json(c.hash_input())},
            networks=(desired.network.name,),
        )
        for c in desired.containers
    )
    network = ObservedNetwork(
        id=container_id(desired.network.name), name=desired.network.name,
        labels={labels.CLUSTER: desired.cluster, labels.CONFIG_HASH: desired.network.config_hash},
        subnets=(desired.network.subnet,),
        containers={c.id: c.name for c in containers},
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
    return ObservedState(
        error=None,
        names={c.name: desired.cluster for c in containers},
        containers=containers,
        networks=(network,),
        images=images,
        files=files,
    )


def replace_container(observed: ObservedState, name: str, **changes: Any) -> ObservedState:
    return dataclasses.replace(observed, containers=tuple(
        dataclasses.replace(c, **changes) if c.name == name else c for c in observed.containers
    ))


def plan_text(actions: list[Any]) -> str:
    """The plan as the person reads it, with image content hashes shown as <hash>."""
    return re.sub(r":[0-9a-f]{16}\b", ":<hash>", "\n".join(map(str, actions)))
