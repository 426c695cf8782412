"""Putting the rendered project in its folder, and ``--git``'s first commit.

:func:`move_into_place` moves the staged project to its folder: one rename
into a new or empty folder (atomic), else, with ``--force``, file by file
once no conflict is found, reporting each file as created, replaced or
unchanged. :func:`make_dirs` records the folders it creates, so that a
failure removes them again. :func:`check_git` refuses ``--git`` before
anything is written; :func:`git_commit` commits exactly the files written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t
from pathlib import Path

from ._messages import short_path
from .errors import DigwebsCliError


class WriteReport(t.NamedTuple):
    """What moving the rendered project into place did, by path (relative)."""

    created: list[str]
    replaced: list[str]
    unchanged: list[str]
    kept: int  # files of the user's that the template does not have

    @property
    def written(self) -> list[str]:
        """Every file of the project that was written, sorted."""
        return sorted(self.created + self.replaced + self.unchanged)


def move_into_place(rendered: Path, target: Path) -> WriteReport:
    """Move the rendered project to ``target``; say what happened to each file."""
    files = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if not p.is_dir())
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        # Same folder, same file system: a rename, which is atomic.
        os.replace(rendered, target)
        return WriteReport(created=files, replaced=[], unchanged=[], kept=0)
    # --force into a folder with files: find every conflict before moving one.
    for source in sorted(rendered.rglob("*")):
        dest = target / source.relative_to(rendered)
        if source.is_dir():
            if dest.exists() and not dest.is_dir():
                raise DigwebsCliError(f"Cannot write folder '{dest}': a file is in the way.")
        elif dest.is_dir():
            raise DigwebsCliError(f"Cannot write file '{dest}': a folder is in the way.")
    report = WriteReport(created=[], replaced=[], unchanged=[], kept=0)
    for rel in files:
        source, dest = rendered / rel, target / rel
        if not dest.exists():
            report.created.append(rel)
        elif dest.read_bytes() == source.read_bytes():
            report.unchanged.append(rel)
        else:
            report.replaced.append(rel)
    theirs = [p for p in target.rglob("*") if not p.is_dir()]
    kept = sum(1 for p in theirs if str(p.relative_to(target)) not in set(files))
    for rel in files:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(rendered / rel, dest)
    return report._replace(kept=kept)


def make_dirs(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, recording each in ``created``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def check_git(target: Path) -> str:
    """Refuse ``--git`` before anything is written if git cannot commit there."""
    git = shutil.which("git")
    if git is None:
        raise DigwebsCliError("--git needs the git command, which is not on PATH.")
    probe = target
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return git  # check_target or the writing says what is wrong
    inside = _git(git, probe, "rev-parse", "--show-toplevel")
    if inside.returncode == 0:
        top = inside.stdout.strip()
        raise DigwebsCliError(
            f"--git: '{short_path(target, import_roots=False)}' would be inside the git "
            f"repository '{top}'. "
            "Leave out --git and commit the project there, or choose another --output-dir."
        )
    ident = _git(git, probe, "var", "GIT_COMMITTER_IDENT")
    if ident.returncode != 0:
        raise DigwebsCliError(
            "--git: git does not know who you are, so it cannot commit. Run "
            "git config --global user.name 'Your Name' and "
            "git config --global user.email you@example.com first."
        )
    return git


def _git(
    git: str, cwd: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    # A GIT_DIR or GIT_WORK_TREE of the user's shell would point elsewhere.
    env = {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}
    return subprocess.run(
        [git, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def git_commit(git: str, target: Path, files: list[str]) -> str:
    """``git init``, add exactly the files written, commit; return the short hash."""
    steps: list[tuple[str, ...]] = [
        ("init", "--quiet"),
        ("add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul"),
        ("commit", "--quiet", "--no-verify", "-m", "New project from digwebs new"),
        ("rev-parse", "--short", "HEAD"),
    ]
    result = None
    for args in steps:
        stdin = "\0".join(files) if args[0] == "add" else None
        result = _git(git, target, *args, stdin=stdin)
        if result.returncode != 0:
            why = " ".join((result.stderr or result.stdout).split()) or "no reason given"
            raise DigwebsCliError(f"The project was created, but git {args[0]} failed: {why}")
    assert result is not None
    return result.stdout.strip()
