"""The machine's address on the local network, for `make run` in a room: phones on the
same Wi-Fi reach the demo there.

Found without sending anything: a UDP socket "connected" to a private address makes
the kernel choose the interface (and its address) that traffic to it would leave by,
and nothing goes on the wire until a datagram is sent, which never happens here. No
route (no network, or only loopback): no address.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, ip_address

# Private addresses, one in each private range and none a broadcast address (connecting
# to one is refused): whichever has a route first gives the interface. They need not
# exist; the discard port is never reached.
PROBES = ("10.254.254.254", "192.168.254.254", "172.31.254.254")
DISCARD_PORT = 9
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 -- what `--lan` binds, on purpose
LOOPBACK = "127.0.0.1"


def lan_address(probes: tuple[str, ...] = PROBES) -> str | None:
    """This machine's IPv4 address on the network it would reach ``probes`` through,
    or None when there is none (no route, or only loopback)."""
    for probe in probes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.connect((probe, DISCARD_PORT))
                found = ip_address(udp.getsockname()[0])
            except (OSError, ValueError):
                continue
        if isinstance(found, IPv4Address) and not (found.is_loopback or found.is_unspecified):
            return str(found)
    return None
