#!/usr/bin/env python3
"""A fake `docker` CLI for unit tests: it answers from a JSON state file and logs every call.

Put first on PATH (see the `fake_docker` fixture). It honours the `--format` templates our code
passes (`{{.Names}}`, `{{.Label "k"}}`, ...), so a parser reading the wrong column reads
the wrong value, as it would against the real CLI. Environment:
  FAKE_DOCKER_STATE  JSON: {"containers": [{ID, Names, State, Status, Networks, Labels}],
                     "networks": [{Id, Name, Labels, IPAM, Containers}],
                     "images": [{Repository, Tag, ID, Labels}] (also what `image inspect`
                     finds, by repo:tag or ID), "fail": {"ps": "message", ...},
                     "sleep": seconds every create/start/stop takes,
                     "fail_stdin": {"text": "message"}: a `docker run -i` whose stdin holds
                     the text fails with the message}
  FAKE_DOCKER_LOG    file that gets one JSON line per call: {"argv", "start", "end", "stdin"}
                     (stdin: what `docker run -i` was given, e.g. a fault helper's script)
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

FIELD = re.compile(r'\{\{\s*(json\s+|index\s+)?\.([\w.]+)(?:\s+"([^"]+)")?\s*\}\}')


CONDITION = re.compile(r"\{\{\s*if\s+\.([\w.]+)\s*\}\}(.*?)\{\{\s*end\s*\}\}")


class TemplateError(Exception):
    """What the real CLI fails with, e.g. `index` of a missing map."""


def _lookup(item: dict, path: str):
    found = item
    for part in path.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def render(template: str, item: dict) -> str:
    template = CONDITION.sub(lambda m: m.group(2) if _lookup(item, m.group(1)) else "", template)

    def value(match: re.Match) -> str:
        as_json, path, label = match.group(1), match.group(2), match.group(3)
        if path == "Label":
            return str((item.get("Labels") or {}).get(label, ""))
        if as_json and as_json.startswith("index"):  # {{index .Config.Labels "k"}}
            found = _lookup(item, path)
            if found is None:
                raise TemplateError(f'template: :1: executing "" at <index .{path} "{label}">: '
                                    "error calling index: index of untyped nil")
            return str(found.get(label, ""))
        found = item
        for part in path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return json.dumps(found) if as_json else str("" if found is None else found)
    return FIELD.sub(value, template)


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else ""


def main(argv: list[str]) -> int:
    with open(os.environ["FAKE_DOCKER_STATE"]) as file:
        state = json.load(file)
    started = time.time()
    command = " ".join(a for a in argv[:2] if not a.startswith("-"))
    key = argv[0] if argv[0] != "network" else f"network {argv[1]}"
    code = 0
    stdin = sys.stdin.read() if argv[0] == "run" and "-i" in argv else None
    failing = [m for text, m in state.get("fail_stdin", {}).items() if stdin and text in stdin]
    if failing:
        print(failing[0], file=sys.stderr)
        code = 1
    elif key in state.get("fail", {}):
        print(state["fail"][key], file=sys.stderr)
        code = 1
    elif argv[0] == "ps":
        for c in state.get("containers", []):
            print(render(option(argv, "--format"), c))
    elif key == "network ls":
        for n in state.get("networks", []):
            print(render(option(argv, "--format"), {**n, "ID": n["Id"]}))
    elif key == "network inspect":
        wanted = argv[2:]
        print(json.dumps([n for n in state.get("networks", []) if n["Id"] in wanted]))
    elif argv[0] == "images":
        wanted = option(argv, "--filter").removeprefix("label=")
        for image in state.get("images", []):
            if not wanted or wanted in image.get("Labels", {}):
                print(render(option(argv, "--format"), image))
    elif argv[:2] == ["image", "inspect"]:
        ref = argv[-1]
        tags = {i["ID"]: [f"{j['Repository']}:{j['Tag']}" for j in state.get("images", [])
                          if j["ID"] == i["ID"] and j["Repository"] != "<none>"]
                for i in state.get("images", [])}
        found = next((i for i in state.get("images", [])
                      if ref in (f"{i['Repository']}:{i['Tag']}", i["ID"])), None)
        if found is None:
            print(f"Error response from daemon: No such image: {ref}", file=sys.stderr)
            code = 1
        else:
            try:
                print(render(option(argv, "--format"), {
                    "Id": found["ID"], "Config": {"Labels": found.get("Labels") or None},
                    "RepoTags": tags[found["ID"]]}))
            except TemplateError as exc:
                print(exc, file=sys.stderr)
                code = 1
    elif key == "volume ls" or argv[:2] == ["volume", "ls"]:
        for volume in state.get("volumes", []):
            print(render(option(argv, "--format"), volume))
    elif argv[0] == "inspect":
        ids = argv[argv.index("--format") + 2:]
        for c in state.get("containers", []):
            if c["ID"] in ids:
                print(render(option(argv, "--format"), {**c, "Id": c["ID"]}))
    elif argv[0] in ("create", "start", "stop", "kill", "rm"):
        time.sleep(float(state.get("sleep", 0)))
    log = os.environ.get("FAKE_DOCKER_LOG")
    if log:
        with open(log, "a") as out:
            out.write(json.dumps({"argv": argv, "command": command, "start": started,
                                  "end": time.time(), "stdin": stdin}) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
