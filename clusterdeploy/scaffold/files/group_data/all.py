"""Tunables that are not part of the cluster's shape. Override with `--data key=value`."""

# Directory on each Docker host holding every container's rendered files
# (<state_dir>/<cluster>/<container>/, mounted read-only into the container).
state_dir = "/var/lib/clusterdeploy"

# How many containers are created, started or stopped at once on one host.
parallelism = 8

# Print the output of image builds as they run (otherwise only a failing build's tail).
stream_builds = False
