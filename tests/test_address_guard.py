"""The address guard decides on resolved addresses; private ranges are only ever *resolved*
here, by a mocked resolver: nothing is sent to them."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request

from palimpsest.crawler.addresses import AddressGuardMiddleware, AddressRefused, parse_allowance, refusal
from palimpsest.crawler.fetch import FetchError, check_address

NONE = parse_allowance("")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(address, kind):
    reason = refusal("news.example", [address], NONE)
    assert reason is not None and kind in reason and address in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "151.101.1.164", "2606:4700::6810:84e5"])
def test_public_addresses_pass(address):
    assert refusal("news.example", [address], NONE) is None


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    assert refusal("dual.example", ["93.184.215.14", "10.0.0.7"], NONE) is not None


def test_allowance_by_network_and_for_everything():
    loopback = parse_allowance("127.0.0.0/8")
    assert refusal("x", ["127.0.0.2"], loopback) is None
    assert refusal("x", ["10.0.0.1"], loopback) is not None
    assert refusal("x", ["10.0.0.1"], parse_allowance("true")) is None
    with pytest.raises(ValueError, match="not a network"):
        parse_allowance("nonsense/99")


def _guard(resolved: dict[str, list[str]], allowance=NONE) -> AddressGuardMiddleware:
    async def fake_resolve(host: str) -> list[str]:
        return resolved[host]

    return AddressGuardMiddleware(allowance, resolve=fake_resolve)


def test_middleware_refuses_after_resolution_and_on_a_redirect_hop():
    guard = _guard({"news.example": ["93.184.215.14"], "intranet.example": ["10.20.30.40"]})
    assert asyncio.run(guard.process_request(Request("https://news.example/story"))) is None
    with pytest.raises(AddressRefused, match="intranet.example resolves to 10.20.30.40, which is a private"):
        asyncio.run(guard.process_request(Request("https://intranet.example/admin")))
    # A redirect hop is a new request through the same middleware: same verdict.
    hop = Request("https://news.example/story").replace(url="http://intranet.example/")
    with pytest.raises(AddressRefused):
        asyncio.run(guard.process_request(hop))


def test_metadata_literal_is_refused_without_any_lookup():
    guard = _guard({})  # any lookup would raise KeyError
    with pytest.raises(AddressRefused, match="169.254.169.254 is a link-local"):
        asyncio.run(guard.process_request(Request("http://169.254.169.254/latest/meta-data/")))


def test_extract_command_fetch_is_guarded_too(monkeypatch):
    import palimpsest.crawler.fetch as fetch

    monkeypatch.setattr(fetch.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("192.168.7.7", 0))])
    with pytest.raises(FetchError, match="192.168.7.7, which is a private address"):
        check_address("http://printer.example/", NONE)
