"""Host validation: the ``allowed_hosts`` setting and the 400 for other hosts.

A request names the site it wants in its ``Host`` header (after the trusted
proxy rewrite of :mod:`digwebs.proxies`, ``X-Forwarded-Host``). Links the
application builds with ``url_for(..., _external=True)``, and anything else
that trusts :attr:`Request.host`, are only as good as that name, so it is
checked before the request is routed:

* its syntax, always: a domain name or IPv4 address of letters, digits,
  ``.`` and ``-``, or an IPv6 literal in brackets, then an optional port
  1-65535. ``Host: a b``, ``Host: evil.example@site``, an empty ``Host`` and
  ``Host: site:0`` are refused whatever ``allowed_hosts`` says. These are the
  hosts that both werkzeug (``host_is_trusted``) and Django
  (``split_domain_port``) accept; where they differ (Django takes any
  port digits) the stricter one is followed, as no client sends a port of 0
  or with leading zeros;
* its name, when ``allowed_hosts`` is not empty. Ports are ignored and so is
  a final dot (``example.com.``, as Django); ``example.com`` matches itself
  only, ``*.example.com`` its subdomains at any depth but not
  ``example.com`` itself (as nginx's ``server_name``), ``.example.com``
  both (as Django and nginx), ``*`` any host.

A request that fails either check gets :class:`DisallowedHost`, a 400 whose
page names the host and the setting to change (JSON for API clients, through
the usual error handling). It is the client's mistake or a probe, so it is
not logged as an error.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import typing as t

from .config import ConfigError
from .errors import BadRequest

__all__ = [
    "DisallowedHost",
    "external_host",
    "HostCheck",
    "host_problems",
    "match_host",
    "parse_allowed_hosts",
    "request_host",
    "split_host",
]

logger = logging.getLogger("digwebs.security")

# A domain or IPv4 address, or a bracketed IPv6 literal; then a port 1-65535
# written without leading zeros (the value is checked in split_host).
_HOST = re.compile(
    r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([1-9][0-9]{0,4}))?",
    re.ASCII | re.IGNORECASE,
)
# A name in allowed_hosts: letters, digits, "-", dots between labels.
_NAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*", re.ASCII)
_DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}
# At most this many distinct Host values are remembered as good (see HostCheck).
_KNOWN_HOSTS_MAX = 64


class DisallowedHost(BadRequest):
    """400: the request's host is malformed or not one this site answers.

    ``host`` is the host as the request gave it.
    """

    def __init__(self, host: str, description: str) -> None:
        self.host = host
        super().__init__(description)


def split_host(host: str) -> tuple[str, str] | None:
    """Split ``host[:port]`` into the lower-case host and the port text.

    Returns None when ``host`` is not a valid ``Host`` value (see the module
    docstring); the port is ``""`` when there is none. A final dot of a
    domain name is kept: :func:`match_host` ignores it.
    """
    m = _HOST.fullmatch(host)
    if m is None:
        return None
    name, port = m.groups()
    if (port is not None and int(port) > 65535) or name == ".":
        return None
    return name.lower(), port or ""


def match_host(name: str, patterns: t.Collection[str]) -> bool:
    """Whether host ``name`` (lower-case, no port) matches one of ``patterns``.

    ``patterns`` come from :func:`parse_allowed_hosts`: ``*``, ``example.com``,
    ``*.example.com`` (subdomains only) and ``.example.com`` (the domain and
    its subdomains). An empty ``patterns`` matches nothing.
    """
    if name.endswith("."):
        name = name[:-1]
    for pattern in patterns:
        if pattern == "*" or pattern == name:
            return True
        if pattern[0] == "*":
            if name.endswith(pattern[1:]):
                return True
        elif pattern[0] == "." and (name.endswith(pattern) or name == pattern[1:]):
            return True
    return False


def request_host(environ: t.Mapping[str, t.Any]) -> str:
    """The host a WSGI request was sent to: ``Host``, else the server's address.

    As werkzeug's ``get_host`` and PEP 3333's URL reconstruction: the
    ``Host`` header when the request has one (even an empty one), otherwise
    ``SERVER_NAME`` (an IPv6 address in brackets) with ``SERVER_PORT`` unless
    that is the default port of the request's scheme.
    """
    host = environ.get("HTTP_HOST")
    if host is not None:
        return t.cast(str, host)
    name = str(environ.get("SERVER_NAME") or "")
    if ":" in name and name[:1] != "[":
        name = f"[{name}]"
    port = str(environ.get("SERVER_PORT") or "")
    scheme = environ.get("wsgi.url_scheme", "http")
    if not port or (scheme, port) in (("http", "80"), ("https", "443")):
        return name
    return f"{name}:{port}"


def external_host(environ: t.Mapping[str, t.Any]) -> str:
    """The host for absolute URLs to the site a WSGI request was sent to.

    :func:`request_host`, lower-case, without the default port of the
    request's scheme (``example.com`` for ``Example.COM:80`` over http, as
    werkzeug's ``get_host``). Raises :class:`DisallowedHost` for a host that
    is not valid: no URL is built from one.
    """
    host = request_host(environ)
    if split_host(host) is None:
        raise _disallowed(host)
    host = host.lower()
    default = _DEFAULT_PORT_SUFFIX.get(environ.get("wsgi.url_scheme", "http"))
    return host.removesuffix(default) if default else host


def parse_allowed_hosts(value: t.Any) -> tuple[str, ...]:
    """Check the ``allowed_hosts`` setting and return its patterns, normalised.

    ``value`` is a list of strings, or one string of comma-separated names
    (what ``DIGWEBS_ALLOWED_HOSTS=example.com,www.example.com`` gives). Names
    are lower-cased, a final dot dropped, internationalised names
    IDNA-encoded and bare IPv6 addresses bracketed. Raises
    :class:`~digwebs.config.ConfigError` naming the entry that is not a host
    name, a pattern or ``*``; an entry with a port is refused, since ports
    are not compared.
    """
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(
            f'allowed_hosts must be a list of host names, e.g. ["example.com"], not {value!r}'
        )
    return tuple(_parse_host_pattern(entry) for entry in value)


def _parse_host_pattern(entry: t.Any) -> str:
    if not isinstance(entry, str):
        raise ConfigError(f"allowed_hosts entries must be strings, not {entry!r}")
    text = entry.strip().lower()
    if text == "*":
        return text
    if text.startswith("[") and text.endswith("]"):
        address = text[1:-1]
    else:
        address = text
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    prefix = ""
    if text.startswith("*."):
        prefix, text = "*.", text[2:]
    elif text.startswith("."):
        prefix, text = ".", text[1:]
    if text.endswith("."):
        text = text[:-1]
    try:
        name = text.encode("idna").decode("ascii")
    except UnicodeError:
        name = text
    if _NAME.fullmatch(name) is None:
        hint = ""
        if ":" in text and _NAME.fullmatch(text.rpartition(":")[0]):
            hint = f"; ports are not compared, so write {prefix + text.rpartition(':')[0]!r}"
        elif "*" in text:
            hint = "; a pattern is '*.example.com' (subdomains) or '.example.com' (both)"
        raise ConfigError(
            f"allowed_hosts entry {entry!r} is not a host name, '*.name' pattern or '*'{hint}"
        )
    return prefix + name


def _disallowed(host: str) -> DisallowedHost:
    shown = host if len(host) <= 100 else host[:100] + "..."
    if not host:
        return DisallowedHost(host, "The request has an empty Host header; it must name the site.")
    parts = split_host(host)
    if parts is None:
        return DisallowedHost(
            host, f"The request's host {shown!r} is not a valid host name (Host header)."
        )
    name = parts[0].removesuffix(".")
    return DisallowedHost(
        host,
        f"The request's host {shown!r} is not one this site answers. If it should be, "
        f"add {name!r} to the allowed_hosts setting (config, or DIGWEBS_ALLOWED_HOSTS).",
    )


class HostCheck:
    """Checks a request's host before it is routed (see the module docstring).

    ``patterns`` come from :func:`parse_allowed_hosts`; empty allows any
    well-formed host. Calling the check with a WSGI environ returns None for
    a good host and the :class:`DisallowedHost` to answer otherwise.
    """

    def __init__(self, patterns: t.Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        # PERF: the Host values already found good, so that a site's own
        # few hosts cost one set lookup per request; bounded, so that
        # clients sending endless new names cannot grow it.
        self.known: set[str] = set()

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> HostCheck:
        """The check for ``config``'s ``allowed_hosts``."""
        return cls(parse_allowed_hosts(config.get("allowed_hosts") or []))

    def __call__(self, environ: t.Mapping[str, t.Any]) -> DisallowedHost | None:
        host = environ.get("HTTP_HOST")
        if host is not None and host in self.known:
            return None
        return self._check(environ, host)

    def _check(self, environ: t.Mapping[str, t.Any], header: str | None) -> DisallowedHost | None:
        host = request_host(environ) if header is None else header
        parts = split_host(host)
        if parts is None:
            # Without a Host header the name is the server's own (an HTTP/1.0
            # request): not the client's mistake unless it must be allowed.
            if header is None and not self.patterns:
                return None
            logger.info("Refused a request for the malformed host %r", host[:100])
            return _disallowed(host)
        if self.patterns and not match_host(parts[0], self.patterns):
            logger.info("Refused a request for the host %r (allowed_hosts)", host[:100])
            return _disallowed(host)
        if header is not None and len(self.known) < _KNOWN_HOSTS_MAX:
            self.known.add(header)
        return None


def host_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """Findings about ``allowed_hosts`` for ``digwebs check --deploy``, one line each.

    An empty list, or ``*``, lets the site answer any ``Host``: links built
    with ``url_for(..., _external=True)`` (password reset mails, redirects to
    absolute URLs) may then point at a host an attacker chose. Raises
    :class:`~digwebs.config.ConfigError` as :func:`parse_allowed_hosts`.
    """
    patterns = parse_allowed_hosts(config.get("allowed_hosts") or [])
    if not patterns:
        return [
            "allowed_hosts is empty, so any Host header is accepted: set it to the names "
            'this site serves, e.g. allowed_hosts = ["example.com", "www.example.com"] '
            "(or DIGWEBS_ALLOWED_HOSTS='[\"example.com\"]')."
        ]
    if "*" in patterns:
        return [
            "allowed_hosts contains '*', so any Host header is accepted: list the names "
            'this site serves instead, e.g. ["example.com", "*.example.com"].'
        ]
    return []
