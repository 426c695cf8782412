"""A/B: the in-process benchmark of one checkout against another's code, interleaved.

    python benchmarks/ab.py RUNS BEFORE_TREE AFTER_TREE [inproc.py options]

Runs this checkout's ``benchmarks/inproc.py --contender digwebs --clock cpu``
RUNS times for each tree, alternating (``PYTHONPATH`` points at the tree, so
both are measured by the same benchmark code), and prints, per row, the
median us/request and the median ratio to raw WSGI of each, and after/before.
The ratio column is the steadier one on a shared machine: raw runs in the
same rounds. Example, the commit before issue 10 against this one::

    git worktree add /tmp/before 50d9cc6
    python benchmarks/ab.py 8 /tmp/before . --scenario hello --rounds 7
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

INPROC = Path(__file__).resolve().parent / "inproc.py"


def run(tree: str, args: list[str], out: Path) -> dict[str, dict[str, object]]:
    """One inproc.py run with ``tree`` first on the path; its rows from the JSON."""
    command = [sys.executable, str(INPROC), "--contender", "digwebs", "--clock", "cpu"]
    subprocess.run(
        [*command, *args, "--json", str(out)],
        env={**os.environ, "PYTHONPATH": os.path.abspath(tree)},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    rows: dict[str, dict[str, object]] = json.loads(out.read_text())["rows"]
    return rows


def main(argv: list[str]) -> int:
    """Run the A/B and print the table."""
    if len(argv) < 3 or not argv[0].isdigit():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    runs, trees, args = int(argv[0]), argv[1:3], argv[3:]
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {t: {} for t in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for tree in trees if i % 2 == 0 else trees[::-1]:
                for name, row in run(tree, args, Path(tmp) / "run.json").items():
                    found = row["contenders"].get("digwebs")  # type: ignore[attr-defined]
                    if found and found.get("status") == "ok":
                        pairs = zip(found["samples_us"], found["ratios"], strict=True)
                        samples[tree].setdefault(name, []).extend(pairs)
    before, after = (samples[t] for t in trees)
    heads = ("us before", "us after", "after/before", "x before", "x after", "after/before")
    print(f"{'row':20s} " + " ".join(f"{h:>12s}" for h in heads))
    for name, a in before.items():
        b = after.get(name)
        if not b:
            continue
        au, bu = (statistics.median(s for s, _ in x) for x in (a, b))
        ar, br = (statistics.median(r for _, r in x) for x in (a, b))
        cells = (au, bu, bu / au, ar, br, br / ar)
        print(f"{name:20s} " + " ".join(f"{c:12.3f}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
