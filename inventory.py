"""pyinfra inventory: the Docker hosts of the cluster spec (cluster.yml, or $CLUSTER_SPEC).

The spec is validated here, before pyinfra connects to any host.
"""

from clusterdeploy.deploy.inventory import docker_hosts as _docker_hosts

docker_hosts = _docker_hosts()
