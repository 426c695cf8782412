#!/usr/bin/env python3
"""Take the documentation's screenshots again, with headless Debian chromium.

Usage: ``.venv/bin/python scripts/docs_screenshots.py [OUT_DIR]``
(default ``docs/_static/screenshots``).

The tutorial's project is built by running ``docs/tutorial/index.md`` itself
(the same runner as ``tests/test_docs_examples.py``) in a temporary folder,
so the pictures always show the code the page shows. The script then serves
that project as step 9 of the tutorial deploys it, two production
``digwebs serve`` instances behind the nginx.conf that ``digwebs deploy nginx
--full`` writes, on free 127.0.0.1 ports (without nginx: one development
server, as in step 1), writes a few
posts through the form (as a non-browser client, which the CSRF check lets
through), and has chromium load each page. One picture needs a real form
post from the browser (the flash message after publishing): a page under
``static/`` of the temporary project submits the form on load, so the post
is same-origin and chromium, given a virtual-time budget, follows the
redirect before it takes the picture. The development error page comes from
``scripts/screenshot.sh``. Each server is stopped by its own process id.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TUTORIAL = REPO / "docs" / "tutorial" / "index.md"
POSTS = [
    ("Hello, myblog", "The first post of this blog.\n\nIt was written by the tutorial.", "Ada"),
    ("Context locals", "How request works under threads, greenlets and tasks.", "Grace"),
    ("Behind nginx", "Several instances of digwebs serve, one upstream.", "Linus"),
]
SUBMIT_PAGE = """<!doctype html>
<form method="post" action="/posts">
  <input name="title" value="Screenshots, taken again">
  <input name="author" value="Margaret">
  <textarea name="body">scripts/docs_screenshots.py wrote this post.</textarea>
</form>
<script>document.forms[0].submit()</script>
"""


def _load_runner():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "docs_examples", REPO / "tests" / "test_docs_examples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def _chromium(url: str, out: Path, profile: Path, height: int = 900, budget_ms: int = 0) -> None:
    command = [
        shutil.which("chromium") or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size=1100,{height}",
        f"--screenshot={out}",
    ]
    if budget_ms:
        command.append(f"--virtual-time-budget={budget_ms}")
    subprocess.run(
        [*command, url],
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(out)


def _consecutive_free_ports() -> int:
    """A port BASE such that BASE and BASE + 1 are both free on 127.0.0.1."""
    for _ in range(50):
        base = _free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", base + 1))
            except OSError:
                continue
        return base
    raise SystemExit("found no two consecutive free ports")


def _serve_behind_nginx(
    project: Path,
    work: Path,
    venv_bin: Path,
    processes: list[subprocess.Popen[bytes]],
    log: t.IO[bytes],
) -> str:
    """The tutorial's step 9: two production instances behind nginx; nginx's URL."""
    first = _consecutive_free_ports()
    listen = _free_port()
    env = {
        **os.environ,
        "DIGWEBS_ENV": "production",
        "DIGWEBS_SECRET_KEY": secrets.token_hex(32),
        "DIGWEBS_ALLOWED_HOSTS": '["127.0.0.1"]',
        "DIGWEBS_DATABASE": str(work / "myblog-production.sqlite3"),
    }
    for port in (first, first + 1):
        processes.append(
            subprocess.Popen(
                [
                    str(venv_bin / "digwebs"),
                    "serve",
                    "--env",
                    "production",
                    "--processes",
                    "1",
                    "--port",
                    str(port),
                ],
                cwd=project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    for port in (first, first + 1):
        _wait_for(f"http://127.0.0.1:{port}/")
    prefix = work / "nginx"
    prefix.mkdir()
    command = [
        str(venv_bin / "digwebs"),
        "deploy",
        "nginx",
        "--full",
        "--prefix",
        str(prefix),
        "--listen",
        f"127.0.0.1:{listen}",
        "--instances",
        "2",
        "--port",
        str(first),
        "--server-name",
        "127.0.0.1",
        "-o",
        str(prefix / "nginx.conf"),
    ]
    if os.geteuid() == 0:  # the temporary folder is root's alone
        command += ["--user", "root"]
    subprocess.run(command, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
    processes.append(
        subprocess.Popen(
            ["nginx", "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    return f"http://127.0.0.1:{listen}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, by its own pid."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    """Build the tutorial's project, serve it, and take every screenshot."""
    out_dir = Path(argv[0]).resolve() if argv else REPO / "docs" / "_static" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    runner_module = _load_runner()
    work = Path(tempfile.mkdtemp(prefix="docs-shots-"))
    venv_bin = Path(sys.executable).parent
    os.environ.update(runner_module._child_environment(work))
    runner = runner_module.PageRunner(work)
    runner.run(runner_module.parse_blocks(TUTORIAL))
    project = work / "myblog"
    (project / "static" / "_shot").mkdir(parents=True, exist_ok=True)
    (project / "static" / "_shot" / "submit.html").write_text(SUBMIT_PAGE, encoding="utf-8")

    processes: list[subprocess.Popen[bytes]] = []
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed at the end
    try:
        if shutil.which("nginx"):
            base = _serve_behind_nginx(project, work, venv_bin, processes, log)
        else:  # the tutorial's step 1: one development server
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            processes.append(
                subprocess.Popen(
                    [str(venv_bin / "digwebs"), "serve", "--no-reload", "--port", str(port)],
                    cwd=project,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for(base + "/")
        for title, body, author in POSTS:
            data = urllib.parse.urlencode({"title": title, "body": body, "author": author})
            urllib.request.urlopen(base + "/posts", data=data.encode(), timeout=5).close()
        profile = work / "chromium-profile"
        _chromium(base + "/", out_dir / "home.png", profile)
        _chromium(base + "/posts", out_dir / "posts.png", profile)
        # Publish from the browser: the redirect lands on the post with its flash.
        _chromium(
            base + "/static/_shot/submit.html",
            out_dir / "post-created.png",
            profile,
            budget_ms=5000,
        )
        # The same profile has the session cookie: the form knows the author.
        _chromium(base + "/posts/new", out_dir / "new-post.png", profile)
    finally:
        for proc in reversed(processes):  # nginx first, then the instances
            _stop(proc)
        log.close()
    subprocess.run(
        ["sh", str(REPO / "scripts" / "screenshot.sh"), str(out_dir / "devpage.png")],
        check=True,
        env={**os.environ, "PORT": str(_free_port()), "PYTHON": sys.executable},
        timeout=180,
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
