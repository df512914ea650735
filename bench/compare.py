"""Measure an earlier commit and this checkout in the same run, under the same load.

    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/compare.py --base 30c13f4
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/placements_bench \\
        python bench/compare.py --base 30c13f4

Checks the base commit out into a temporary worktree (its translations compiled), then runs
bench/load.py (this checkout's) against the base and against this checkout, alternately,
--rounds times each, every run on a fresh copy of the database in DATABASE_URL (generated
and filled as docs/performance.md says; it stays unchanged). By default the users do not
pause (--saturate), so the throughput is the saturation throughput. Prints the machine, each
run, and the medians over the rounds side by side; --json keeps them. The worktree is
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import print_machine  # noqa: E402


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603, S607


def checkout(commit: str, into: Path) -> None:
    git("worktree", "add", "--detach", str(into), commit)
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(  # noqa: S603 (our own venv's pybabel)
        [str(pybabel), "compile", "--use-fuzzy", "-d", "translations"], cwd=into, check=True, capture_output=True
    )


def run(app: Path, label: str, args, out: Path) -> dict:
    command = [
        sys.executable,
        str(ROOT / "bench" / "load.py"),
        "--app",
        str(app),
        "--label",
        label,
        "--users",
        str(args.users),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--workers",
        str(args.workers),
        "--json",
        str(out),
    ]
    if args.saturate:
        command.append("--saturate")
    subprocess.run(command, check=True, env=os.environ)  # noqa: S603 (our own bench)
    return json.loads(out.read_text())


def summary(runs: list[dict]) -> dict:
    def median(key):
        values = [r[key] for r in runs if r[key] is not None]
        return statistics.median(values) if values else None

    pages = sorted({name for r in runs for name in r["pages"]})

    def per_view(run: dict, key: str) -> float | None:
        # A page view: the map page and its marker data are one view, as the earlier page was.
        if run[key] is None:
            return None
        views = run["requests"] - run["pages"].get("map data", {}).get("requests", 0)
        return run[key] * run["requests"] / max(views, 1)

    def median_per_view(key):
        values = [v for r in runs if (v := per_view(r, key)) is not None]
        return statistics.median(values) if values else None

    return {
        "gunicorn_cpu_ms_per_view": median_per_view("gunicorn_cpu_ms_per_request"),
        "database_cpu_ms_per_view": median_per_view("database_cpu_ms_per_request"),
        "throughput": median("throughput"),
        "gunicorn_cpu_ms_per_request": median("gunicorn_cpu_ms_per_request"),
        "database_cpu_ms_per_request": median("database_cpu_ms_per_request"),
        "errors": sum(r["errors"] for r in runs),
        "pages": {
            name: {
                key: statistics.median(r["pages"][name][key] for r in runs if name in r["pages"])
                for key in ("median_ms", "p95_ms", "median_bytes")
            }
            for name in pages
        },
    }


def show(before: dict, after: dict, base: str, head: str) -> None:
    def number(value, digits=1):
        return "–" if value is None else f"{value:.{digits}f}"

    print(f"\n{'':<34}{base:>14}{head:>14}")
    print(f"{'throughput (req/s)':<34}{number(before['throughput']):>14}{number(after['throughput']):>14}")
    for key, name in (
        ("gunicorn_cpu_ms_per_request", "server CPU ms/request"),
        ("gunicorn_cpu_ms_per_view", "server CPU ms/page view"),
        ("database_cpu_ms_per_request", "PostgreSQL CPU ms/request"),
        ("database_cpu_ms_per_view", "PostgreSQL CPU ms/page view"),
    ):
        print(f"{name:<34}{number(before[key]):>14}{number(after[key]):>14}")
    print(f"{'errors':<34}{before['errors']:>14}{after['errors']:>14}")
    print(f"\n{'page: median / p95 ms, median KB':<34}{base:>22}{head:>22}")
    for name in sorted(set(before["pages"]) | set(after["pages"])):
        cells = []
        for side in (before, after):
            page = side["pages"].get(name)
            cells.append(
                "–"
                if page is None
                else f"{page['median_ms']:.0f} / {page['p95_ms']:.0f}, {page['median_bytes'] / 1024:.1f}"
            )
        print(f"{name:<34}{cells[0]:>22}{cells[1]:>22}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the earlier commit")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternately")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-saturate", dest="saturate", action="store_false", help="1-3 s pauses, as people")
    parser.add_argument("--json", type=Path, help="write both sides' runs and medians here")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the generated bench database.")
    base = git("rev-parse", "--short", args.base)
    head = git("rev-parse", "--short", "HEAD") + (
        "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    )
    print_machine()
    print(f"Comparing {base} with {head} ({ROOT}), {args.rounds} rounds", flush=True)
    runs: dict[str, list[dict]] = {base: [], head: []}
    with tempfile.TemporaryDirectory(prefix="kpr-compare-") as scratch:
        tree = Path(scratch) / "base"
        try:
            checkout(base, tree)
            for round_number in range(args.rounds):
                for label, app in ((base, tree), (head, ROOT)):
                    out = Path(scratch) / f"{label}-{round_number}.json"
                    runs[label].append(run(app, label, args, out))
        finally:
            git("worktree", "remove", "--force", str(tree))
    print_machine("Machine after")
    before, after = summary(runs[base]), summary(runs[head])
    show(before, after, base, head)
    if args.json:
        args.json.write_text(
            json.dumps({"base": base, "head": head, "runs": runs, base: before, head: after}, indent=1)
        )


if __name__ == "__main__":
    main()
