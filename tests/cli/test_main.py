"""The ``digwebs`` group itself: which environment variables it reads.

Every ``DIGWEBS_<KEY>`` variable is the app's config key ``<key>``
(``DIGWEBS_SERVER__PORT`` is ``[server] port``, which ``digwebs serve``
reads), so no command may take its options from
``DIGWEBS_<COMMAND>_<OPTION>`` (click's ``auto_envvar_prefix``):
``DIGWEBS_ROUTES_SORT`` would be both a routes option and the config key
``routes_sort``. ``serve``'s old ``DIGWEBS_SERVE_<OPTION>`` variables still
work, deprecated, with a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _digwebs(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    base["PYTHONPATH"] = str(REPO)
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "digwebs_cli", *args],
        cwd=cwd, env=base, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_new_takes_no_option_from_the_environment(tmp_path):
    target = tmp_path / "myblog"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    result = _digwebs(
        "new", "myblog", "--no-input", cwd=tmp_path, HOME=str(tmp_path),
        DIGWEBS_NEW_FORCE="1", DIGWEBS_NEW_NO_INPUT="1",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--force" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["mine.txt"]


def test_routes_takes_no_option_from_the_environment(tmp_path):
    (tmp_path / "wsgiapp.py").write_text(
        "from digwebs import Digwebs\n"
        "app = Digwebs(root_path=__import__('os').path.dirname(__file__))\n"
        "@app.get('/b', name='a_first')\ndef b():\n    return 'b'\n"
        "@app.get('/a', name='z_last')\ndef a():\n    return 'a'\n"
    )
    plain = _digwebs("routes", "--json", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    sorted_by_env = _digwebs("routes", "--json", cwd=tmp_path, DIGWEBS_ROUTES_SORT="name")
    assert sorted_by_env.stdout == plain.stdout  # still sorted by path


def test_serve_settings_come_from_the_config_variables(tmp_path):
    (tmp_path / "wsgiapp.py").write_text("def app(environ, start_response):\n    return []\n")
    result = _digwebs("serve", "--print-config", cwd=tmp_path, DIGWEBS_SERVER__PORT="9123")
    assert result.returncode == 0, result.stderr
    assert "9123" in result.stdout and "DIGWEBS_SERVER__PORT" in result.stdout
    assert "warning" not in result.stdout + result.stderr


def test_digwebs_serve_variables_still_work_with_a_warning(tmp_path):
    (tmp_path / "wsgiapp.py").write_text("def app(environ, start_response):\n    return []\n")
    result = _digwebs("serve", "--print-config", cwd=tmp_path, DIGWEBS_SERVE_PORT="9123")
    assert result.returncode == 0, result.stderr
    assert "9123" in result.stdout and "DIGWEBS_SERVE_PORT" in result.stdout
    assert "warning: DIGWEBS_SERVE_PORT is deprecated: write DIGWEBS_SERVER__PORT" in result.stdout
