#!/usr/bin/env bash
# Deploy the cluster (cluster.yml, or $CLUSTER_SPEC), run the tester's suite, keep the cluster up
# until Ctrl+C (once: graceful shutdown, twice: forced), then collect every container's logs.
# Arguments go to `clusterdeploy run`, e.g. --once (shut down after the suite; the default when
# CI is set). Written by `clusterdeploy init`; clusterdeploy must be on PATH (its virtualenv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v clusterdeploy >/dev/null; then
  echo "run_tests.sh: clusterdeploy is not on PATH (activate the virtualenv it is installed in)" >&2
  exit 127
fi
exec clusterdeploy run "$@"
