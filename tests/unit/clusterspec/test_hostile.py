"""Hostile specs: each is one line saying what is wrong, nothing runs, nothing is written.

All cases run in ONE `clusterdeploy validate`-like subprocess (tests/unit/clusterspec/
hostile_driver.py) under a memory and time limit, so a regression that hangs or exhausts the
machine fails this test instead of CI.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from unitlib import REPO, TEMPLATES, base_doc

DRIVER = Path(__file__).with_name("hostile_driver.py")
MEMORY = 1 << 30
SECONDS = 120


def doc_with(change: Any) -> str:
    doc = base_doc(count=2)
    change(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def set_in(path: str, value: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return apply


def compact(**values: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        doc["nodes"] = {"count": 2, **values}
    return apply


def template(body: str, name: str = "evil.j2", **extra: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        doc["defaults"]["files"].append({"template": name, "path": "evil"})
        doc["__files__"] = extra or {name: body}
    return apply


ALIAS_BOMB = "name: bomb\nvars:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
    for i in range(8)) + "nodes: [{name: n1}]\n"

# (id, the spec (YAML text, or a change of base_doc), the one line that must be printed)
CASES: list[tuple[str, Any, str]] = [
    # 1. templates are sandboxed and rooted at the spec's folder
    ("ssti-os-system", template("{{ cycler.__init__.__globals__.os.system('touch PWNED') }}"),
     "evil.j2 line 1: access to attribute '__init__' of 'type' object is unsafe"),
    ("ssti-subclasses", template("{{ ''.__class__.__mro__[1].__subclasses__() }}"),
     "evil.j2 line 1: access to attribute '__class__' of 'str' object is unsafe"),
    ("ssti-lipsum-globals", template("{{ lipsum.__globals__['os'].popen('id').read() }}"),
     "evil.j2 line 1: access to attribute '__globals__' of 'function' object is unsafe"),
    ("include-etc-passwd", template("{% include '/etc/passwd' %}"),
     "evil.j2 line 1: no template /etc/passwd (outside the spec's folder"),
    ("include-dotdot", template("{% include '../../../../etc/passwd' %}"),
     "evil.j2 line 1: no template ../../../../etc/passwd (outside the spec's folder"),
    ("template-proc-environ", set_in("defaults.files", [{"template": "/proc/self/environ",
                                                         "path": "env"}]),
     "is outside the spec's folder"),
    ("template-symlink-out", template("", name="link.j2", __symlink__="/etc/passwd"),
     "template /etc/passwd is outside the spec's folder"),
    ("divide-by-zero", template("{{ 1 / 0 }}"),
     "evil.j2 line 1: ZeroDivisionError: division by zero"),
    ("self-include", template("{% include 'evil.j2' %}"),
     "evil.j2"),
    ("huge-range", template("{% for i in range(10**9) %}x{% endfor %}"),
     "evil.j2"),
    ("nested-loops", template("{% for i in range(99999) %}{% for j in range(99999) %}"
                              "{% endfor %}{% endfor %}"),
     "rendering took longer than"),
    ("string-bomb", template("{{ 'x' * 10**9 }}"),
     "the result of * would be too long"),
    ("power-bomb", template("{{ 9 ** 99999999 }}"),
     "is too large"),
    ("macro-recursion", template("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
     "RecursionError"),
    # 2. generated names are checked like written ones
    ("compact-path-escape", compact(container_name="../../elsewhere/{i}"),
     "nodes.container_name: '../../elsewhere/1' is not valid here (node 1)"),
    ("compact-newline", compact(name="n{i}\nrm -rf /"),
     "nodes.name: 'n{i}\\nrm -rf /' is not valid here"),
    ("compact-option", compact(container_name="--privileged{i}"),
     "nodes.container_name: '--privileged1' is not valid here (node 1)"),
    ("default-hostname-from-name", set_in("nodes.0.name", "node_1"),
     "nodes[0].hostname: 'node_1' (the default: the node's name) is not a valid hostname"),
    # 3. positional values that look like options
    ("image-option", set_in("defaults.image", "--privileged"),
     "defaults.image: '--privileged' is not valid here"),
    ("image-volume-option", set_in("nodes.0.image", "--volume=/:/host"),
     "nodes[0].image: '--volume=/:/host' is not valid here"),
    ("image-with-space", set_in("defaults.image", "debian bookworm"),
     "defaults.image: 'debian bookworm' is not valid here"),
    ("user-option", set_in("defaults.user", "-u0"), "defaults.user: '-u0' is not valid here"),
    # 4. a trailing newline is not a valid name
    ("trailing-newline-name", set_in("name", "ci\n"), "name: 'ci\\n' is not valid here"),
    ("trailing-newline-file", set_in("defaults.files.0.path", "Cluster.config\n"),
     "defaults.files[0].path: 'Cluster.config\\n' is not valid here"),
    ("trailing-newline-duration", set_in("defaults.stop_grace_period", "10s\n"),
     "defaults.stop_grace_period: '10s\\n' is not valid here (write a duration"),
    # 6. what exhausts the machine
    ("alias-bomb", ALIAS_BOMB, "its aliases expand to more than 100000 values"),
    ("self-alias", "name: x\nvars: &a [*a]\nnodes: [{name: n1}]\n",
     "its aliases expand to more than 100000 values (or an alias refers to itself)"),
    ("deep-nesting", "name: x\nvars: " + "[" * 20000 + "]" * 20000 + "\nnodes: [{name: n1}]\n",
     "YAML nested too deeply"),
    ("subnet-everything", set_in("network.subnet", "0.0.0.0/0"),
     "network.subnet: 0.0.0.0/0 is larger than a cluster can use (use a /16 or smaller"),
    ("subnet-slash-8", set_in("network.subnet", "10.0.0.0/8"),
     "network.subnet: 10.0.0.0/8 is larger than a cluster can use"),
    # 7. what used to end in a traceback
    ("not-utf8", b"name: \xff\xfe\n", "is not UTF-8 (byte 6)"),
    ("non-string-env-name", set_in("defaults.environment", {1: "x"}),
     "defaults.environment: 1 is a number, expected string"),
    ("null-env-name", "name: x\ndefaults: {environment: {~: x}}\nnodes: [{name: n1}]\n",
     "defaults.environment: None is a null, expected string"),
    ("subnet-slash-32", set_in("network.subnet", "172.28.0.1/32"),
     "network.subnet: subnet 172.28.0.1/32 has 0 usable addresses"),
    ("huge-grace-period", set_in("defaults.stop_grace_period", "99999999h"),
     "defaults.stop_grace_period: 99999999h is outside 0 ms-24 h"),
    ("zero-interval", set_in("defaults.healthcheck", {"interval": "0s"}),
     "defaults.healthcheck.interval: 0s is outside 1 ms-24 h"),
    ("duplicate-key", "name: a\nname: b\nnodes: [{name: n1}]\n",
     "line 2, column 1: key 'name' is written twice (first on line 1) (keep one of them)"),
    # 8. what Docker refuses
    ("one-char-container-name", set_in("nodes.0.container_name", "a"),
     "nodes[0].container_name: 'a' is not valid here (use 2-63 letters"),
    ("unknown-capability", set_in("defaults.cap_add", ["NET_ADMINN"]),
     "defaults.cap_add[0]: 'NET_ADMINN' is not valid here (use a Linux capability name"),
    ("dotdot-file-path", set_in("defaults.files.0.path", ".."),
     "defaults.files[0].path: '..' is not valid here (write a file name"),
    ("env-newline", set_in("defaults.environment", {"X": "a\nb"}),
     "defaults.environment.X: the value holds a line break or NUL"),
]


def write_case(directory: Path, case_id: str, spec: Any) -> Path:
    directory.mkdir()
    text: bytes
    if callable(spec):
        doc = base_doc(count=2)
        spec(doc)
        files = doc.pop("__files__", {})
        text = yaml.safe_dump(doc, sort_keys=False).encode()
        for name, body in files.items():
            if name == "__symlink__":
                (directory / "link.j2").symlink_to(body)
            else:
                (directory / name).write_text(body)
    else:
        text = spec if isinstance(spec, bytes) else spec.encode()
    shutil.copytree(TEMPLATES, directory / "templates")
    path = directory / "cluster.yml"
    path.write_bytes(text)
    return path


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("hostile")
    paths = {case_id: str(write_case(root / case_id, case_id, spec))
             for case_id, spec, _ in CASES}
    before = sorted(str(p) for p in root.rglob("*"))
    result = subprocess.run([sys.executable, str(DRIVER)], input=json.dumps(paths),
                            capture_output=True, text=True, timeout=SECONDS, cwd=root,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=_limits)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(str(p) for p in root.rglob("*")) == before, "validation wrote a file"
    assert not (root / "PWNED").exists()
    found: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return found


@pytest.mark.parametrize(("case_id", "expected"), [(c, e) for c, _, e in CASES],
                         ids=[c for c, _, _ in CASES])
def test_hostile_spec_is_one_clear_line(outcomes, case_id, expected):
    outcome = outcomes[case_id]
    assert outcome["kind"] == "SpecError", outcome
    assert expected in outcome["message"], outcome["message"]
    assert "Traceback" not in outcome["message"]
    assert len(outcome["message"].splitlines()) <= 2
