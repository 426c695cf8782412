"""The workers of ``digwebs serve --workers threads`` and ``--workers sync``.

Named by import path in the gunicorn configuration
(``digwebs_cli.workers.DigwebsThreadWorker``,
``digwebs_cli.workers.DigwebsSyncWorker``).

:class:`DigwebsSyncWorker` is gunicorn's sync worker whose request head must
arrive within ``--header-timeout``, and which at SIGTERM serves (or answers
503) the connections already queued on the listening socket instead of
leaving them to be reset (see its docstring).

:class:`DigwebsThreadWorker` is gunicorn's gthread worker with two
differences, both in the main (selector) thread:

* **Request heads are read off the thread pool.** gunicorn hands a new (or
  kept-alive, readable) connection to a pool thread, which then blocks
  reading the request line and headers: ten clients sending their headers a
  byte a second hold ten threads, and with ``--threads 8`` nobody else is
  served. Here the main loop reads every connection's bytes without blocking
  and buffers them; only once a whole request head has arrived (a blank line
  ends it) is the connection queued for a thread, which parses the buffered
  bytes with gunicorn's own parser, so gunicorn's request line and header
  limits (and their 4xx answers) apply unchanged. A head larger than
  :data:`HEAD_HANDOFF_BYTES` is handed over early, for the parser to refuse.
  A connection whose head has not arrived within the header timeout
  (``--header-timeout``, 10 s by default) is answered ``408 Request Timeout``
  if it sent anything, and closed. Kept-alive idle connections close after
  ``--keepalive`` seconds, as before.

* **Nothing accepted is lost at SIGTERM.** gunicorn queues every accepted
  connection in the pool's unbounded queue; when the grace period ends
  before the queue does, the rest are reset. Here the worker keeps its own
  queue of complete heads and starts a request only on a free thread. On
  SIGTERM it first accepts what the kernel has already queued on the
  listening socket (clients that connected before the signal), then stops
  listening. Requests are started while at least ``min(2 s, grace / 2)`` of
  the grace period remain; after that, every request still waiting is
  answered ``503 Service Unavailable`` with ``Retry-After`` and
  ``Connection: close``, so each client gets an answer: its response, or a
  503 that says the request was not processed and may be retried.

TLS and HTTP/2 (which ``digwebs serve`` does not configure) keep gunicorn's
own path: a TLS handshake or an HTTP/2 preface must not be read as HTTP/1.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
import typing as t
from collections import deque
from functools import partial

from gunicorn import http, util
from gunicorn.workers.gthread import TConn, ThreadWorker
from gunicorn.workers.sync import SyncWorker

#: a head that has not ended after this many bytes is handed to a thread, whose
#: parser applies gunicorn's limits (limit_request_line, limit_request_fields,
#: limit_request_field_size) and answers 4xx; bounds the buffer of each connection
HEAD_HANDOFF_BYTES = 64 * 1024
#: the default of --header-timeout: seconds a client has to send its request head
DEFAULT_HEADER_TIMEOUT = 10.0
_READ_SIZE = 16 * 1024
_END_MARKS = (b"\n\r\n", b"\n\n")

_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 47\r\nConnection: close\r\n\r\n"
    b"The request headers did not arrive in time.\r\n\r\n"
)
_STOPPING_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 1\r\nContent-Length: 51\r\nConnection: close\r\n\r\n"
    b"The server is restarting: this request was not run."
)


def _recv_ready(sock: t.Any) -> bytes | None:
    """What a non-blocking socket has: ``None`` if nothing yet, ``b""`` once closed or reset."""
    try:
        return t.cast(bytes, sock.recv(_READ_SIZE))
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class _Head:
    """The bytes of one connection's request head, as they arrive."""

    __slots__ = ("buf", "deadline")

    def __init__(self, deadline: float) -> None:
        self.buf = bytearray()
        self.deadline = deadline


class DigwebsThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, with request heads read off the thread pool.

    Heads are read in the selector loop, so slow clients hold no thread;
    at SIGTERM every accepted request is finished or answered 503.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = float(
            getattr(self.app, "digwebs_header_timeout", DEFAULT_HEADER_TIMEOUT)
            or DEFAULT_HEADER_TIMEOUT
        )
        # connection -> its head so far (read in the main thread)
        self._heads: dict[t.Any, _Head] = {}
        # connections with a whole head, waiting for a free thread (FIFO)
        self._ready: deque[t.Any] = deque()
        self._busy = 0
        # the monotonic time after which no request is started (set at SIGTERM)
        self._cutoff: float | None = None
        # sockets answered 408/503: written, half-closed, read until the client
        # closes (at most 2 s), so that the answer is not cut by a reset
        self._lingering: dict[t.Any, float] = {}
        h2c = getattr(self.cfg, "http2_cleartext", "off")
        self._own_path = not self.cfg.is_ssl and h2c in (None, "off")

    # -- accepting -----------------------------------------------------------

    def accept(self, listener: t.Any) -> None:
        """Accept a connection and start reading its head in the selector loop (no thread yet)."""
        if not self._own_path:
            return super().accept(listener)  # type: ignore[no-any-return]
        try:
            client, addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return None
        self._adopt(client, addr, listener.getsockname())
        return None

    def _adopt(self, client: socket.socket, addr: t.Any, server: t.Any) -> None:
        self.nr_conns += 1
        conn = TConn(self.cfg, client, addr, server)  # non-blocking from here
        self._start_head(conn)

    def _start_head(self, conn: t.Any) -> None:
        self._heads[conn] = _Head(time.monotonic() + self.header_timeout)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_bytes, conn))
        # a client usually sends its request with the handshake: read it now
        self._on_head_bytes(conn, conn.sock)

    def on_client_socket_readable(self, conn: t.Any, client: t.Any) -> None:
        """A kept-alive connection sent bytes: read its next head here, not in a thread."""
        if not self._own_path:
            return super().on_client_socket_readable(conn, client)  # type: ignore[no-any-return]
        # a kept-alive connection's next request: its head is read here too
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_head(conn)
        return None

    def _on_head_bytes(self, conn: t.Any, _sock: t.Any) -> None:
        head = self._heads.get(conn)
        if head is None:
            return
        data = _recv_ready(conn.sock)
        if data is None:
            return
        if not data:
            # the client hung up before a whole head: nothing is owed
            self._drop_head(conn)
            self._close(conn)
            return
        start = max(len(head.buf) - 2, 0)
        head.buf += data
        if len(head.buf) < HEAD_HANDOFF_BYTES and not any(
            head.buf.find(mark, start) >= 0 for mark in _END_MARKS
        ):
            return
        self._drop_head(conn)
        conn.digwebs_head = bytes(head.buf)
        self._ready.append(conn)
        self._dispatch()

    def _drop_head(self, conn: t.Any) -> None:
        self._heads.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn: t.Any, answer: bytes = b"") -> None:
        sock = conn.sock
        if answer:
            try:
                sock.send(answer)  # small: fits the socket buffer, never blocks
                sock.shutdown(socket.SHUT_WR)
                self._lingering[sock] = time.monotonic() + 2.0
                self.poller.register(sock, selectors.EVENT_READ, self._on_linger)
                return
            except OSError:
                pass
        self.nr_conns -= 1
        try:
            sock.close()
        except OSError:
            pass

    def _on_linger(self, sock: t.Any) -> None:
        data = _recv_ready(sock)
        if data is None:
            return
        if not data:
            self._end_linger(sock)

    def _end_linger(self, sock: t.Any) -> None:
        self._lingering.pop(sock, None)
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        try:
            sock.close()
        except OSError:
            pass

    def murder_pending(self) -> None:
        """Drop heads past ``--header-timeout`` (408 once a request began) and end lingers."""
        super().murder_pending()
        now = time.monotonic()
        for conn, head in list(self._heads.items()):
            if head.deadline <= now:
                self._drop_head(conn)
                # a connection that sent nothing is just closed; one that
                # started a request is told why it is dropped
                self._close(conn, _TIMEOUT_408 if head.buf else b"")
        for sock, deadline in list(self._lingering.items()):
            if deadline <= now:
                self._end_linger(sock)

    # -- the thread pool -----------------------------------------------------

    def _dispatch(self) -> None:
        while self._ready and self._busy < self.cfg.threads:
            if self._cutoff is not None and time.monotonic() >= self._cutoff:
                break
            self._busy += 1
            self.enqueue_req(self._ready.popleft())
        if self._cutoff is not None and time.monotonic() >= self._cutoff:
            while self._ready:
                self._close(self._ready.popleft(), _STOPPING_503)

    def finish_request(self, conn: t.Any, fs: t.Any) -> None:
        """A thread is free again: hand it the next connection with a whole head."""
        if self._own_path:
            self._busy -= 1
        super().finish_request(conn, fs)
        if self._own_path:
            self._dispatch()

    def enqueue_req(self, conn: t.Any) -> None:
        """Queue a connection for a thread; gunicorn's own re-queues go through the FIFO too."""
        if self._own_path and getattr(conn, "digwebs_head", None) is None:
            # gunicorn's own re-queue (bytes read ahead into the next request):
            # still through the bounded queue
            conn.digwebs_head = b""
            self._ready.append(conn)
            self._dispatch()
            return
        super().enqueue_req(conn)

    def handle(self, conn: t.Any) -> t.Any:
        """Runs in a pool thread: parse the buffered head with gunicorn's parser."""
        head = getattr(conn, "digwebs_head", None)
        conn.digwebs_head = None
        if head is not None:
            conn.data_ready = True
            conn.sock.setblocking(True)
            conn.init()
            if head:
                conn.parser.unreader.unread(head)
        return super().handle(conn)

    # -- stopping ------------------------------------------------------------

    def run(self) -> None:
        """gthread's loop, then at SIGTERM: take the queued clients, finish or answer 503."""
        if not self._own_path:
            return super().run()  # type: ignore[no-any-return]
        self.poller.register(
            self.method_queue.fileno(), selectors.EVENT_READ, self.method_queue.run_callbacks
        )
        self.set_accept_enabled(True)
        while self.alive:
            self.notify()
            can_accept = self.nr_conns < self.worker_connections
            if can_accept != self._accepting:
                self.set_accept_enabled(can_accept)
            self.wait_for_and_dispatch_events(timeout=1.0)
            if not self.is_parent_alive():
                break
            self.murder_keepalived()
            self.murder_pending()

        # Stopping. The clients the kernel has queued on the listening socket
        # connected before the signal: take them, then stop listening.
        self.set_accept_enabled(False)
        self._drain_backlog()
        for listener in self.sockets:
            try:
                listener.close()
            except OSError:
                pass
        now = time.monotonic()
        grace = float(self.cfg.graceful_timeout)
        deadline = now + grace
        self._cutoff = deadline - min(2.0, grace / 2)
        linger = now + 2.0  # kept-alive connections: a request may be on its way
        for conn in self.keepalived_conns:
            conn.timeout = min(conn.timeout, linger)
        while self.nr_conns > 0 and time.monotonic() < deadline:
            self.notify()
            self._dispatch()
            wait = min(1.0, max(self._cutoff - time.monotonic(), 0.05))
            self.wait_for_and_dispatch_events(timeout=wait)
            self.murder_keepalived()
            self.murder_pending()
        self.murder_keepalived(force=True)
        self.tpool.shutdown(wait=False)
        self.poller.close()
        self.method_queue.close()
        return None

    def _drain_backlog(self) -> None:
        for listener in self.sockets:
            for _ in range(max(self.worker_connections - self.nr_conns, 0)):
                try:
                    listener.setblocking(False)
                    client, addr = listener.accept()
                except OSError:
                    break
                self._adopt(client, addr, listener.getsockname())


# -- --workers sync -----------------------------------------------------------------

#: how long a 408 answered by the sync worker waits for the client to close (its
#: unread bytes are drained, so the answer is not cut by a reset); short because
#: the process serves nobody else meanwhile
SYNC_LINGER_408 = 0.5
# the longest single wait for head bytes: the worker tells the arbiter it is
# alive between waits, so a header timeout above --timeout does not get it killed
_SYNC_WAIT_SLICE = 1.0


class DigwebsSyncWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker with an overall deadline on each request head.

    gunicorn's sync worker blocks reading the request line and headers for as
    long as the client keeps sending: one client trickling its head a byte at a
    time holds the process's only request slot. Here the head is read first,
    with a deadline of ``--header-timeout`` seconds (10 by default) from the
    accept: a client whose head is not complete by then is answered
    ``408 Request Timeout`` (or just closed if it sent nothing) and the worker
    goes on to the next connection. A complete head (a blank line), or one
    larger than :data:`HEAD_HANDOFF_BYTES`, is fed to gunicorn's own parser, so
    its request line and header limits and their 4xx answers apply unchanged;
    the request body is then read as gunicorn does. Keep-alive stays off, as in
    gunicorn's sync worker (every response closes its connection).

    TLS, and protocols other than HTTP/1 (uwsgi), keep gunicorn's own path.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = float(
            getattr(self.app, "digwebs_header_timeout", DEFAULT_HEADER_TIMEOUT)
            or DEFAULT_HEADER_TIMEOUT
        )
        self._own_path = not self.cfg.is_ssl and getattr(self.cfg, "protocol", "http") == "http"

    def run(self) -> None:
        """gunicorn's loop; then, at SIGTERM, the connections already queued are not dropped."""
        super().run()
        if self._own_path and self.is_parent_alive():
            self._drain_backlog()

    def _drain_backlog(self) -> None:
        """Serve or refuse what the kernel queued on the listening socket before the signal.

        gunicorn's sync worker stops at SIGTERM after its request in flight;
        the clients queued behind it (connected, never accepted) are reset when
        the socket closes. Here they are taken one by one: served while at
        least ``min(2 s, grace / 2)`` of the grace period remains, then
        answered ``503`` with ``Retry-After`` and ``Connection: close``, as the
        threads worker does. New connections are not waited for.
        """
        grace = float(self.cfg.graceful_timeout)
        cutoff = time.monotonic() + grace - min(2.0, grace / 2)
        for listener in self.sockets:
            try:
                listener.setblocking(False)
            except OSError:
                pass
        taken = True
        while taken:
            taken = False
            for listener in self.sockets:
                try:
                    client, addr = listener.accept()
                except OSError:  # nothing queued (EAGAIN), or the socket is gone
                    continue
                taken = True
                self.notify()
                client.setblocking(True)
                util.close_on_exec(client)
                if time.monotonic() < cutoff:
                    self.handle(listener, client, addr)
                    continue
                try:
                    client.sendall(_STOPPING_503)
                except OSError:
                    pass
                util.close_graceful(client, timeout=SYNC_LINGER_408)

    def _read_head(self, client: socket.socket) -> tuple[bytes, bool]:
        """The bytes of the request head, and whether they are all there (or
        enough for the parser to refuse); ``(b"", True)`` if the client hung up."""
        deadline = time.monotonic() + self.header_timeout
        buf = bytearray()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return bytes(buf), False
                client.settimeout(min(remaining, _SYNC_WAIT_SLICE))
                try:
                    data = client.recv(_READ_SIZE)
                except TimeoutError:
                    self.notify()
                    continue
                if not data:
                    # hung up before a whole head: nothing is owed
                    return b"", True
                start = max(len(buf) - 2, 0)
                buf += data
                if len(buf) >= HEAD_HANDOFF_BYTES or any(
                    buf.find(mark, start) >= 0 for mark in _END_MARKS
                ):
                    return bytes(buf), True
        finally:
            try:
                client.settimeout(None)  # blocking again, as gunicorn left it
            except OSError:
                pass

    def handle(self, listener: t.Any, client: socket.socket, addr: t.Any) -> None:
        """Read the head within the deadline, then parse and serve it as gunicorn does."""
        if not self._own_path:
            return super().handle(listener, client, addr)  # type: ignore[no-any-return]
        try:
            head, complete = self._read_head(client)
        except OSError:
            head, complete = b"", True  # reset while sending its head
        if not complete:
            self.log.debug("Request head not complete after %ss: closing", self.header_timeout)
            if head:
                try:
                    client.sendall(_TIMEOUT_408)  # small: fits the socket buffer
                except OSError:
                    pass
            util.close_graceful(client, timeout=SYNC_LINGER_408)
            return None
        if not head:
            client.close()
            return None
        # gunicorn's SyncWorker.handle from here, with the parser fed the bytes
        # read above; its exception handling is kept case for case
        req = None
        try:
            parser = http.get_parser(self.cfg, client, addr)
            parser.unreader.unread(head)
            req = next(parser)
            self.handle_request(listener, req, client, addr)
        except http.errors.NoMoreData as exc:
            self.log.debug("Ignored premature client disconnection. %s", exc)
        except StopIteration as exc:
            self.log.debug("Closing connection. %s", exc)
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
            else:
                self.log.debug("Ignoring %s", errno.errorcode.get(exc.errno or 0, exc))
        except BaseException as exc:
            self.handle_error(req, client, addr, exc)
        finally:
            util.close_graceful(client)
        return None
