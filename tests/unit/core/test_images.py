"""Image identity by content: what changes an image's hash and what never does.

The fixture project mirrors the repository: `builder` (Dockerfile2, copies nothing from the
context) and `node` (Dockerfile, copies cmd/ and docker-test/setup.sh, built FROM the builder)
share the context `.`, limited by an allow-list .dockerignore.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
import yaml
from unitlib import BASE_IDS, PROJECT, STATE_DIR, base_doc, write_spec

from clusterdeploy.clusterspec import ImageDef, load_spec
from clusterdeploy.core.desired import desired_state
from clusterdeploy.core.images import (
    context_digest,
    desired_images,
    external_bases,
    image_order,
    normalize_ref,
    refs_to_observe,
    required_arg,
)
from clusterdeploy.core.render import render_cluster


def hashes(project, base_ids=None):
    spec = load_spec(project / "cluster.yml")
    return {i.key: i.hash for i in desired_images(spec, BASE_IDS if base_ids is None else base_ids)}


def edit_spec(project, change):
    path = project / "cluster.yml"
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc))


def test_same_inputs_same_hash(project):
    assert hashes(project) == hashes(project)


def test_hash_does_not_depend_on_where_the_project_is(project, tmp_path):
    other = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(PROJECT, other)
    assert hashes(project) == hashes(other)


def test_refs_are_tag_and_hash_prefix(project):
    spec = load_spec(project / "cluster.yml")
    builder, node = desired_images(spec, BASE_IDS)
    assert (builder.key, node.key) == ("builder", "node")
    assert builder.ref == f"go-builder:{builder.hash[:16]}"
    assert re.fullmatch(r"my-db:[0-9a-f]{16}", node.ref)
    assert node.latest == "my-db:latest"
    assert re.fullmatch(r"[0-9a-f]{64}", node.hash)


def test_node_is_built_from_the_builder_ref(project):
    builder, node = desired_images(load_spec(project / "cluster.yml"), BASE_IDS)
    assert node.build_args["BUILDER_IMAGE"] == builder.ref
    assert node.requires == ("builder",)
    assert node.bases == ("debian:bookworm",)
    assert builder.bases == ("debian:bookworm",)


def test_go_build_args_go_to_the_build_image_only(project):
    builder, node = desired_images(load_spec(project / "cluster.yml"), BASE_IDS)
    assert builder.build_args == {"BASE_IMAGE": "debian:bookworm"}
    assert {k: node.build_args[k] for k in ("GO_PROGRAMS", "GO_BUILD_FLAGS", "CGO_ENABLED",
                                            "CC")} == {
        "GO_PROGRAMS": "./cmd=service/server", "GO_BUILD_FLAGS": "", "CGO_ENABLED": "0",
        "CC": "gcc"}


def test_editing_a_copied_source_file_changes_the_node_hash(project):
    before = hashes(project)
    (project / "cmd" / "main.go").write_text("package main\n\nfunc main() { println(1) }\n")
    assert hashes(project)["node"] != before["node"]


def test_editing_a_source_file_keeps_the_builder_hash(project):
    # The builder's Dockerfile copies nothing from the context: Go sources are not in it,
    # so editing them must not rebuild (and re-tag) the builder.
    before = hashes(project)
    (project / "cmd" / "main.go").write_text("package main\n\nfunc main() { println(1) }\n")
    assert hashes(project)["builder"] == before["builder"]


def test_editing_a_file_in_a_separate_node_context_keeps_the_builder_hash(project):
    (project / "builder-context").mkdir()
    edit_spec(project, lambda doc: doc["images"]["builder"].update(context="builder-context"))
    before = hashes(project)
    (project / "cmd" / "main.go").write_text("package main\n\nfunc main() { println(2) }\n")
    after = hashes(project)
    assert after["builder"] == before["builder"]
    assert after["node"] != before["node"]


def test_a_context_file_no_dockerfile_copies_changes_no_hash(project):
    (project / ".dockerignore").write_text("*\n!cmd/\n!docker-test/setup.sh\n!notes/\n")
    before = hashes(project)
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("in the context, copied by nobody\n")
    assert hashes(project) == before


def test_editing_a_file_only_the_node_copies_keeps_the_builder_hash(project):
    before = hashes(project)
    (project / "docker-test" / "setup.sh").write_text("#!/bin/sh\nexit 0\n")
    after = hashes(project)
    assert after["node"] != before["node"]
    assert after["builder"] == before["builder"]


def test_executable_bit_is_part_of_the_hash(project):
    before = hashes(project)
    os.chmod(project / "cmd" / "main.go", 0o755)
    assert hashes(project)["node"] != before["node"]


@pytest.mark.parametrize("path", ["README.md", "cluster-notes.txt", "docker-test/logs/run.log",
                                  ".venv/lib/x.py", "tests/test_new.py"])
def test_a_file_excluded_by_dockerignore_never_changes_a_hash(project, path):
    before = hashes(project)
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("anything\n")
    assert hashes(project) == before


def test_editing_the_spec_file_outside_images_changes_no_image_hash(project):
    before = hashes(project)
    edit_spec(project, lambda doc: doc["defaults"]["environment"].update(FOO="bar"))
    assert hashes(project) == before


def test_a_new_file_in_the_context_changes_the_node_hash(project):
    before = hashes(project)
    (project / "cmd" / "extra.go").write_text("package main\n")
    assert hashes(project)["node"] != before["node"]


def test_changing_the_dockerfile_changes_its_hash(project):
    before = hashes(project)
    path = project / "docker-test" / "Dockerfile"
    path.write_text(path.read_text() + "RUN true\n")
    after = hashes(project)
    assert after["node"] != before["node"]
    assert after["builder"] == before["builder"]


def test_changing_a_node_build_arg_changes_only_the_node(project):
    before = hashes(project)
    edit_spec(project, lambda doc: doc["images"]["node"]["args"].update(EXTRA="1"))
    after = hashes(project)
    assert after["node"] != before["node"]
    assert after["builder"] == before["builder"]


def test_changing_a_builder_build_arg_changes_both(project):
    before = hashes(project)
    edit_spec(project, lambda doc: doc["images"]["builder"]["args"].update(EXTRA="1"))
    after = hashes(project)
    assert after["builder"] != before["builder"]
    assert after["node"] != before["node"]


@pytest.mark.parametrize(("sanitizers", "flags", "cc"), [
    (["race"], "-race", "gcc"), (["msan"], "-msan", "clang"), (["asan"], "-asan", "gcc"),
])
def test_a_sanitizer_changes_the_node_hash_and_build_args(project, sanitizers, flags, cc):
    before = hashes(project)
    edit_spec(project, lambda doc: doc["build"].update(sanitizers=sanitizers))
    spec = load_spec(project / "cluster.yml")
    builder, node = desired_images(spec, BASE_IDS)
    assert node.hash != before["node"]
    assert builder.hash == before["builder"]
    assert (node.build_args["GO_BUILD_FLAGS"], node.build_args["CGO_ENABLED"],
            node.build_args["CC"]) == (flags, "1", cc)


def test_changing_the_base_image_id_changes_builder_and_node(project):
    before = hashes(project)
    after = hashes(project, {**BASE_IDS, "debian:bookworm": "sha256:" + "e" * 64})
    assert after["builder"] != before["builder"]
    assert after["node"] != before["node"]


def test_an_unrelated_base_id_changes_nothing(project):
    assert hashes(project, {**BASE_IDS, "alpine:3": "sha256:" + "a" * 64}) == hashes(project)


def test_a_missing_base_id_differs_from_a_known_one(project):
    assert hashes(project, {}) != hashes(project)


# --- context_digest, external_bases, normalize_ref, image_order ---------------------------------


def test_context_digest_ignores_excluded_files(project):
    before = context_digest(project)
    (project / "README.md").write_text("changed\n")
    assert context_digest(project) == before
    (project / "docker-test" / "setup.sh").write_text("#!/bin/sh\nexit 1\n")
    assert context_digest(project) != before


@pytest.mark.parametrize(("dockerfile", "args", "internal", "bases"), [
    ("FROM debian:bookworm\n", {}, set(), ["debian:bookworm"]),
    ("ARG BASE_IMAGE=debian:bookworm\nFROM ${BASE_IMAGE}\n", {}, set(), ["debian:bookworm"]),
    ("ARG BASE_IMAGE=debian:bookworm\nFROM $BASE_IMAGE\n", {"BASE_IMAGE": "alpine:3"}, set(),
     ["alpine:3"]),
    ("ARG BUILDER_IMAGE\nARG BASE_IMAGE=debian:bookworm\nFROM ${BUILDER_IMAGE} AS build\n"
     "RUN x\nFROM ${BASE_IMAGE}\nCOPY --from=build /out /\n", {}, {"BUILDER_IMAGE"},
     ["debian:bookworm"]),
    ("FROM golang:1.23 AS build\nFROM build AS test\nFROM scratch\n", {}, set(),
     ["golang:1.23"]),
    ("FROM --platform=linux/amd64 debian:bookworm\nFROM debian:bookworm\n", {}, set(),
     ["debian:bookworm"]),
])
def test_external_bases(dockerfile, args, internal, bases):
    assert external_bases(dockerfile, args, internal) == bases


@pytest.mark.parametrize(("ref", "normal"), [
    ("debian", "debian:latest"),
    ("debian:bookworm", "debian:bookworm"),
    ("localhost:5000/my-db", "localhost:5000/my-db:latest"),
    ("localhost:5000/my-db:1", "localhost:5000/my-db:1"),
    ("debian@sha256:" + "0" * 64, "debian@sha256:" + "0" * 64),
])
def test_normalize_ref(ref, normal):
    assert normalize_ref(ref) == normal


def test_image_order_puts_required_images_first(tmp_path):
    def image(key, *requires):
        return ImageDef(key, key, tmp_path / "Dockerfile", tmp_path, {}, requires)

    images = {"node": image("node", "builder"), "tester": image("tester", "node"),
              "builder": image("builder")}
    assert image_order(images) == ["builder", "node", "tester"]


def test_required_arg_name():
    assert required_arg("builder") == "BUILDER_IMAGE"
    assert required_arg("go-builder.v2") == "GO_BUILDER_V2_IMAGE"


@pytest.mark.parametrize(("dockerfile", "sources"), [
    ("FROM debian\nRUN echo\n", []),
    ("FROM x AS build\nCOPY cmd/ ./cmd/\nFROM y\nCOPY --from=build /out/ /root/\n"
     "COPY docker-test/setup.sh /root/setup.sh\n", ["cmd/", "docker-test/setup.sh"]),
    ("FROM x\nCOPY --chown=root:root a b /dst/\n", ["a", "b"]),
    ('FROM x\nCOPY ["a b", "/dst/"]\n', ["a b"]),
    ("FROM x\nCOPY \\\n  cmd/ \\\n  ./cmd/\n", ["cmd/"]),
    ("FROM x\nADD https://example.invalid/f.tgz /f.tgz\n", []),
    ("FROM x\nARG SRC=cmd\nCOPY ${SRC} /src\n", None),
    ("FROM x\nRUN --mount=type=bind,target=/src make\n", None),
])
def test_copy_sources(dockerfile, sources):
    from clusterdeploy.core import images

    assert images.copy_sources(dockerfile) == sources


class Recorder(dict):
    """A {ref: image ID} mapping that remembers every reference looked up in it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def test_the_refs_to_observe_are_the_bases_the_latest_tags_and_the_containers_images(project):
    spec = load_spec(project / "cluster.yml")
    assert refs_to_observe(spec) == ("go-builder:latest", "debian:bookworm", "my-db:latest")


def test_a_spec_without_builds_observes_its_containers_images(tmp_path):
    doc = base_doc(3)
    doc["nodes"][1]["image"] = "redis"
    spec = load_spec(write_spec(tmp_path, doc))
    assert refs_to_observe(spec) == ("busybox:1.36", "redis:latest")


@pytest.mark.parametrize("tester", [False, True])
def test_every_ref_desired_state_looks_up_is_observed(project, tester):
    """What desired_state reads from the host's images is exactly what the observation asks
    for by name (the content-addressed refs come from the hashes, not from lookups)."""
    if tester:
        edit_spec(project, lambda doc: doc.update(tester={"enabled": True, "image": "curl:8"}))
    spec = load_spec(project / "cluster.yml")
    ids = Recorder(BASE_IDS)
    desired_state(spec, render_cluster(spec), STATE_DIR, build_ids=ids, host_ids=ids)
    assert ids.asked <= set(refs_to_observe(spec))
    assert ("curl:8" in refs_to_observe(spec)) is tester
