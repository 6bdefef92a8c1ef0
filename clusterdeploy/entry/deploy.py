"""Converge the cluster on every Docker host: `pyinfra -y inventory.py deploy.py`.

Thin on purpose: the logic lives in clusterdeploy/ (spec -> desired state -> plan -> operations).
"""

from clusterdeploy.deploy.converge import deploy_cluster

deploy_cluster()
