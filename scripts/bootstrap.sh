#!/usr/bin/env bash
# Prepare a fresh Debian machine for clusterdeploy, idempotently:
#   1. a virtualenv (.venv) with the pinned dependencies and the package itself;
#   2. a running Docker engine (installs Debian's docker.io and starts dockerd when `docker info` fails);
#   3. the base image debian:bookworm (pulled, or made from Debian's packages with mmdebstrap
#      when no registry is reachable).
# Sourced by scripts/deploy.sh and scripts/test.sh; safe to run again at any time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/clusterdeploy-dockerd.log}"
BASE_IMAGE="${BASE_IMAGE:-debian:bookworm}"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  # No package may start a daemon (openssh-server would start the system's sshd): the tests
  # start what they need themselves, and stop it again.
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" && placed=1
  fi
  local status=0
  as_root apt-get update -q >/dev/null || status=$?
  [ "$status" -ne 0 ] || as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q "${missing[@]}" >/dev/null || status=$?
  if [ -n "$placed" ]; then as_root rm -f "$policy"; fi
  return "$status"
}

ensure_venv() {
  local stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ]; then return 0; fi
  log "creating virtualenv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  # A killed earlier run can leave the pid file of a dead daemon behind; dockerd refuses to
  # start while it exists.
  local pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "removing stale $pidfile"
    as_root rm -f "$pidfile"
  fi
  log "starting dockerd (log: $DOCKERD_LOG)"
  as_root sh -c "nohup dockerd >>'$DOCKERD_LOG' 2>&1 </dev/null &"
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then log "engine ready"; return 0; fi
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; last lines of $DOCKERD_LOG:"
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  return 1
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  if timeout 60 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  log "cannot pull $BASE_IMAGE; building it from Debian's packages with mmdebstrap"
  command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
  mmdebstrap --quiet --variant=minbase bookworm - | docker import - "$BASE_IMAGE" >/dev/null
}

# What the tests use besides the engine: the remote-host harnesses (network namespaces, a
# second dockerd, an sshd with its own config, a bridge and its FORWARD rule), and the headless
# browser that opens the run reports (tests/integration/test_report.py, through Playwright).
TEST_PACKAGES=(openssh-server openssh-client iproute2 util-linux mount iptables procps chromium)

ensure_test_tools() {
  apt_install "${TEST_PACKAGES[@]}"
}

bootstrap() {
  ensure_venv
  ensure_engine
  ensure_base_image
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  bootstrap
fi
