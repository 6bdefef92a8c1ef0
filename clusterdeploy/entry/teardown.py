"""Tear the cluster down on every Docker host: `pyinfra -y inventory.py teardown.py`.

Graceful by default (SIGTERM, then the grace period); `--data force=true` kills at once.
Only resources labelled with the cluster are touched.
"""

from clusterdeploy.deploy.converge import teardown_cluster

teardown_cluster()
