"""Trusted proxies: believe ``X-Forwarded-*`` headers only from them.

Behind nginx every request comes from nginx's address, over http, for
whatever host and port nginx listens on. nginx says what the client asked in
``X-Forwarded-For``, ``-Proto``, ``-Host``, ``-Port`` and ``-Prefix``; but a
client can send the same headers itself, so they are only believed when the
peer (``REMOTE_ADDR``) is one of the ``trusted_proxies`` (addresses or
networks, IPv4 and IPv6). Then, before the request is routed, the environ is
rewritten so that ``request.remote_addr``, ``request.scheme``,
``request.host`` and ``request.script_root`` are what the client saw:

==========================  ==================================================
``X-Forwarded-For``         ``REMOTE_ADDR``: walking the list from the right,
                            trusted addresses are proxies and skipped; the
                            first untrusted one is the client (the leftmost
                            when all are trusted)
``X-Forwarded-Proto``       ``wsgi.url_scheme`` (``http`` or ``https`` only)
``X-Forwarded-Host``        ``HTTP_HOST``, ``SERVER_NAME``, ``SERVER_PORT``
``X-Forwarded-Port``        the port of ``HTTP_HOST``, ``SERVER_PORT``
``X-Forwarded-Prefix``      ``SCRIPT_NAME`` (a path starting with ``/``)
==========================  ==================================================

This is the "trusted set" model of nginx's ``real_ip_recursive`` and
gunicorn's ``forwarded_allow_ips``, rather than werkzeug's ``ProxyFix``,
which is told how many proxies there are and takes that many values from the
right whoever sent them. A set is what people know about their network (the
proxy's address), it does not break when a hop is added, and a request that
bypasses the proxy changes nothing. One hop per trusted proxy: when the walk
passed ``n`` proxies (the peer and the trusted addresses after the client),
the other headers are read ``n`` values from the right, as each proxy may
have appended its own; a header with fewer values (proxies that replace it
rather than append) is read from the left. With one proxy both models take
the last value of each header.

Malformed values are ignored one header at a time, never an error: an
``X-Forwarded-For`` with something that is not an address on the walk
(``REMOTE_ADDR`` stays the proxy's), a proto other than http/https, a host
that is not a host, a port that is not a number 1-65535, a prefix that is
not a path. The values the server gave are kept in
``environ["digwebs.original"]``, which also marks the environ as rewritten,
so a request is rewritten once even when it passes ``wsgi_app`` twice.
"""

from __future__ import annotations

import ipaddress
import socket
import typing as t

from .config import ConfigError
from .hosts import split_host

__all__ = [
    "ORIGINAL",
    "TrustedProxies",
    "gunicorn_forwarded_allow_ips",
    "parse_trusted_proxies",
    "proxy_problems",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# An address as (version, integer): what is compared with the networks.
_Address = tuple[int, int]

#: The environ key holding the values the server gave, before the rewrite.
ORIGINAL = "digwebs.original"
_SCHEMES = {"http": "http", "https": "https"}
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Peer addresses remembered as trusted or not (see TrustedProxies.is_trusted).
_PEERS_MAX = 256
# X-Forwarded-For values whose walk is remembered (see TrustedProxies.rewrite).
_WALKS_MAX = 4096
# Characters a prefix (a URL path) cannot hold as sent by a proxy.
_NOT_IN_PREFIX = frozenset("?#\\") | frozenset(map(chr, range(33))) | {"\x7f"}


def parse_trusted_proxies(value: t.Any) -> tuple[Network, ...]:
    """Check the ``trusted_proxies`` setting and return its networks.

    ``value`` is a list of IPv4/IPv6 addresses and CIDR networks
    (``"127.0.0.1"``, ``"10.0.0.0/8"``, ``"::1"``, ``"fd00::/8"``), or one
    string of them separated by commas. Raises
    :class:`~digwebs.config.ConfigError` naming the entry that is not one, a
    network with host bits set (``10.0.0.1/8``: did you mean ``10.0.0.0/8``?)
    and ``*``: trusting every peer lets any client choose its own address,
    so write ``0.0.0.0/0`` and ``::/0`` if that is really meant.
    """
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(
            f'trusted_proxies must be a list of addresses or networks, e.g. ["127.0.0.1"], '
            f"not {value!r}"
        )
    return tuple(_parse_network(entry) for entry in value)


def _parse_network(entry: t.Any) -> Network:
    if not isinstance(entry, str):
        raise ConfigError(f"trusted_proxies entries must be strings, not {entry!r}")
    text = entry.strip()
    if text == "*":
        raise ConfigError(
            "trusted_proxies entry '*' is refused: trusting every peer lets any client set "
            "its own address and scheme. List the proxies' addresses, or write "
            "'0.0.0.0/0' and '::/0' if nothing but the proxy can reach this server."
        )
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(
                f"trusted_proxies entry {entry!r} is not an IP address or network "
                "(e.g. '127.0.0.1', '10.0.0.0/8', '::1')"
            ) from None
        raise ConfigError(
            f"trusted_proxies entry {entry!r} has host bits set; did you mean {str(loose)!r}?"
        ) from None


_inet_pton = socket.inet_pton
_from_bytes = int.from_bytes
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6
_MAPPED = 0xFFFF << 32  # ::ffff:0:0/96, IPv4 addresses on an IPv6 socket


def _parse_ip(text: str) -> tuple[_Address, str] | None:
    """An address and its canonical text; None when ``text`` is not an address.

    PERF: ``inet_pton`` in C, not :mod:`ipaddress` (several microseconds a
    call); it is strict (dotted-quad IPv4 without leading zeros). An
    IPv4-mapped IPv6 address is its IPv4 address.
    """
    # ValueError: a NUL or a character that is not ASCII in the text.
    try:
        return (4, _from_bytes(_inet_pton(_AF_INET, text))), text
    except (OSError, ValueError):
        pass
    try:
        packed = _inet_pton(_AF_INET6, text)
    except (OSError, ValueError):
        if "%" in text and text.isascii():  # a zone (fe80::1%eth0): rare enough for ipaddress
            try:
                ip = ipaddress.IPv6Address(text)
            except ValueError:
                return None
            return (6, int(ip)), str(ip)
        return None
    value = _from_bytes(packed)
    if value >> 32 == _MAPPED >> 32:
        v4 = value & 0xFFFFFFFF
        return (4, v4), socket.inet_ntop(_AF_INET, v4.to_bytes(4, "big"))
    return (6, value), socket.inet_ntop(_AF_INET6, packed)


def _forwarded_address(text: str) -> tuple[_Address, str] | None:
    """The address in an ``X-Forwarded-For`` item, a port allowed; None if none."""
    if text[:1] == "[":  # [2001:db8::1] or [2001:db8::1]:443
        end = text.find("]")
        rest = text[end + 1 :]
        if end < 0 or (rest and not (rest[0] == ":" and rest[1:].isdigit())):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    return _parse_ip(text)


def _pick(value: str | None, hops: int) -> str | None:
    """The item of a list header that the outermost trusted proxy wrote."""
    if not value:
        return None
    items = value.split(",")
    item = items[-hops] if len(items) >= hops else items[0]
    return item.strip(" \t") or None


class TrustedProxies:
    """The ``trusted_proxies`` networks, and the environ rewrite they allow.

    Build it with :meth:`from_config` at start-up; :meth:`rewrite` is then
    called once per request (see the module docstring).
    """

    def __init__(self, networks: t.Iterable[Network]) -> None:
        self.networks = tuple(networks)
        # PERF: networks as (version, network, mask) integers, compared with
        # two integer operations each; a peer's verdict is remembered.
        self._masks = tuple(
            (net.version, int(net.network_address), int(net.netmask)) for net in self.networks
        )
        self._peers: dict[str, bool] = {}
        self._walks: dict[str, tuple[str | None, int]] = {}

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> TrustedProxies | None:
        """The proxies of ``config``'s ``trusted_proxies``; None when it is empty."""
        networks = parse_trusted_proxies(config.get("trusted_proxies") or [])
        return cls(networks) if networks else None

    def _contains(self, address: _Address) -> bool:
        version, value = address
        for net_version, network, mask in self._masks:
            if net_version == version and value & mask == network:
                return True
        return False

    def is_trusted(self, peer: str) -> bool:
        """Whether the address text ``peer`` (``REMOTE_ADDR``) is a trusted proxy's.

        An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is its IPv4
        address; text that is no address (a Unix socket's peer) is not trusted.
        """
        known = self._peers.get(peer)
        if known is not None:
            return known
        parsed = _parse_ip(peer)
        trusted = parsed is not None and self._contains(parsed[0])
        if len(self._peers) < _PEERS_MAX:
            self._peers[peer] = trusted
        return trusted

    def rewrite(self, environ: dict[str, t.Any]) -> None:
        """Apply a trusted peer's ``X-Forwarded-*`` headers to ``environ``, once."""
        if ORIGINAL in environ:
            return
        peer = environ.get("REMOTE_ADDR")
        if not peer or not self.is_trusted(peer):
            return
        get = environ.get
        environ[ORIGINAL] = {
            "REMOTE_ADDR": peer,
            "wsgi.url_scheme": get("wsgi.url_scheme"),
            "HTTP_HOST": get("HTTP_HOST"),
            "SERVER_NAME": get("SERVER_NAME"),
            "SERVER_PORT": get("SERVER_PORT"),
            "SCRIPT_NAME": get("SCRIPT_NAME"),
        }
        hops = 1
        forwarded_for = get("HTTP_X_FORWARDED_FOR")
        if forwarded_for:
            # PERF: a client sends many requests; its walk is remembered
            # (forgotten all at once when too many clients were seen).
            walk = self._walks.get(forwarded_for)
            if walk is None:
                walk = self._client(forwarded_for)
                if len(self._walks) >= _WALKS_MAX:
                    self._walks.clear()
                self._walks[forwarded_for] = walk
            client, hops = walk
            if client is not None:
                environ["REMOTE_ADDR"] = client
        proto = _pick(get("HTTP_X_FORWARDED_PROTO"), hops)
        if proto is not None:
            scheme = _SCHEMES.get(proto.lower())
            if scheme is not None:
                environ["wsgi.url_scheme"] = scheme
        host = _pick(get("HTTP_X_FORWARDED_HOST"), hops)
        if host is not None and split_host(host) is not None:
            environ["HTTP_HOST"] = host
            name, colon, host_port = host.rpartition(":")
            if colon and not host_port.endswith("]"):  # host:port, [v6]:port
                environ["SERVER_NAME"], environ["SERVER_PORT"] = name, host_port
            else:
                environ["SERVER_NAME"] = host
                scheme = str(environ.get("wsgi.url_scheme"))
                environ["SERVER_PORT"] = _DEFAULT_PORTS.get(scheme, "80")
        port = _pick(get("HTTP_X_FORWARDED_PORT"), hops)
        if port is not None and port.isascii() and port.isdigit() and 0 < int(port) < 65536:
            port = str(int(port))
            current = get("HTTP_HOST")
            if current:
                name, colon, old = current.rpartition(":")
                if colon and not old.endswith("]"):
                    current = name
                environ["HTTP_HOST"] = f"{current}:{port}"
            environ["SERVER_PORT"] = port
        prefix = _pick(get("HTTP_X_FORWARDED_PREFIX"), hops)
        if prefix is not None and prefix[0] == "/" and _NOT_IN_PREFIX.isdisjoint(prefix):
            environ["SCRIPT_NAME"] = prefix.rstrip("/")

    def _client(self, forwarded_for: str) -> tuple[str | None, int]:
        """The client's address in ``X-Forwarded-For``, and the proxies passed.

        None for the address when the walk meets an item that is not one:
        the chain cannot be followed, so the peer stays the client.
        """
        items = forwarded_for.split(",")
        hops = 1
        client = None
        for item in reversed(items):
            parsed = _forwarded_address(item.strip(" \t"))
            if parsed is None:
                return None, hops
            client = parsed[1]
            if not self._contains(parsed[0]):
                break
            hops += 1
        else:
            hops -= 1  # the leftmost is the client although it is trusted too
        return client, hops


def gunicorn_forwarded_allow_ips(config: t.Mapping[str, t.Any]) -> str:
    """gunicorn's ``forwarded_allow_ips`` for ``config``'s ``trusted_proxies``.

    A comma-separated list (single hosts as plain addresses, networks in CIDR
    form, which gunicorn 22+ accepts); ``""`` when no proxy is trusted, so
    gunicorn's own default of ``127.0.0.1,::1`` never trusts a proxy that
    digwebs does not. Raises :class:`~digwebs.config.ConfigError` as
    :func:`parse_trusted_proxies`.
    """
    networks = parse_trusted_proxies(config.get("trusted_proxies") or [])
    return ",".join(
        str(net.network_address) if net.num_addresses == 1 else str(net) for net in networks
    )


def proxy_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """Findings about ``trusted_proxies`` for ``digwebs check --deploy``, one line each.

    A network holding every address (``0.0.0.0/0``, ``::/0``) is a finding:
    any client that reaches the server directly can then choose its address
    and claim https. An empty list is not: serving clients directly is fine,
    and behind a proxy the missing setting shows at once (every client has the
    proxy's address). Raises :class:`~digwebs.config.ConfigError` as
    :func:`parse_trusted_proxies`.
    """
    problems = []
    for net in parse_trusted_proxies(config.get("trusted_proxies") or []):
        if net.prefixlen == 0:
            problems.append(
                f"trusted_proxies contains {str(net)!r}, every address: any client that can "
                "reach this server directly can forge X-Forwarded-For and -Proto. List only "
                'the proxies\' addresses, e.g. trusted_proxies = ["127.0.0.1"].'
            )
    return problems
