"""Converge the cluster on every Docker host: `pyinfra -y inventory.py deploy.py`.

Thin on purpose: the logic lives in clusterdeploy/ (spec -> desired state -> plan -> operations).
"""

import sys

# pyinfra turns bytecode caching off (sys.dont_write_bytecode): without this, every run would
# compile clusterdeploy's ~80 modules from source again (~0.3 s of CPU).
sys.dont_write_bytecode = False

from clusterdeploy.deploy.converge import deploy_cluster  # noqa: E402

deploy_cluster()
