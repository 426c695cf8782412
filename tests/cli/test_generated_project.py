"""A generated project passes its own tests, before and after ``generate``.

The project is rendered in-process, then its test suite runs in a
subprocess with this checkout on PYTHONPATH: nothing is installed. The same
journey from an installed wheel is in tests/e2e/test_project_e2e.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _project_tests(project: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGWEBS_", "PYTEST_"))}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _passed(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"(\d+) passed", result.stdout)
    assert match and "failed" not in result.stdout, result.stdout
    return int(match.group(1))


def test_generated_project_tests_pass(invoke, tmp_path):
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path)).exit_code == 0
    project = tmp_path / "myblog"
    before = _passed(_project_tests(project))

    args = ["generate", "controller", "posts", "index", "show", "new", "create", "edit"]
    args += ["update", "destroy", "archive", "--project-dir", str(project)]
    assert invoke(*args).exit_code == 0
    # one test per action
    assert _passed(_project_tests(project)) == before + 8
