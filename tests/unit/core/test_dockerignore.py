"""`.dockerignore` semantics (moby's patternmatcher) and the files of a build context."""

from __future__ import annotations

import pytest

from clusterdeploy.core.dockerignore import context_files, is_excluded, parse_dockerignore

ALLOW_LIST = "*\n!cmd/\n!docker-test/setup.sh\n"


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    # the repository's allow-list: `*` then re-include what the Dockerfiles COPY
    (ALLOW_LIST, "cmd/main.go", False),
    (ALLOW_LIST, "cmd/clustertest/x_test.go", False),
    (ALLOW_LIST, "docker-test/setup.sh", False),
    (ALLOW_LIST, "docker-test/Dockerfile", True),
    (ALLOW_LIST, "README.md", True),
    (ALLOW_LIST, "cmdx/a.go", True),
    (ALLOW_LIST, ".venv/bin/python", True),
    # `*` and `?` stay in one path element, `**` spans elements
    ("*.md\n", "README.md", True),
    ("*.md\n", "docs/a.md", False),
    ("docs/*.md\n", "docs/sub/a.md", False),
    ("docs/*.md\n", "docs/a.md", True),
    ("**/*.pyc\n", "a.pyc", True),
    ("**/*.pyc\n", "a/b/c.pyc", True),
    ("**\n", "a/b/c", True),
    ("a/**/b\n", "a/b", True),
    ("a/**/b\n", "a/x/y/b", True),
    ("foo?\n", "foo1", True),
    ("foo?\n", "foo12", False),
    ("[a-c]x\n", "bx", True),
    ("[!a-c]x\n", "ax", False),
    ("[!a-c]x\n", "dx", True),
    # the last matching pattern wins
    ("*.txt\n!keep.txt\n", "keep.txt", False),
    ("!keep.txt\n*.txt\n", "keep.txt", True),
    # a pattern that matches a parent directory excludes everything below it
    ("build\n", "build/x/y", True),
    ("build\n!build/keep\n", "build/keep", False),
    ("build\n!build/keep\n", "build/other", True),
    # cleaning: leading '/', './', trailing '/', comments, blank lines
    ("/foo\n", "foo", True),
    ("./foo/\n", "foo/a", True),
    ("# foo\n\n", "foo", False),
])
def test_is_excluded(patterns, path, excluded):
    assert is_excluded(path, parse_dockerignore(patterns)) is excluded


def make_tree(root, files):
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_context_files_with_allow_list(tmp_path):
    make_tree(tmp_path, {
        ".dockerignore": ALLOW_LIST, "README.md": "", "cluster.yml": "",
        "cmd/main.go": "", "cmd/go.mod": "", "cmd/clustertest/a_test.go": "",
        "docker-test/setup.sh": "", "docker-test/Dockerfile": "", "docker-test/logs/x.log": "",
        ".venv/lib/site.py": "", "tests/unit/test_x.py": "",
    })
    assert sorted(context_files(tmp_path)) == [
        "cmd/clustertest/a_test.go", "cmd/go.mod", "cmd/main.go", "docker-test/setup.sh",
    ]


def test_context_files_reinclude_deep_file_under_excluded_dirs(tmp_path):
    make_tree(tmp_path, {".dockerignore": "*\n!a/b/keep.txt\n", "a/b/keep.txt": "",
                         "a/b/drop.txt": "", "a/c.txt": ""})
    assert list(context_files(tmp_path)) == ["a/b/keep.txt"]


def test_context_files_without_dockerignore_is_everything(tmp_path):
    make_tree(tmp_path, {"b.txt": "", "a/z.txt": "", "a/b.txt": ""})
    assert sorted(context_files(tmp_path)) == ["a/b.txt", "a/z.txt", "b.txt"]


def test_context_files_order_does_not_depend_on_creation_order(tmp_path):
    names = ["b.txt", "a/z.txt", "a/b.txt", "c/d/e.txt", "a.txt"]
    make_tree(tmp_path / "one", dict.fromkeys(names, ""))
    make_tree(tmp_path / "two", dict.fromkeys(reversed(names), ""))
    assert list(context_files(tmp_path / "one")) == list(context_files(tmp_path / "two"))


def test_context_files_excluded_directory_is_pruned(tmp_path):
    make_tree(tmp_path, {".dockerignore": "logs\n", "logs/a/b.log": "", "main.go": ""})
    assert sorted(context_files(tmp_path)) == [".dockerignore", "main.go"]
