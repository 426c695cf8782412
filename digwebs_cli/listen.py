"""The listening socket of ``digwebs serve``, bound in the master before gunicorn starts.

Separate from :mod:`digwebs_cli.gunicorn_app` so that ``serve --check`` and
``digwebs check`` can try the address without importing gunicorn.
"""

from __future__ import annotations

import errno
import socket
import typing as t

from digwebs_cli.errors import DigwebsCliError

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs_cli.serve_settings import Settings


def bind_socket(settings: Settings) -> socket.socket:
    """Bind and listen on host:port in the master, before gunicorn starts.

    A port in use (or any other failure) is a one-line error here, and
    gunicorn is handed the bound socket, so there is no race between this
    check and the real bind.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        infos = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise DigwebsCliError(
            f"cannot listen on {settings.label('host')} {settings.host!r}: {exc.strerror}"
        ) from None
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(settings.backlog)
    except OSError as exc:
        sock.close()
        raise DigwebsCliError(_bind_error(settings, where, exc)) from None
    settings.port = sock.getsockname()[1]
    return sock


def _bind_error(settings: Settings, where: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {settings.port} on {settings.host} is already in use: stop the other "
            "server, or pick another port with --port"
        )
    if exc.errno == errno.EACCES:
        return (
            f"not allowed to listen on {where}: ports below 1024 need root; "
            "use a higher --port (e.g. 8000) behind a proxy"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {settings.host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"
