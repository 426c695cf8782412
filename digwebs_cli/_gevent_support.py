"""The gevent worker of ``digwebs serve --workers gevent``.

Named by import path in the gunicorn configuration
(``digwebs_cli._gevent_support.DigwebsGeventWorker``) and never imported by
the ``digwebs serve`` modules themselves. gunicorn's worker monkey-patches the
standard library when the worker process starts and only then imports the app.

Three things differ from gunicorn's own ``GeventWorker``:

* After a request the greenlet yields to the event loop (``gevent.sleep(0)``)
  if the loop has not gone round since the connection's previous request.
  gunicorn's keep-alive loop otherwise serves a connection whose next request
  has already arrived without ever yielding, so under load a few busy
  connections starve the others (a p99 of 100 ms or more for a plaintext
  route whose median is a few ms). So no connection is served twice in a
  row while others wait, and a handler that waits anyway (I/O, a database,
  a sleep) costs no extra loop turn: measured with benchmarks/server.py,
  a yield after every request cost ~10% of throughput at 5,000 connections
  with a 1 s handler, this one nothing measurable.
* ``--warn-blocking MS`` turns on gevent's monitor thread: a greenlet that
  keeps the loop for more than MS milliseconds is reported as a warning with
  its stack and the request it was serving. That is how an unpatched C
  library (a database driver, a compression library) that quietly serialises
  the whole server shows up (:mod:`digwebs_cli._gevent_blocking`).
* ``--header-timeout`` applies
  (:class:`~digwebs_cli._gevent_connection.Connection`): a connection may be
  idle ``--keepalive`` seconds, but a request head that has begun has
  ``--header-timeout`` seconds from its first byte, then ``408``. gunicorn's
  worker gives every head ``--keepalive`` seconds (2 by default) and then
  closes the connection without an answer, so a client on a slow link lost
  its request.

And two things make each request cheaper than under the stock worker,
without changing what is parsed, answered or logged (gunicorn's parser, its
limits and its environ stay in charge):

* The response's status line and headers go out in the same ``send`` as the
  first body bytes (:class:`CoalescingResponse`). gunicorn sends them
  separately: two system calls, and over loopback or a LAN each one runs the
  TCP stack, for every plaintext or JSON answer.
* The worker reads its settings from a snapshot (:class:`FrozenConfig`)
  instead of gunicorn's ``Config.__getattr__``, which looks each one up again
  (about twenty times a request).

Why not gunicorn's ``GeventPyWSGIWorker`` (gevent's own pywsgi server, about
40% cheaper per plaintext request here): its HTTP parser accepts what
gunicorn's refuses. Under it 53 of the 234 cases of
``tests/e2e/test_hostile.py`` failed (request smuggling shapes such as
``Transfer-Encoding`` with ``Content-Length``, bare LF, obs-fold and bad header
names; request line, header and body limits; HTTP/0.9), and it ignores
``max_requests``, has no keep-alive idle timeout, no ``wsgi.file_wrapper``
and counts header bytes as body bytes in the access log. Making it as strict
would mean writing a second HTTP parser; digwebs keeps gunicorn's.
"""

from __future__ import annotations

import socket
import typing as t
import warnings
from datetime import datetime

import gevent
from gevent import getcurrent
from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from digwebs_cli._gevent_blocking import SERVING, report_blocking
from digwebs_cli._gevent_connection import Connection
from digwebs_cli.workers import DEFAULT_HEADER_TIMEOUT


class CoalescingResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's HTTP/1 response that sends its header block with the first body bytes.

    ``send_headers`` only renders the header block; the next write of body
    bytes (or :meth:`close`, for an empty body) sends both in one
    ``sendall``. Everything else, framing included, is gunicorn's: the bytes
    on the wire are the same, in fewer system calls. A body sent with
    ``sendfile`` (``wsgi.file_wrapper``) gets its headers first, as before.
    """

    headers_sent: bool  # gunicorn's (untyped) attribute
    _pending = b""
    _direct = False

    def send_headers(self) -> None:
        """Render the status line and headers; they leave with the next body bytes."""
        if self.headers_sent:
            return
        if self._direct:
            super().send_headers()
            return
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        lines.append("\r\n")
        self._pending = "".join(lines).encode("latin-1")
        self.headers_sent = True

    def _emit_body(self, data: bytes) -> None:
        pending = self._pending
        if not pending:
            util.write(self.sock, data, self.chunked)
            return
        self._pending = b""
        if self.chunked:
            self.sock.sendall(b"".join((pending, b"%X\r\n" % len(data), data, b"\r\n")))
        else:
            self.sock.sendall(pending + data)

    def _flush_headers(self) -> None:
        pending = self._pending
        if pending:
            self._pending = b""
            self.sock.sendall(pending)

    def sendfile(self, respiter: t.Any) -> bool:
        """gunicorn's ``sendfile`` (``False`` if the file cannot be sent that way).

        It renders the headers and then writes the file straight to the
        socket, so from here on headers are sent as soon as they are rendered.
        """
        self._direct = True
        self._flush_headers()
        return bool(super().sendfile(respiter))

    def close(self) -> None:
        """End the response: headers still pending, and the last chunk, in one send."""
        if not self.headers_sent:
            self.send_headers()
        pending, self._pending = self._pending, b""
        if self.chunked:
            self.sock.sendall(pending + b"0\r\n\r\n")
        elif pending:
            self.sock.sendall(pending)


class FrozenConfig:
    """A read-only snapshot of a gunicorn ``Config`` for one worker process.

    Every setting is a plain attribute (gunicorn's ``Config.__getattr__``
    validates and looks it up on each read); ``is_ssl`` and ``sendfile`` are
    computed once. Anything else (methods such as
    ``forwarded_allow_networks``, the other properties) is read from the
    real configuration. Taken when the worker starts serving: a worker's
    settings do not change after that.
    """

    def __init__(self, cfg: t.Any) -> None:
        self._cfg = cfg
        # a name that is also a property of Config (worker_class) reads the
        # property there: leave those to __getattr__
        kind = type(cfg)
        shadowed = {name for name in dir(kind) if isinstance(getattr(kind, name), property)}
        for name, setting in cfg.settings.items():
            if name not in shadowed:
                self.__dict__[name] = setting.get()
        self.is_ssl = cfg.is_ssl
        self.sendfile = cfg.sendfile

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._cfg, name)


class DigwebsGeventWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, fair under keep-alive load, with a blocking
    monitor, one ``send`` per small response and fewer lookups per request."""

    cfg: t.Any  # gunicorn's (untyped) attributes
    alive: bool
    _monitoring = False

    def init_process(self) -> None:
        warn_ms = float(getattr(self.app, "digwebs_warn_blocking_ms", 0) or 0)
        if warn_ms > 0:
            # must be configured before the hub starts running (it starts the
            # monitor thread then); gunicorn's init_process creates it
            gevent.config.monitor_thread = True
            gevent.config.max_blocking_time = warn_ms / 1000.0
            gevent.config.print_blocking_reports = False
            from gevent import events

            events.subscribers.append(report_blocking)
            # the memory monitor, which needs psutil, is not what was asked for
            warnings.filterwarnings("ignore", message="Unable to monitor memory usage")
            self._monitoring = True
        super().init_process()

    def run(self) -> None:
        self._loop = gevent.get_hub().loop
        # the app is loaded and every hook has run: the settings are final
        self.cfg = FrozenConfig(self.cfg)
        self._keepalive = self.cfg.keepalive
        self._header_timeout = float(
            getattr(self.app, "digwebs_header_timeout", DEFAULT_HEADER_TIMEOUT)
            or DEFAULT_HEADER_TIMEOUT
        )
        h2c = getattr(self.cfg, "http2_cleartext", "off")
        # TLS and HTTP/2 need gunicorn's socket itself (isinstance checks, ALPN)
        self._own_path = not self.cfg.is_ssl and h2c in (None, "off")
        super().run()

    _loop: t.Any = None
    _keepalive: float = 2.0
    _header_timeout: float = DEFAULT_HEADER_TIMEOUT
    _own_path = False

    def handle(self, listener: t.Any, client: t.Any, addr: t.Any) -> None:
        """Serve one connection as gunicorn does, its socket in a :class:`Connection`."""
        if not self._own_path:
            return super().handle(listener, client, addr)  # type: ignore[no-any-return]
        conn = Connection(client, self._keepalive, self._header_timeout)
        try:
            getcurrent()._digwebs_conn = conn
        except AttributeError:  # a greenlet without a __dict__: gunicorn's own wait
            return super().handle(listener, client, addr)  # type: ignore[no-any-return]
        client.setblocking(1)  # all GeventWorker.handle adds to AsyncWorker's
        return AsyncWorker.handle(self, listener, conn, addr)  # type: ignore[no-any-return]

    def timeout_ctx(self) -> t.Any:
        """The wait for a connection's next request head: its :class:`Connection`.

        TLS and HTTP/2 connections keep gunicorn's wait (``--keepalive`` for
        the whole head). Every wait has a fresh timer: a ``gevent.Timeout``
        started again after ``cancel()`` can fire as if it had never been
        stopped (measured: a 1 s timer restarted every 0.1 s fires after 1 s),
        which closed busy keep-alive connections after ``keepalive`` seconds.
        """
        conn = getattr(getcurrent(), "_digwebs_conn", None)
        if conn is not None:
            return conn
        return gevent.Timeout(self._keepalive, False)

    def handle_request(self, listener_name: t.Any, req: t.Any, sock: t.Any, addr: t.Any) -> t.Any:
        """Serve one parsed request: gunicorn's ``AsyncWorker.handle_request`` semantics
        (hooks, ``max_requests``, keep-alive, access log, ``wsgi.file_wrapper``,
        errors) with a :class:`CoalescingResponse`; then let other connections run."""
        current = getcurrent()
        key = 0
        if self._monitoring:
            key = id(current)
            SERVING[key] = f"{req.method} {req.path}"
        try:
            return self._serve(listener_name, req, sock, addr)
        except (gevent.GreenletExit, SystemExit):
            return None  # as gunicorn's gevent worker: the greenlet is being killed
        finally:
            if key:
                SERVING.pop(key, None)
            # Let every other connection run before this one's next request,
            # unless the event loop has gone round since this connection's
            # previous request anyway (its handler or its read waited).
            iteration = getattr(self._loop, "iteration", None)
            if iteration is None or getattr(current, "_digwebs_iteration", -1) == iteration:
                gevent.sleep(0)
                iteration = getattr(self._loop, "iteration", None)
            try:
                current._digwebs_iteration = iteration
            except AttributeError:  # a greenlet without a __dict__: yield every time
                pass

    def _serve(self, listener_name: t.Any, req: t.Any, sock: t.Any, addr: t.Any) -> bool:
        cfg = self.cfg
        started = datetime.now()
        environ: dict[str, t.Any] = {}
        resp = None
        try:
            cfg.pre_request(self, req)
            resp, environ = wsgi.create(
                req, sock, addr, listener_name, cfg, response_class=CoalescingResponse
            )
            environ["wsgi.multithread"] = True
            self.nr += 1
            if self.nr >= self.max_requests and self.alive:
                # max_requests (+ jitter): this is the last request of the worker
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.alive or not cfg.keepalive:
                resp.force_close()
            body = self.wsgi(environ, resp.start_response)
            try:
                if isinstance(body, environ["wsgi.file_wrapper"]):
                    resp.write_file(body)
                else:
                    for item in body:
                        resp.write(item)
                resp.close()
            finally:
                self.log.access(resp, req, environ, datetime.now() - started)
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            if resp.should_close():
                raise StopIteration()
        except StopIteration:
            raise
        except OSError:
            raise  # the connection's loop decides (a reset is not an error)
        except (Exception, SystemExit):
            if resp is not None and resp.headers_sent:
                # part of the answer may be on the wire: a 500 now would
                # corrupt it; log and drop the connection, as gunicorn does
                self.log.exception("Error handling request")
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
                raise StopIteration() from None
            raise
        finally:
            try:
                cfg.post_request(self, req, environ, resp)
            except Exception:  # noqa: BLE001 - a hook must not break the connection
                self.log.exception("Exception in post_request hook")
        return True
