"""What a Dockerfile runs, read statically: the last stage's CMD, and whether it has an
ENTRYPOINT."""

from __future__ import annotations

import pytest

from clusterdeploy.scaffold.dockerfile import Runs, what_it_runs


@pytest.mark.parametrize(("text", "runs"), [
    ('FROM debian\nCMD ["webfsd", "-F", "-p", "8080"]\n', Runs(("webfsd", "-F", "-p", "8080"),
                                                                False)),
    ("FROM debian\ncmd server --port 8080\n", Runs(("/bin/sh", "-c", "server --port 8080"),
                                                   False)),
    ('FROM debian\nCMD ["a", \\\n     "b"]\n', Runs(("a", "b"), False)),
    ('FROM debian\n# CMD ["commented"]\nCMD ["first"]\nCMD ["last"]\n', Runs(("last",), False)),
    ('FROM golang AS build\nCMD ["build-stage"]\nFROM debian\nRUN true\n', Runs(None, False)),
    ('FROM debian\nENTRYPOINT ["/entry"]\nCMD ["--flag"]\n', Runs(("--flag",), True)),
    ("FROM debian\nRUN make\n", Runs(None, False)),
    ('FROM debian\nCMD ["not", 1]\n', Runs(None, False)),
    ("FROM debian\nCMD\n", Runs(None, False)),
])
def test_what_a_dockerfile_runs(text, runs):
    assert what_it_runs(text) == runs
