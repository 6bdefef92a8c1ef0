#!/usr/bin/env bash
# Deploy the cluster of cluster.yml (or $CLUSTER_SPEC) on the local Docker engine, setting up
# what a fresh Debian machine lacks first (virtualenv, Docker engine, base image).
# Extra arguments go to pyinfra, e.g. `scripts/deploy.sh --dry`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
bootstrap
exec .venv/bin/pyinfra -y inventory.py deploy.py "$@"
