"""Tear the cluster down on every Docker host: `pyinfra -y inventory.py teardown.py`.

Graceful by default (SIGTERM, then the grace period); `--data force=true` kills at once.
Only resources labelled with the cluster are touched.
"""

import sys

# pyinfra turns bytecode caching off (sys.dont_write_bytecode): without this, every run would
# compile clusterdeploy's ~80 modules from source again (~0.3 s of CPU).
sys.dont_write_bytecode = False

from clusterdeploy.deploy.converge import teardown_cluster  # noqa: E402

teardown_cluster()
