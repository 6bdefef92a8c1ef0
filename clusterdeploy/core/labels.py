"""The labels that mark what clusterdeploy owns; owned resources are found by them, not by name."""

NAMESPACE = "io.clusterdeploy"
CLUSTER = f"{NAMESPACE}.cluster"
MEMBER = f"{NAMESPACE}.member"  # node name, or "tester"
CONFIG_HASH = f"{NAMESPACE}.config-hash"
CONFIG = f"{NAMESPACE}.config"  # canonical JSON of what the hash covers, to say what changed
IMAGE_HASH = f"{NAMESPACE}.image-hash"
IMAGE_KEY = f"{NAMESPACE}.image"
KEEP = f"{NAMESPACE}.keep"  # on a volume: "false" when a teardown removes it
