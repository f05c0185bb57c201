"""Which webhook urls StockFlow may call: http(s) only, and (unless
STOCKFLOW_WEBHOOK_ALLOW_PRIVATE) only hosts whose every address is global, so a
subscription cannot make the server probe its own network (SSRF)."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_SECONDS = 5.0


class UnsafeAddress(Exception):
    """The url's host is not global, or does not resolve."""


def check_url_shape(url: str) -> str:
    """For the schema: an absolute http(s) url with a host (a ValueError is a 422)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http or https url")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    return url


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """`ipaddress`'s is_global, also for the IPv4 address an IPv6 one carries (mapped,
    IPv4-compatible, 6to4, NAT64, Teredo): `is_global` calls 6to4 and NAT64 forms of
    127.0.0.1 global, and they may reach it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # no IPv6 zone ("fe80::1%eth0")
    if not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        carried: list[ipaddress.IPv4Address | None] = [ip.ipv4_mapped, ip.sixtofour]
        if ip in _NAT64 or int(ip) >> 32 == 0:
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.teredo is not None:
            carried.append(ip.teredo[1])
        return all(v4 is None or v4.is_global for v4 in carried)
    return True


async def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as exc:
        raise UnsafeAddress(f"host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


async def check_public(url: str) -> None:
    """Raise UnsafeAddress unless every address of the url's host is global."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port)
    if not addresses:
        raise UnsafeAddress(f"host {host!r} does not resolve")
    for address in addresses:
        if not is_public(address):
            raise UnsafeAddress(f"host {host!r} resolves to {address}, which is not global")
