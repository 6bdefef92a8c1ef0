"""The commented cluster.yml that `clusterdeploy init` writes, from the user's choices.

Every value from an option goes through YAML's own dumper, never pasted into the text raw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ..clusterspec.build import default_subnet

SCHEMA_COPY = "docker-test/cluster.schema.json"
TEMPLATES = "docker-test/templates"
SERVICE_IMAGE = "service"  # the key of the image built from the user's Dockerfile
WRAPPER = "/clusterdeploy/start.sh"


@dataclass(frozen=True)
class Choices:
    """What the options chose; `image` is an existing image reference (nothing built) or None
    (built from `dockerfile`)."""

    name: str
    nodes: int
    port: int
    publish: int
    command: tuple[str, ...]
    image: str | None = None
    dockerfile: str = "Dockerfile"
    subnet: str | None = None

    @property
    def network_subnet(self) -> str:
        return self.subnet or default_subnet(self.name)


def cluster_name(directory_name: str) -> str:
    """A valid cluster name from a directory's name: `My Service` -> `my-service`."""
    name = re.sub(r"[^a-z0-9_-]+", "-", directory_name.lower()).strip("-_")
    return name[:31].rstrip("-_") or "cluster"


def flow(value: object) -> str:
    """`value` as one line of YAML (flow style), quoted where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def _images(choices: Choices) -> str:
    if choices.image is not None:
        return """\
images: {}                     # nothing to build: the nodes run an image the Docker host has
build: {programs: []}          # (clusterdeploy's own Go build step: not used)
"""
    return f"""\
images:                        # built by clusterdeploy, tagged <tag>:<content hash>; rebuilt when
  {SERVICE_IMAGE}:                     # the Dockerfile or a file it COPYs changes, else never
    tag: {flow(choices.name)}
    dockerfile: {flow(choices.dockerfile)}
    context: .
build: {{programs: []}}          # your Dockerfile builds your program (clusterdeploy's own Go
                               # build step is for images that compile ./cmd-style packages)
"""


def spec_text(choices: Choices, version: str) -> str:
    """The whole cluster.yml."""
    image = flow(choices.image) if choices.image is not None else SERVICE_IMAGE
    image_note = ("An image the Docker host has (clusterdeploy pulls nothing)."
                  if choices.image is not None else
                  "The key of `images` above; or any image the Docker host has.")
    command = flow([WRAPPER, *choices.command])
    return f"""\
# yaml-language-server: $schema={SCHEMA_COPY}
# The test cluster of {choices.name}: {choices.nodes} nodes of your service, and a tester that
# runs your test suite. Written by `clusterdeploy init` (clusterdeploy {version}); every key is
# described in the schema of the first line (your editor shows it). Paths are relative to this
# file.
#
#   clusterdeploy validate                check this file: every problem at once
#   pyinfra -y inventory.py deploy.py     build, create, wait until healthy; again: only changes
#   ./run_tests.sh --once                 deploy, run the suite in the tester, shut down
#   clusterdeploy status                  a row per container, and what a deploy would change
#   pyinfra -y inventory.py teardown.py   collect the logs, remove everything
name: {flow(choices.name)}

network:
  name: {flow(choices.name + "-net")}
  subnet: {flow(choices.network_subnet)}       # change it if it overlaps one of your networks

{_images(choices)}
defaults:                      # what every node is made of
  # {image_note}
  image: {image}
  user: root
  environment:
    CFG_PATH: /clusterdeploy/Cluster.config    # the replica table (templates/Cluster.config.j2)
  # The ports your service listens on, by name; the first is the one in the replica table, the
  # health check and `publish` below.
  service_ports: {{http: {choices.port}}}
  # start.sh exports SELF_IP, NODE_NAME and NODE_INDEX, then execs the rest: your service.
  command: {command}
  healthcheck: {{http: /, interval: 1s}}   # needs curl in the image; or test: [CMD-SHELL, "..."]
  stop_grace_period: 10s
  files:                       # Jinja2 templates rendered per container into /clusterdeploy
    - {{template: {TEMPLATES}/Cluster.config.j2, path: Cluster.config}}
    - {{template: {TEMPLATES}/start.sh.j2, path: start.sh, mode: "0755"}}
    - {{template: {TEMPLATES}/check.sh.j2, path: check.sh, mode: "0755"}}

nodes:
  count: {choices.nodes}
  name: node{{i}}                # node1, node2, ...: names and hostnames
  publish: {{host_ip: 127.0.0.1, base: {choices.publish}}}   # node i: 127.0.0.1:(base + i)

tester:                        # one more container on the network; it idles until a run
  command: [/clusterdeploy/check.sh]       # your suite: its exit code is the run's
  container_command: [sleep, infinity]
  # image: ...                 # default: the nodes' image (check.sh needs curl or wget in it)

logs:
  dir: docker-test/logs        # where run and teardown collect every container's logs
"""
