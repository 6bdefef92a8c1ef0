#!/usr/bin/env bash
# The project's test command: sets up everything it needs on a fresh Debian machine (virtualenv,
# Docker engine, base image), then runs ruff, mypy and the whole pytest suite: unit tests, and
# integration tests against the real engine (never skipped when CI=true).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
bootstrap
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
