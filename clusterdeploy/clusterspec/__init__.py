"""The cluster spec: YAML in, immutable values out (read -> schema -> build -> checks)."""

from .load import DEFAULT_SPEC, load_spec, spec_path
from .model import (
    NODE,
    TESTER,
    Bootstrap,
    ContainerSettings,
    FileTemplate,
    GoBuild,
    HealthCheck,
    Host,
    ImageDef,
    Member,
    Network,
    Spec,
    SSHAccess,
    Tester,
)
from .ports import PortMapping
from .read import SPEC_ENV

__all__ = [
    "DEFAULT_SPEC",
    "NODE",
    "SPEC_ENV",
    "TESTER",
    "Bootstrap",
    "ContainerSettings",
    "FileTemplate",
    "GoBuild",
    "HealthCheck",
    "Host",
    "ImageDef",
    "Member",
    "Network",
    "PortMapping",
    "SSHAccess",
    "Spec",
    "Tester",
    "load_spec",
    "spec_path",
]
