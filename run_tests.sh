#!/usr/bin/env bash
# The seed's entry point, kept: deploy the cluster, run the tester's suite, keep the cluster up
# until Ctrl+C (once: graceful shutdown, twice: forced), then collect every container's logs
# into docker-test/logs/<UTC time>/. Arguments go to `python -m clusterdeploy run`
# (e.g. --once, --spec other.yml). Sets up a fresh machine first, like scripts/deploy.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/bootstrap.sh
bootstrap
exec .venv/bin/python -m clusterdeploy run "$@"
