"""Defaults of the tunables in group_data/all.py, for code that runs without pyinfra's data."""

DEFAULT_STATE_DIR = "/var/lib/clusterdeploy"
DEFAULT_PARALLELISM = 8
