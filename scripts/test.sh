#!/usr/bin/env bash
# The project's test command: sets up everything it needs on a fresh Debian machine (virtualenv,
# Docker engine, base image, the tools the test harnesses use: scripts/bootstrap.sh), then runs
# ruff, mypy and the whole pytest suite: unit tests, and integration tests against the real
# engine. With CI=true a skipped test fails the run (tests/conftest.py).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
bootstrap
ensure_test_tools
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
