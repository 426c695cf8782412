"""Issue 12's proof: a generated project deployed behind a real nginx.

One deployment, shared by the module's tests: a project made by ``digwebs
new``; instances A and B (``digwebs serve --env production`` on two
consecutive loopback ports, a real secret in ``DIGWEBS_SECRET_KEY``, nginx as
their trusted proxy, ``site.test`` their one allowed host); instance C, the
same but trusting no proxy; and two nginx masters (Debian's nginx, which
``.ci/run`` installs), each running, unchanged, the configuration that
``digwebs deploy nginx --full --prefix DIR`` printed: one on plain http, one
with ``--ssl-certificate`` (a self-signed certificate made with ``openssl``),
so that "the app sees https" is shown by requests that really came over TLS,
nginx setting ``X-Forwarded-Proto`` from ``$scheme``. Each master runs in the
foreground (``-g 'daemon off;'``) with its files in a temporary folder, and is
stopped by its pid; as root, ``--user root`` (pytest's temporary folder, the
static files nginx serves, is readable by its owner only).

Clients connect from 127.0.0.2, a loopback address that is neither nginx's
nor a trusted proxy's, so "the app sees the client's address" cannot pass by
accident. What the app believes about a request is read from one route the
test adds to its copy of the project (``/_e2e/whoami``: the scaffold shows
none of it); everything else is the scaffold's own pages, and which instance
served a request, or whether any did, is read from the instances' access logs.
"""

from __future__ import annotations

import dataclasses
import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import typing as t
import urllib.parse
from pathlib import Path

import pytest
from browser import Browser

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

HOST = "site.test"
CLIENT = "127.0.0.2"  # where test clients connect from (all of 127/8 is loopback)
TRUSTED = '["127.0.0.1"]'
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")

WHOAMI = '''\
"""What the app believes about the request (added by tests/e2e/test_nginx_deploy.py)."""

from digwebs import api, get, request, url_for


@api
@get("/_e2e/whoami")
def whoami():
    return {
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
        "script_root": request.script_root,
        "external": url_for("home.index", _external=True),
    }
'''


# -- plumbing --------------------------------------------------------------


def _consecutive_free_ports(count: int) -> int:
    """The first of *count* consecutive loopback ports that are free right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclasses.dataclass
class Reply:
    """One HTTP response: status, headers (every value of a repeated name), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header *name*, or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        """name -> the whole Set-Cookie line, for every cookie the response sets."""
        return {v.split("=", 1)[0].strip(): v for k, v in self.headers if k.lower() == "set-cookie"}

    def json(self) -> t.Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


def fetch(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    source: str = CLIENT,
    timeout: float = 15.0,
) -> Reply:
    """One request on a new connection from *source* to 127.0.0.1:*port*.

    ``Host: site.test:PORT`` unless *headers* say otherwise: what a browser
    sends for ``http://site.test:PORT/``.
    """
    if tls is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
        )
    else:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(source, 0), context=tls
        )
    all_headers = {"Host": f"{HOST}:{port}", **(headers or {})}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        return Reply(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def cookie_header(*replies: Reply) -> str:
    """A ``Cookie`` header sending back what the replies set (later ones win)."""
    jar: dict[str, str] = {}
    for reply in replies:
        for name, line in reply.cookies().items():
            jar[name] = line.split(";", 1)[0].split("=", 1)[1]
    return "; ".join(f"{k}={v}" for k, v in jar.items())


class _Inputs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.inputs[t.cast(str, named["name"])] = named.get("value") or ""


def csrf_field(page: bytes) -> str:
    """The value of the page's hidden ``csrf_token`` field."""
    parser = _Inputs()
    parser.feed(page.decode())
    assert parser.inputs.get("csrf_token"), f"no csrf_token field in the form:\n{page.decode()}"
    return parser.inputs["csrf_token"]


def access_lines(servers: t.Iterable[t.Any], needle: str) -> list[str]:
    """The access-log lines of *servers* whose request line contains *needle*."""
    return [
        line
        for server in servers
        # the file, not Server.log(): a stopped server's log is closed
        for line in server.log_path.read_text(errors="replace").splitlines()
        if " access " in line and needle in line
    ]


class Nginx:
    """One nginx master in the foreground, running a configuration as it was printed.

    Its files (pid, logs, temporary folders) are in *prefix*, where ``digwebs
    deploy nginx --full --prefix`` put them; it is stopped by its pid.
    """

    def __init__(self, printed: str, prefix: Path) -> None:
        self.prefix = prefix
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(printed)
        # -e: the error log nginx opens before it has read the configuration
        self.args = [
            NGINX,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(self.conf),
        ]
        self.check = subprocess.run([*self.args, "-t"], capture_output=True, text=True, timeout=30)
        assert self.check.returncode == 0, f"nginx -t refused it:\n{self.check.stderr}\n{printed}"
        self._log = open(prefix / "master.log", "wb")
        self.proc = subprocess.Popen(
            [*self.args, "-g", "daemon off;"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def log(self) -> str:
        """The end of nginx's error log (its start-up complaints)."""
        text = ""
        for name in ("master.log", "error.log"):
            try:
                text += (self.prefix / name).read_text(errors="replace")[-3000:]
            except OSError:
                pass
        return text

    def wait_listening(self, port: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited with {self.proc.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"nginx not listening on {port}:\n{self.log()}")

    def stop(self) -> None:
        """SIGQUIT (nginx's graceful stop: its workers exit with it), SIGKILL if it hangs."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


# -- the deployment ----------------------------------------------------------


@dataclasses.dataclass
class Deployment:
    """Everything the tests talk to, and how to start an instance again."""

    project: Path
    listen: int  # nginx, plain http
    tls_port: int  # nginx, https (the same command with --ssl-certificate)
    tls: ssl.SSLContext  # verifies that nginx's certificate
    nginx: dict[str, Nginx]  # "http" / "https"
    printed: dict[str, str]  # what `digwebs deploy nginx` printed for each
    instances: dict[str, list[t.Any]]  # "A"/"B" -> every Server started for it, last = live
    direct: t.Any  # C: trusts no proxy
    ports: dict[str, int]
    start_instance: t.Callable[[str], t.Any]

    def live(self, name: str) -> t.Any:
        """The running Server of instance *name*."""
        return self.instances[name][-1]

    def all_servers(self) -> list[t.Any]:
        """Every Server started, C included: where an access line could be."""
        return [s for history in self.instances.values() for s in history] + [self.direct]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for site.test and 127.0.0.1, and its key, made with openssl."""
    cert, key = folder / "site.crt", folder / "site.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def deploy_nginx(project: Path, base: int, listen: int, prefix: Path, *extra: str) -> str:
    """What ``digwebs deploy nginx --full`` prints for the project (asserting exit 0)."""
    args = ["--instances", "2", "--port", str(base), "--listen", f"127.0.0.1:{listen}",
            "--server-name", HOST, "--full", "--prefix", str(prefix), *extra]  # fmt: skip
    if os.geteuid() == 0:
        # nginx's workers would run as nobody, and pytest's temporary folder
        # (the static files they serve) is readable by its owner only
        args += ["--user", "root"]
    proc = subprocess.run(
        [sys.executable, "-m", "digwebs_cli", "deploy", "nginx", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
        | {"PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, (
        f"digwebs deploy nginx {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def deployment(generated_project, start_module_server, tmp_path_factory) -> t.Iterator[Deployment]:
    """The whole deployment, started once for the module and stopped by pid after it."""
    if NGINX is None or shutil.which("openssl") is None:
        pytest.fail("nginx and openssl are needed: .ci/run installs them (apt-get install nginx)")
    work = tmp_path_factory.mktemp("nginx_deploy")
    project = work / "site"
    shutil.copytree(generated_project, project)
    (project / "controllers" / "e2e_whoami.py").write_text(WHOAMI)

    # A and B consecutive (--instances 2 --port BASE), then C, nginx, nginx TLS
    base = _consecutive_free_ports(5)
    ports = {"A": base, "B": base + 1, "C": base + 2}
    listen, tls_port = base + 3, base + 4
    common = {
        "DIGWEBS_SECRET_KEY": os.urandom(32).hex(),
        "DIGWEBS_ALLOWED_HOSTS": json.dumps([HOST]),
    }
    serve = ["--env", "production", "--processes", "1", "--access-log"]
    instances: dict[str, list[t.Any]] = {"A": [], "B": []}

    def start_instance(name: str) -> t.Any:
        server = start_module_server(
            serve, project, port=ports[name], DIGWEBS_TRUSTED_PROXIES=TRUSTED, **common
        )
        instances[name].append(server)
        server.wait_ready()
        return server

    for name in instances:
        start_instance(name)
    # the scaffold's production.toml trusts 127.0.0.1: C is told to trust nobody
    direct = start_module_server(
        serve, project, port=ports["C"], DIGWEBS_TRUSTED_PROXIES="[]", **common
    )
    direct.wait_ready()

    masters: dict[str, Nginx] = {}
    printed: dict[str, str] = {}
    try:
        for scheme, port in (("http", listen), ("https", tls_port)):
            prefix = work / f"nginx-{scheme}"
            prefix.mkdir()
            extra: list[str] = []
            if scheme == "https":
                cert, key = _self_signed(prefix)
                extra = ["--ssl-certificate", str(cert), "--ssl-certificate-key", str(key)]
            printed[scheme] = deploy_nginx(project, base, port, prefix, *extra)
            masters[scheme] = Nginx(printed[scheme], prefix)
            masters[scheme].wait_listening(port)
        yield Deployment(
            project=project, listen=listen, tls_port=tls_port,
            tls=ssl.create_default_context(cafile=str(cert)), nginx=masters, printed=printed,
            instances=instances, direct=direct, ports=ports, start_instance=start_instance,
        )  # fmt: skip
    finally:
        for master in masters.values():
            master.stop()


# -- the tests ---------------------------------------------------------------


def test_nginx_runs_the_printed_configurations_unchanged(deployment):
    for scheme, master in deployment.nginx.items():
        assert "test is successful" in master.check.stderr, master.check.stderr
        assert master.conf.read_text() == deployment.printed[scheme]
        for name in ("A", "B"):
            assert f"127.0.0.1:{deployment.ports[name]}" in deployment.printed[scheme]
        assert master.proc.poll() is None, master.log()
    assert re.search(rf"listen 127\.0\.0\.1:{deployment.tls_port} ssl", deployment.printed["https"])


def test_requests_spread_over_both_instances(deployment):
    count = 20
    for i in range(count):
        reply = fetch(deployment.listen, f"/?spread={i}")
        assert reply.status == 200, reply
        assert b"</html>" in reply.body
    # flush: the access line is written after the response
    time.sleep(0.5)
    per_instance = {
        name: len(access_lines(history, '"GET /?spread='))
        for name, history in deployment.instances.items()
    }
    assert sum(per_instance.values()) == count, per_instance
    assert min(per_instance.values()) >= count // 4, f"round robin skewed: {per_instance}"
    assert not access_lines([deployment.direct], "spread="), "C is not behind nginx"


def test_a_session_set_through_one_instance_is_honoured_by_the_other(deployment):
    a, b = deployment.ports["A"], deployment.ports["B"]
    form_page = fetch(a, "/contact")
    assert form_page.status == 200
    posted = fetch(
        a,
        "/contact",
        method="POST",
        headers={"Cookie": cookie_header(form_page)},
        form={"name": "Ada", "message": "hello", "csrf_token": csrf_field(form_page.body)},
    )
    assert posted.status in (302, 303), posted
    assert posted.cookies(), "the flash message travels in the session cookie"
    shown = fetch(b, "/contact", headers={"Cookie": cookie_header(form_page, posted)})
    assert shown.status == 200
    assert b"Thank you, Ada! Your message has been sent." in shown.body
    # and a session whose signature does not match is not
    name, value = cookie_header(posted).split("=", 1)
    tampered = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    reply = fetch(b, "/contact", headers={"Cookie": f"{name}={tampered}"})
    assert reply.status == 200 and b"Thank you" not in reply.body


FORGED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Prefix": "/evil",
}


def test_behind_the_trusted_proxy_the_app_sees_the_client_and_https(deployment):
    plain = fetch(deployment.listen, "/_e2e/whoami")
    assert plain.status == 200, plain
    assert plain.json() == {
        "remote_addr": CLIENT,  # nginx connected from 127.0.0.1, the client from .2
        "scheme": "http",
        "host": f"{HOST}:{deployment.listen}",  # the port the client used, not the instance's
        "script_root": "",
        "external": f"http://{HOST}:{deployment.listen}/",
    }

    secure = fetch(deployment.tls_port, "/_e2e/whoami", tls=deployment.tls)
    assert secure.status == 200, secure
    assert secure.json() == {
        "remote_addr": CLIENT,
        "scheme": "https",
        "host": f"{HOST}:{deployment.tls_port}",
        "script_root": "",
        "external": f"https://{HOST}:{deployment.tls_port}/",
    }
    # what https changes in the scaffold's own responses: HSTS, a Secure cookie
    home = fetch(deployment.tls_port, "/", tls=deployment.tls)
    plain_home = fetch(deployment.listen, "/")
    assert home.header("Strict-Transport-Security"), home.headers
    assert plain_home.header("Strict-Transport-Security") is None
    for reply in (home, plain_home):  # the other security headers, either way
        assert reply.header("X-Content-Type-Options") == "nosniff", reply.headers
        assert reply.header("X-Frame-Options") == "DENY", reply.headers
        assert reply.header("Referrer-Policy") == "strict-origin-when-cross-origin"
    contact = fetch(deployment.tls_port, "/contact", tls=deployment.tls)
    posted = fetch(
        deployment.tls_port,
        "/contact",
        method="POST",
        tls=deployment.tls,
        headers={"Cookie": cookie_header(contact)},
        form={"name": "Ada", "message": "hi", "csrf_token": csrf_field(contact.body)},
    )
    assert posted.status in (302, 303), posted
    assert all("; secure" in c.lower() for c in posted.cookies().values()), posted.cookies()

    # Forged headers through nginx: it overwrites -Proto and appends the peer
    # to -For; the app takes one hop, nginx's, so the forgery is ignored.
    through = fetch(deployment.listen, "/_e2e/whoami", headers=FORGED).json()
    assert through["remote_addr"] == CLIENT
    assert through["scheme"] == "http"


@pytest.mark.parametrize(
    ("to", "source"),
    [("C", "127.0.0.1"), ("A", CLIENT)],
    ids=["C, trusting no proxy, from nginx's address", "A, from a peer it does not trust"],
)
def test_forged_forwarded_headers_sent_straight_to_an_instance_change_nothing(
    deployment, to, source
):
    port = deployment.ports[to]
    honest = fetch(port, "/_e2e/whoami", source=source).json()
    forged = fetch(port, "/_e2e/whoami", headers=FORGED, source=source).json()
    assert (
        honest
        == forged
        == {
            "remote_addr": source,
            "scheme": "http",
            "host": f"{HOST}:{port}",
            "script_root": "",
            "external": f"http://{HOST}:{port}/",
        }
    )


def test_a_foreign_host_gets_400(deployment):
    for port in (deployment.listen, deployment.ports["A"], deployment.ports["C"]):
        reply = fetch(port, "/", headers={"Host": "evil.example"})
        assert reply.status == 400, (port, reply)
    reply = fetch(deployment.tls_port, "/", headers={"Host": "evil.example"}, tls=deployment.tls)
    assert reply.status == 400, reply
    # a trusted proxy's X-Forwarded-Host is checked as well
    reply = fetch(
        deployment.ports["A"], "/", headers={"X-Forwarded-Host": "evil.example"}, source="127.0.0.1"
    )
    assert reply.status == 400, reply


def test_cross_site_posts_are_refused_same_origin_and_token_posts_pass(deployment):
    port = deployment.listen
    origin = f"http://{HOST}:{port}"
    form = {"name": "Ada", "message": "hi"}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": f"http://other.{HOST}"},  # no token
    ):
        refused = fetch(port, "/contact", method="POST", headers=headers, form=form)
        assert refused.status == 403, (headers, refused)

    same = fetch(port, "/contact", method="POST", headers={"Origin": origin}, form=form)
    assert same.status in (302, 303), same
    fetched = fetch(
        port,
        "/contact",
        method="POST",
        headers={"Sec-Fetch-Site": "same-origin", "Origin": origin},
        form=form,
    )
    assert fetched.status in (302, 303), fetched

    page = fetch(port, "/contact")
    with_token = fetch(
        port,
        "/contact",
        method="POST",
        headers={
            "Sec-Fetch-Site": "same-site",
            "Origin": f"http://other.{HOST}",
            "Cookie": cookie_header(page),
        },
        form={**form, "csrf_token": csrf_field(page.body)},
    )
    assert with_token.status in (302, 303), with_token


def test_static_requests_never_reach_the_instances(deployment):
    port = deployment.listen
    static = deployment.project / "static"
    home = fetch(port, "/").body.decode()
    hashed = re.search(r'href="(/static/css/site\.css[^"]*)"', home)
    assert hashed, home
    targets = {
        hashed.group(1): static / "css" / "site.css",  # the content-hash URL
        "/static/css/site.css": static / "css" / "site.css",
        "/static/images/logo.svg": static / "images" / "logo.svg",
        "/favicon.ico": static / "favicon.ico",
    }
    for path, file in targets.items():
        reply = fetch(port, path)
        assert (reply.status, reply.body) == (200, file.read_bytes()), path
    if hashed.group(1) != "/static/css/site.css":
        cached = fetch(port, hashed.group(1))
        assert "max-age=" in (cached.header("Cache-Control") or ""), cached.headers
    gz = fetch(port, "/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert gz.header("Content-Encoding") == "gzip"
    # no way out of the static folder: these are not static URLs (nginx
    # resolves the dots first), so the app answers them, with a 404
    for escape in (
        "/static../config/default.toml",
        "/static/../config/default.toml",
        "/static/%2e%2e/config/default.toml",
        "/static/..%2fwsgiapp.py",
    ):
        reply = fetch(port, escape)
        assert reply.status == 404, (escape, reply)
        assert b"secret_key" not in reply.body and b"import" not in reply.body, escape
    time.sleep(0.5)
    for path in targets:
        assert not access_lines(deployment.all_servers(), f'"GET {path} '), f"{path} reached an app"


def test_a_busy_keep_alive_connection_is_never_dropped(deployment):
    """nginx keeps connections to the instances open: none may be closed mid-use.

    An instance that closes a connection nginx is using (instead of saying
    ``Connection: close`` or letting it go idle) costs a request a reset, and
    with ``max_fails=1`` takes the instance out of rotation: 502s follow. One
    connection to C, a request every 10 ms for longer than the instance's
    keep-alive timeout (2 s): every request is answered on that connection.
    """
    conn = http.client.HTTPConnection(
        "127.0.0.1", deployment.ports["C"], timeout=10, source_address=(CLIENT, 0)
    )
    answered = 0
    try:
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            try:
                conn.request(
                    "GET", "/?keepalive", headers={"Host": f"{HOST}:{deployment.ports['C']}"}
                )
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as exc:
                pytest.fail(f"the connection was dropped after {answered} requests: {exc!r}")
            assert resp.status == 200 and not resp.will_close, resp.getheaders()
            answered += 1
            time.sleep(0.01)
    finally:
        conn.close()
    assert answered > 50


def test_rolling_restart_under_load_fails_no_request(deployment):
    clients, least = 20, 20.0
    stop = threading.Event()
    counts = [0] * clients
    failures: list[str] = []

    def client(i: int) -> None:
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", deployment.listen, timeout=15, source_address=(CLIENT, 0)
                    )
                conn.request("GET", f"/?load={i}", headers={"Host": f"{HOST}:{deployment.listen}"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or b"</html>" not in body:
                    failures.append(f"{resp.status} {body[:200]!r}")
                counts[i] += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                failures.append(repr(exc))
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.01)  # steady, not flat out: 2 cores are shared
        if conn is not None:
            conn.close()

    def served_since(name: str, mark: int) -> int:
        return len(access_lines([deployment.live(name)], '"GET /?load=')) - mark

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    steps: list[str] = []
    try:
        time.sleep(2)
        for name in ("A", "B"):
            server = deployment.live(name)
            mark = served_since(name, 0)
            server.signal(signal.SIGHUP)  # gunicorn: new workers, the old ones finish
            time.sleep(3)
            assert server.proc.poll() is None, server.log()
            assert served_since(name, mark) > 0, f"{name} served nothing after SIGHUP"
            steps.append(f"{name} reloaded at {time.monotonic() - started:.1f}s")
            assert server.stop(timeout=30) == 0, server.log()
            steps.append(f"{name} stopped at {time.monotonic() - started:.1f}s")
            deployment.start_instance(name)
            # back in rotation (nginx sends it requests again) before the next one stops
            deadline = time.monotonic() + 15
            while served_since(name, 0) < 10 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert served_since(name, 0) >= 10, f"{name} not back in rotation: {steps}"
            steps.append(f"{name} serving again at {time.monotonic() - started:.1f}s")
        while time.monotonic() - started < least:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    elapsed = time.monotonic() - started
    total = sum(counts)
    print(f"rolling restart: {total} requests by {clients} clients in {elapsed:.1f} s; {steps}")
    assert not failures, f"{len(failures)} of {total} failed ({steps}), e.g. {failures[:5]}"
    assert min(counts) > 0 and total >= 20 * clients, (counts, elapsed)
    assert elapsed < 90, steps
    logs = "".join(s.log_path.read_text(errors="replace") for s in deployment.all_servers())
    assert "Traceback" not in logs and " ERROR " not in logs


def test_a_real_browser_loads_the_home_page_and_posts_the_contact_form(deployment, tmp_path):
    site = f"http://{HOST}:{deployment.listen}"
    before = set(access_lines(deployment.all_servers(), '"POST /contact'))
    with Browser(
        tmp_path / "chromium", args=[f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]
    ) as browser:
        browser.navigate(site + "/")
        assert browser.evaluate("location.href") == site + "/"
        assert browser.evaluate("document.querySelector('h1').textContent")
        # the stylesheet nginx served was applied
        rules = "[...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0)"
        assert browser.evaluate(rules) > 0
        browser.until_load(
            lambda: browser.evaluate("document.querySelector('nav a[href=\"/contact\"]').click()")
        )
        assert browser.evaluate("location.pathname") == "/contact"
        browser.until_load(
            lambda: browser.evaluate(
                "{ const f = document.querySelector('form.contact-form');"
                "f.name.value = 'Ada'; f.message.value = 'Sent from chromium';"
                "f.querySelector('button[type=submit]').click(); }"
            )
        )
        assert browser.evaluate("location.pathname") == "/contact"
        flash = browser.evaluate("document.querySelector('.flash')?.textContent")
        (tmp_path / "after-post.png").write_bytes(browser.screenshot())
        assert flash == "Thank you, Ada! Your message has been sent.", (
            browser.evaluate("document.body.innerText"),
            tmp_path / "after-post.png",
        )
    time.sleep(0.5)
    # one POST, through nginx to an instance, answered with the redirect
    posts = [p for p in access_lines(deployment.all_servers(), '"POST /contact') if p not in before]
    assert len(posts) == 1 and re.search(r'" 30[23] ', posts[0]), posts
