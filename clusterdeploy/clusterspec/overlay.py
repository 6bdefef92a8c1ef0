"""The overlay network's endpoint range: where Swarm may put addresses of its own.

On an overlay network every Docker host that attaches a container also gets a load-balancer
endpoint (`lb-<network>`) with an address from the subnet, taken from the first free one
unless the network has an `--ip-range`. The nodes' static addresses start at the subnet's
second address, so without a range the endpoint of one host takes the address of a node on
another. The range is a small aligned block high in the subnet, below the tester's address,
chosen from the subnet and the number of hosts only: adding a node never moves it.
"""

from __future__ import annotations

import ipaddress


def endpoint_block_size(hosts: int) -> int:
    """Room for every host's endpoint, twice over (a moved node's host keeps its endpoint a
    while): a power of two, at least 16, so that up to 7 hosts share one size and adding a
    host does not move the range (which would recreate the network and every container)."""
    size = 16
    while size < 2 * hosts + 2:
        size *= 2
    return size


def endpoint_range(subnet: str, hosts: int) -> str | None:
    """The block just below the subnet's top block (which holds the tester's address, the
    last host address, and the broadcast address); None when the subnet has no room for it
    above its first block (the gateway's and node1's)."""
    network = ipaddress.IPv4Network(subnet)
    size = endpoint_block_size(hosts)
    blocks = network.num_addresses // size
    if blocks < 3:
        return None
    start = network.network_address + (blocks - 2) * size
    return f"{start}/{32 - size.bit_length() + 1}"
