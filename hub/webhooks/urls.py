"""Where a webhook may point. In production mode: https only, and no address that is not on
the public internet (private, loopback, link-local, shared, reserved; IPv4-mapped forms too),
checked after DNS resolution, when registering and again before every delivery, which then
connects to the very address that was checked (a name that resolves elsewhere a second time,
DNS rebinding, gains nothing). Outside production mode, http and local receivers are allowed
so that a developer can run one on their machine."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from hub.errors import BadUserInput

MAX_URL = 2000


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str
    port: int
    address: str  # the resolved address a delivery connects to


def parse(url: str, *, production: bool) -> SplitResult:
    if len(url) > MAX_URL:
        raise BadUserInput(f"the URL is limited to {MAX_URL} characters", argument="url")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadUserInput(f"not a usable URL: {exc}", argument="url") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise BadUserInput(
            "webhook URLs must use https" if production else "webhook URLs use http or https",
            argument="url",
        )
    if not parts.hostname:
        raise BadUserInput("the URL names no host", argument="url")
    if parts.username is not None or parts.password is not None:
        raise BadUserInput("credentials do not belong in a webhook URL", argument="url")
    if parts.fragment:
        raise BadUserInput("a webhook URL has no #fragment", argument="url")
    if port == 0:
        raise BadUserInput("port 0 is not a port", argument="url")
    return parts


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(url: str, *, production: bool, allow_private: bool) -> Target:
    """The URL checked and resolved; BadUserInput names what is wrong."""
    parts = parse(url, production=production)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BadUserInput(f"the host {host} does not resolve", argument="url") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise BadUserInput(f"the host {host} does not resolve", argument="url")
    if production and not allow_private:
        # every address, not just the first: a name may list a private one beside a public one
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise BadUserInput(
                f"{host} resolves to {refused[0]}, which is not a public internet address",
                argument="url",
            )
    return Target(parts, host, port, addresses[0])
