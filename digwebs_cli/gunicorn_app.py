"""Running ``digwebs serve``: the gunicorn application, arbiter and logger.

Imported by ``digwebs serve`` only (``digwebs --help``, ``check`` and the
other commands never import gunicorn). The listening socket is bound in the
master before gunicorn starts (:mod:`digwebs_cli.listen`); gunicorn's own
sync, gthread or (subclassed) gevent workers then serve it, run
programmatically through :class:`DigwebsApplication`, a
``gunicorn.app.base.BaseApplication``. The app is imported in every worker,
never in the master; the first worker to load it prints the start-up line.
"""

from __future__ import annotations

import functools
import io
import mmap
import os
import re
import signal
import socket
import sys
import traceback
import typing as t
import warnings
from pathlib import Path

from gunicorn import glogging
from gunicorn import sock as gsock
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from digwebs_cli.blocking_drivers import blocking_driver_problems
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.listen import bind_socket as bind_socket  # where it was
from digwebs_cli.logging_setup import ACCESS_FORMAT, LogFormatter, install_app_logging, use_color
from digwebs_cli.serve_settings import Settings, gunicorn_options

# --------------------------------------------------------------------------
# Hooks run by gunicorn in each worker

# The worker process's gunicorn Worker object (set by the post_fork hook).
_WORKER: t.Any = None


def _post_fork(server: t.Any, worker: t.Any) -> None:
    global _WORKER
    _WORKER = worker


def _post_worker_init(worker: t.Any) -> None:
    # the app's `digwebs` logger in the same format as the server's lines
    # (unless the app set up logging itself); after the app was imported
    install_app_logging(sys.stderr)
    # Ctrl-C in a terminal signals the whole process group, workers included:
    # make SIGINT as graceful as SIGTERM (a second Ctrl-C makes the master quit
    # at once). gunicorn's default is to drop requests in flight.
    signal.signal(signal.SIGINT, worker.handle_exit)


class DigwebsLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger in digwebs' format, without the start-up chatter.

    Server and access lines are ``TIMESTAMP LEVEL SOURCE MESSAGE``
    (:mod:`digwebs_cli.logging_setup`), coloured on a terminal only. An
    access line gives the body bytes really sent, files sent with
    ``sendfile`` included. digwebs prints its own start-up line.
    """

    _KEEP_INFO = ("Worker reloading", "Autorestarting worker")
    _DROP_WARNING = ("Reloader is on",)

    def setup(self, cfg: t.Any) -> None:
        """Set gunicorn's handlers up, then give them digwebs' format."""
        super().setup(cfg)
        for log, source in ((self.error_log, "server"), (self.access_log, "access")):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    stream = getattr(handler, "stream", None)
                    handler.setFormatter(LogFormatter(source, color=use_color(stream)))

    def access(self, resp: t.Any, req: t.Any, environ: t.Any, request_time: t.Any) -> None:
        """Log one request: address, request line, status, body bytes sent, milliseconds."""
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            sent = getattr(resp, "sent", None)
            method = environ.get("REQUEST_METHOD", "-")
            target = environ.get("RAW_URI", environ.get("PATH_INFO", "-"))
            request_line = f"{method} {target} {environ.get('SERVER_PROTOCOL', '-')}"
            millis = request_time.total_seconds() * 1000.0
            self.access_log.info(
                ACCESS_FORMAT,
                _printable(str(environ.get("REMOTE_ADDR", "-"))),
                _printable(request_line),
                status,
                "-" if sent is None else sent,
                f"{millis:.1f}",
                extra={"status_code": status},
            )
        except Exception:  # noqa: BLE001 - a log line must never break a request
            self.error(traceback.format_exc())

    def info(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
        """Log only the reload and restart notices of gunicorn's info lines."""
        if isinstance(msg, str) and msg.startswith(self._KEEP_INFO):
            self.error_log.info(msg, *args, **kwargs)

    def warning(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
        """Log a warning, except gunicorn's note that the reloader is on."""
        if isinstance(msg, str) and msg.startswith(self._DROP_WARNING):
            return
        self.error_log.warning(msg, *args, **kwargs)

    def error(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
        """Log an error, except a worker's app-load failure, which the master reports."""
        # a worker that could not import the app: the master reports it as
        # one line (DigwebsArbiter.halt); say nothing twice
        if (
            isinstance(msg, str)
            and msg.startswith("Worker (pid:")
            and args
            and args[-1] == Arbiter.APP_LOAD_ERROR
        ):
            return
        self.error_log.error(msg, *args, **kwargs)


class DigwebsArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter on digwebs' socket, graceful on Ctrl-C."""

    def start(self) -> None:
        """Serve the socket ``digwebs serve`` bound, then start as gunicorn does."""
        app = self.app
        if app.listener is not None and not self.LISTENERS:  # type: ignore[has-type]
            fd = os.dup(app.listener.fileno())
            name = app.listener.getsockname()
            sock_type = gsock._sock_type(name)
            self.LISTENERS = [sock_type(name, self.cfg, self.log, fd=fd)]
            app.listener.close()
            app.listener = None
        super().start()

    def _stopping(self, why: str) -> None:
        grace = self.cfg.graceful_timeout
        _say(
            f"digwebs: {why}: finishing requests in flight (up to {grace:g} s); "
            "press Ctrl-C again to stop at once"
        )

    def handle_term(self) -> None:
        """Stop gracefully on SIGTERM, saying so."""
        self._stopping("SIGTERM")
        raise StopIteration

    def handle_int(self) -> None:
        """Stop gracefully on the first Ctrl-C (gunicorn's default stops at once)."""
        self._stopping("Ctrl-C")
        raise StopIteration

    def stop(self, graceful: bool = True) -> None:
        """Stop the workers, even when another one fails to boot meanwhile."""
        # While stopping, reaping a second worker that failed the same way
        # raises HaltServer again (gunicorn's reap_workers): keep stopping.
        for _ in range(len(self.WORKERS) + 3):
            try:
                super().stop(graceful)
                return
            except HaltServer:
                continue

    def halt(self, reason: str | None = None, exit_status: int = 0) -> None:
        """Stop; a worker's app-load failure becomes that one-line error."""
        if exit_status == self.APP_LOAD_ERROR:
            message = self.app.read_load_error()
            if message:
                if hasattr(self, "_stop_control_server"):
                    self._stop_control_server()
                self.stop()
                raise DigwebsCliError(message)
        super().halt(reason, exit_status)


class DigwebsApplication(BaseApplication):  # type: ignore[misc]
    """Runs the project's app under gunicorn; the app is imported in each worker."""

    def __init__(self, settings: Settings, listener: socket.socket | None) -> None:
        _count_sendfile_bytes()
        self.settings = settings
        self.listener = listener
        self.digwebs_warn_blocking_ms = settings.warn_blocking
        self.digwebs_header_timeout = settings.header_timeout
        # a worker that fails to import the app writes why here (the master reads it)
        self._error_r, self._error_w = os.pipe()
        os.set_blocking(self._error_r, False)
        # one token: the first worker to load the app prints the start line
        self._token_r, self._token_w = os.pipe()
        os.set_blocking(self._token_r, False)
        os.write(self._token_w, b"1")
        # set to 1 once any worker has loaded the app (shared across forks)
        self._booted = mmap.mmap(-1, 1)
        super().__init__(usage=None, prog="digwebs serve")

    def load_config(self) -> None:
        """Give gunicorn the settings (:func:`~digwebs_cli.serve_settings.gunicorn_options`)."""
        options = gunicorn_options(self.settings)
        options.update(
            logger_class=DigwebsLogger,
            post_fork=_post_fork,
            post_worker_init=_post_worker_init,
        )
        with warnings.catch_warnings():
            # a reload pattern that matches nothing yet (no .env, no
            # views folder) is on purpose: gunicorn expands it on every
            # scan, so a file created later is watched
            warnings.filterwarnings(
                "ignore", "Pattern .* currently matches no files", RuntimeWarning
            )
            for key, value in options.items():
                if key in self.cfg.settings:  # e.g. control_socket_disable: gunicorn 25.1+
                    self.cfg.set(key, value)

    # -- in the worker ------------------------------------------------

    def load(self) -> t.Any:
        """Import and load the app, in the worker; a failure stops the server in one line."""
        from digwebs_cli.discovery import load_app

        settings = self.settings
        try:
            if settings.reload:
                # a restarted worker forks from the master, whose .env is
                # the one read at start-up: read the file again
                refresh_env_file(settings.cwd, settings.env)
            app = load_app(settings.app, settings.cwd)
        except DigwebsCliError as exc:
            return self._load_failed(exc.format_message())
        except BaseException as exc:  # noqa: BLE001 - must never show a traceback
            return self._load_failed(
                f"importing {settings.app} failed: {type(exc).__name__}: {exc}"
            )
        if settings.workers == "gevent":
            for text in blocking_driver_problems():
                _say(f"digwebs: warning: {text}", err=True)
        self._booted[0] = 1
        try:
            first = os.read(self._token_r, 1)
        except BlockingIOError:
            first = b""
        if first:
            extra = ", reload on" if settings.reload else ""
            _say(
                f"digwebs: serving {settings.app} at {settings.url} ({settings.workers}: "
                f"{settings.concurrency()}; {settings.env}{extra}). Ctrl-C to stop"
            )
        return app

    def _load_failed(self, message: str) -> t.Any:
        if self.settings.reload and self._booted[0]:
            # a change broke the app: keep the server up, show the error,
            # and wait for the next change (the reloader is watching)
            _say(f"digwebs: reload failed: {message}", err=True)
            return _failed_app(message)
        data = (message.replace("\n", " ") + "\n").encode()[:4000]
        try:
            os.write(self._error_w, data)
        except OSError:
            pass
        raise SystemExit(Arbiter.APP_LOAD_ERROR)

    # -- in the master -------------------------------------------------

    def read_load_error(self) -> str:
        """The message a worker wrote when the app failed to load, or ``""``."""
        try:
            data = os.read(self._error_r, 65536)
        except BlockingIOError:
            return ""
        lines = data.decode(errors="replace").splitlines()
        return lines[0] if lines else ""

    def run(self) -> None:
        """Run gunicorn until it stops; a failure is a :class:`DigwebsCliError`."""
        master = os.getpid()
        try:
            DigwebsArbiter(self).run()
        except SystemExit as exc:
            if os.getpid() != master:
                # a worker process leaving (gunicorn has cleaned up): exit
                # here, not through the caller's stack, which belongs to
                # the master (click, or a test runner that called us)
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
                code = exc.code
                os._exit(code if isinstance(code, int) else (0 if code is None else 1))
            code = exc.code
            if code in (0, None):
                _say("digwebs: stopped")
                return
            message = self.read_load_error()
            if message:
                raise DigwebsCliError(message) from None
            raise DigwebsCliError(
                f"the server stopped: {_exit_reason(code)} (see the log above)"
            ) from None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """*text* with control characters as ``\\xNN``: a client's request line
    must not move the cursor or colour the developer's terminal."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _gunicorn_classes() -> type[DigwebsApplication]:
    """Return :class:`DigwebsApplication`, gunicorn's sendfile byte count installed."""
    _count_sendfile_bytes()
    return DigwebsApplication


def _count_sendfile_bytes() -> None:
    """Make gunicorn count the bytes of a body it sends with ``sendfile``.

    gunicorn's ``Response.write`` adds what it writes to ``resp.sent`` (the
    access log's byte count), but ``Response.sendfile`` (a
    ``wsgi.file_wrapper`` body: every static file, under the sync, gthread
    and gevent workers alike) does not, so those lines said 0. Wrapped here
    once per process; the size is the rest of the file from its offset,
    capped at Content-Length, as gunicorn computes what it sends. A body
    that must not be sent (HEAD, 204, 304) counts 0, as nothing is sent.
    """
    from gunicorn.http import wsgi

    original = wsgi.Response.sendfile
    if getattr(original, "_digwebs_counts", False):
        return

    @functools.wraps(original)
    def sendfile(self: t.Any, respiter: t.Any) -> bool:
        nbytes = _file_bytes(respiter, self.response_length)
        done = bool(original(self, respiter))
        if done and nbytes and not getattr(self, "_omits_body", False):
            self.sent += nbytes
        return done

    sendfile._digwebs_counts = True  # type: ignore[attr-defined]
    wsgi.Response.sendfile = sendfile


def _file_bytes(respiter: t.Any, response_length: int | None) -> int:
    """What gunicorn's sendfile will send of *respiter*'s file (0 if it cannot tell)."""
    try:
        fileno = respiter.filelike.fileno()
        remaining = os.fstat(fileno).st_size - os.lseek(fileno, 0, os.SEEK_CUR)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 0
    if response_length is not None:
        remaining = min(remaining, response_length)
    return max(remaining, 0)


def refresh_env_file(folder: Path, env: str) -> None:
    """Read ``folder/.env`` again, as if for the first time, in this process.

    The variables the previous read supplied are removed first, so a line
    deleted from the file is gone and a changed one takes its new value; a
    real environment variable still wins. ``DIGWEBS_ENV`` stays *env*: the
    server's environment was chosen at start-up (``--env`` may have
    overridden the file) and does not change on a reload. A line that does
    not parse raises :class:`DigwebsCliError`, as at start-up.
    """
    from digwebs_cli.discovery import forget_env_files, load_env_file

    for name in load_env_file(folder):
        os.environ.pop(name, None)
    forget_env_files()
    try:
        load_env_file(folder)
    finally:
        os.environ["DIGWEBS_ENV"] = env


def _exit_reason(code: t.Any) -> str:
    if code == 3:
        return "a worker failed to boot"
    if code == 4:
        return "the app failed to load"
    return f"exit status {code}"


def _failed_app(message: str) -> t.Callable[..., t.Any]:
    body = (
        f"digwebs: the app failed to load after a change:\n{message}\n\n"
        "Fix it and save the file again: the server reloads by itself.\n"
    ).encode()

    def failed(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return failed


def _say(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
