"""pyinfra inventory: the Docker hosts of the cluster spec (cluster.yml, or $CLUSTER_SPEC).

The spec is validated here, before pyinfra connects to any host.
"""

import sys

# pyinfra turns bytecode caching off (sys.dont_write_bytecode): without this, every run would
# compile clusterdeploy's ~80 modules from source again (~0.3 s of CPU).
sys.dont_write_bytecode = False

from clusterdeploy.deploy.inventory import docker_hosts as _docker_hosts  # noqa: E402

docker_hosts = _docker_hosts()
