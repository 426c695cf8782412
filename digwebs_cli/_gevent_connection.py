"""The gevent worker's client connection: ``--header-timeout`` for a begun request head.

:class:`Connection` stands in for the client socket: it notes when a
request head's first byte arrives, and it is the wait around reading each
head (gunicorn's ``timeout_ctx``), timed by a fresh :class:`HeadTimeout`.
A connection may stay idle ``--keepalive`` seconds; a head that has begun
has ``--header-timeout`` seconds from its first byte, then ``408``.
Imported by :mod:`digwebs_cli._gevent_support` only (after gevent's
monkey-patching, in a worker process).
"""

from __future__ import annotations

import socket
import time
import typing as t

import gevent

from digwebs_cli.workers import _TIMEOUT_408

#: how long a 408 waits for the client to close before the socket is closed
_LINGER = 0.5


class HeadTimeout(gevent.Timeout):  # type: ignore[misc]
    """The timer of one wait for a request head: ``--keepalive`` until the
    head's first byte, then ``--header-timeout`` from that byte.

    A fresh one per wait (a ``gevent.Timeout`` started again after
    ``cancel()`` fires as if never stopped). Only when it fires on a head that
    has begun is a second timer armed, for the rest of the header timeout: a
    head that arrives whole costs what gunicorn's wait costs.
    """

    def __init__(self, conn: Connection, seconds: float) -> None:
        super().__init__(seconds, False)
        self.conn = conn
        self.extra: t.Any = None

    def _on_expiration(self, prev_greenlet: t.Any, ex: t.Any) -> None:
        started = self.conn.first_byte
        if started and self.extra is None:
            remaining = started + self.conn.header_timeout - time.monotonic()
            if remaining > 0:
                self.extra = gevent.get_hub().loop.timer(remaining)
                self.extra.start(prev_greenlet.throw, ex)
                return
        prev_greenlet.throw(ex)

    def close(self) -> None:
        """Stop and free the timer (and the header timer, if one was armed)."""
        super().close()
        extra, self.extra = self.extra, None
        if extra is not None:
            extra.stop()
            extra.close()


class Connection:
    """A client socket of the gevent worker that notices when a request head begins.

    gunicorn's parser reads from it in place of the socket: ``recv`` notes
    the time of the first byte read while a head is awaited; everything else
    is the socket's own. It is also the wait around reading each head
    (gunicorn's ``timeout_ctx``): a connection may stay idle ``--keepalive``
    seconds; a head that has begun has ``--header-timeout`` seconds from its
    first byte, then it is answered ``408 Request Timeout`` and closed, as
    under the threads and sync workers. (gunicorn's own wait gives every head
    ``--keepalive`` seconds, then closes the connection without a word.)
    """

    __slots__ = (
        "_sock",
        "first_byte",
        "waiting",
        "keepalive",
        "header_timeout",
        "timeout",
        "sendall",
        "send",
    )

    def __init__(self, sock: t.Any, keepalive: float, header_timeout: float) -> None:
        self._sock = sock
        self.first_byte = 0.0
        self.waiting = False
        self.keepalive = keepalive
        self.header_timeout = header_timeout
        self.timeout: HeadTimeout | None = None
        # PERF: the socket's own methods for what every response calls
        self.sendall = sock.sendall
        self.send = sock.send

    def recv(self, size: int) -> bytes:
        """The socket's ``recv``; the first bytes of an awaited head start its clock."""
        data = t.cast(bytes, self._sock.recv(size))
        if self.waiting and data and not self.first_byte:
            self.first_byte = time.monotonic()
        return data

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._sock, name)

    def __enter__(self) -> gevent.Timeout:
        self.first_byte = 0.0
        self.waiting = True
        timeout = self.timeout = HeadTimeout(self, self.keepalive)
        timeout.start()
        return timeout

    def __exit__(self, _type: t.Any, value: t.Any, _tb: t.Any) -> bool:
        self.waiting = False
        timeout, self.timeout = self.timeout, None
        if timeout is None:
            return False
        timeout.close()
        if value is not timeout:
            return False
        if self.first_byte:
            self._answer_408()
        return True  # expired: gunicorn's loop ends the connection

    def _answer_408(self) -> None:
        sock = self._sock
        try:
            sock.sendall(_TIMEOUT_408)
            sock.shutdown(socket.SHUT_WR)
            # read what the client still sends until it closes (at most
            # _LINGER s), so that the answer is not cut by a reset
            deadline = time.monotonic() + _LINGER
            sock.settimeout(_LINGER)
            while time.monotonic() < deadline and sock.recv(16384):
                pass
        except OSError:
            pass
