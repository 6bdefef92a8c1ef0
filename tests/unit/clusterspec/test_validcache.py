"""An accepted spec is not validated again while nothing its verdict depends on changed; a
rejected one always is, and anything that is not plain JSON is never remembered."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest
from unitlib import REPO, base_doc, write_spec

from clusterdeploy.clusterspec import schema, validcache
from clusterdeploy.clusterspec.schema import schema_problems


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "clusterdeploy" / "valid-specs"


@pytest.fixture
def validations(monkeypatch):
    """How often jsonschema actually ran."""
    runs = []
    real = schema._problems

    def counting(*args):
        runs.append(args[0])
        return real(*args)

    monkeypatch.setattr(schema, "_problems", counting)
    return runs


def test_an_accepted_document_is_not_validated_again(cache_home, validations):
    doc = base_doc(3)
    assert schema_problems(doc) == [] and schema_problems(doc) == []
    assert len(validations) == 1
    assert len(list(cache_home.iterdir())) == 1


def test_a_changed_document_is_validated(cache_home, validations):
    doc = base_doc(3)
    schema_problems(doc)
    doc["nodes"][0]["name"] = "other"
    schema_problems(doc)
    assert len(validations) == 2


def test_a_rejected_document_is_validated_every_time(cache_home, validations):
    doc = {**base_doc(3), "nme": "typo"}
    first, second = schema_problems(doc), schema_problems(doc)
    assert first and first == second and len(validations) == 2
    assert not cache_home.exists() or not list(cache_home.iterdir())


def test_values_json_cannot_tell_apart_are_never_remembered(cache_home, validations):
    doc = base_doc(3)
    doc["nodes"][0]["environment"] = {"SINCE": datetime.date(2026, 1, 1)}
    assert schema_problems(doc)  # a date is not a string, whatever its JSON text
    assert validcache.document_key({1: "x"}, "{}", None) is None
    assert validcache.document_key({"x": float("nan")}, "{}", None) is None


def test_the_verdict_depends_on_the_schema_and_the_definition():
    doc = {"name": "node1"}
    keys = {validcache.document_key(doc, "{}", None), validcache.document_key(doc, "{ }", None),
            validcache.document_key(doc, "{}", "node")}
    assert len(keys) == 3


def test_an_unwritable_cache_still_validates(tmp_path, monkeypatch, validations):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    doc = base_doc(3)
    assert schema_problems(doc) == [] and schema_problems(doc) == []
    assert len(validations) == 2


def test_the_folder_is_pruned_to_its_newest_entries(cache_home, monkeypatch):
    monkeypatch.setattr(validcache, "KEEP", 3)
    for i in range(7):
        validcache.remember_valid(f"{i:064x}")
        os.utime(cache_home / f"{i:064x}", (i, i))
    names = sorted(int(p.name, 16) for p in cache_home.iterdir())
    assert names == [4, 5, 6]


def test_a_second_load_of_an_unchanged_spec_does_not_import_jsonschema(tmp_path):
    spec = write_spec(tmp_path, base_doc(3))
    code = ("import sys; from clusterdeploy.clusterspec import load_spec; "
            f"load_spec({str(spec)!r}); print('jsonschema' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]
