"""The address guard: URLs found on the web must not reach into private networks.

A feed, a sitemap or a page can point anywhere, including ``http://169.254.169.254/`` (a
cloud metadata service) or a router on ``192.168.0.1``. Every request's host is resolved
before it is sent, on every redirect hop, and refused when any of its addresses is loopback,
private, link-local, unique-local, shared (CGNAT), reserved, multicast or unspecified —
unless the user allows it (``PALIMPSEST_ALLOW_PRIVATE_ADDRESSES``: ``true`` for all, or a
comma-separated list of networks such as ``127.0.0.0/8``; the tests and the demo allow
loopback only, where the local newsroom runs).

The check uses the same caching resolver as the connection that follows (so a DNS answer
that changes between check and connect cannot slip through) plus ``getaddrinfo`` for IPv6.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Awaitable[list[str]]]


class AddressRefused(IgnoreRequest):
    """The request's host resolves to an address the archiver must not reach."""


@dataclass(frozen=True)
class Allowance:
    everything: bool = False
    networks: tuple[Network, ...] = ()

    def allows(self, address: IPAddress) -> bool:
        return self.everything or any(address in network for network in self.networks)


def parse_allowance(value: Any) -> Allowance:
    """``true``/``1``/``all`` -> everything; ``a/8,b`` -> those networks; empty/false -> none."""
    if isinstance(value, bool):
        return Allowance(everything=value)
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "none"):
        return Allowance()
    if text in ("1", "true", "yes", "all"):
        return Allowance(everything=True)
    networks = []
    for part in text.replace(" ", "").split(","):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"PALIMPSEST_ALLOW_PRIVATE_ADDRESSES: not a network: {part!r}") from exc
    return Allowance(networks=tuple(networks))


def address_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is; None for an ordinary internet address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_kind(address.ipv4_mapped)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata services live here)"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"):
        return "shared (carrier-grade NAT)"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def refusal(host: str, addresses: Iterable[str], allowance: Allowance) -> str | None:
    """Why a request to ``host`` (resolving to ``addresses``) must not be sent, or None."""
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        kind = address_kind(address)
        if kind is not None and not allowance.allows(address):
            shown = host if host == text else f"{host} resolves to {text}, which"
            return f"refused: {shown} is a {kind} address (set PALIMPSEST_ALLOW_PRIVATE_ADDRESSES to allow)"
    return None


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def resolve_with_reactor(host: str) -> list[str]:
    """The reactor's (caching) resolver, which the connection uses, plus getaddrinfo for IPv6."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor

    addresses: set[str] = set()
    with contextlib.suppress(Exception):  # no IPv4 answer; getaddrinfo may still have one
        addresses.add(await maybe_deferred_to_future(reactor.resolve(host)))
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, host, None, proto=socket.IPPROTO_TCP)
        addresses.update(info[4][0] for info in infos)
    except OSError:
        pass
    return sorted(addresses)


class AddressGuardMiddleware:
    """Downloader middleware: resolve, then refuse non-public addresses (every hop)."""

    def __init__(self, allowance: Allowance, resolve: Resolver = resolve_with_reactor) -> None:
        self.allowance = allowance
        self.resolve = resolve

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(parse_allowance(crawler.settings.get("PALIMPSEST_ALLOW_PRIVATE_ADDRESSES")))

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if self.allowance.everything:
            return None
        host = urlsplit(request.url).hostname or ""
        addresses = [literal] if (literal := literal_address(host)) else await self.resolve(host)
        if reason := refusal(host, addresses, self.allowance):
            raise AddressRefused(reason)
        return None
