"""Pain-map speed: 10,000 answers over 20 processes, from the raw export to pain_map.xlsx.

    .venv/bin/python benchmarks/painmap.py [--n 10000] [--workers 2]

The demo generator writes 10,000 external answers (two quarters); each of its 8 processes is
split into 2–3 sub-processes (20 in all) so the map has 20 groups. Timed, each as the user runs
it: `cxmining ingest`, `cxmining preprocess` (2 workers), `cxmining painmap` for the later
quarter (topics, ids and counts for both quarters, trend, exports, charts). Peak RSS of the
child processes is printed beside the time. Target (issue 6): the whole run <= 120 s.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

TARGET_S = 120.0


def make_export(out: Path, n: int) -> Path:
    from cxmining import demo

    demo.write_demo(out, seed=1, n_external=n, n_internal=50)
    path = out / demo.EXTERNAL_FILE
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    sizes = frame["Процесс"].value_counts()
    parts = {p: (3 if i < 4 else 2) for i, p in enumerate(sizes.index)}  # 4 x 3 + 4 x 2 = 20 processes
    number = frame["Номер обращения"].str[1:].astype(int)
    frame["Процесс"] = [f"{p} — участок {k % parts[p] + 1}" for p, k in zip(frame["Процесс"], number)]
    frame.to_csv(path, sep=";", index=False)
    return path


def run(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "cxmining", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode:
        sys.exit(f"cxmining {' '.join(args)} failed:\n{res.stderr}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export = make_export(tmp / "raw", args.n)
        processes = pd.read_csv(export, sep=";", dtype=str)["Процесс"].nunique()
        times = {"ingest": run("ingest", str(export), "--kind", "external", "--processed", "p", cwd=tmp),
                 "preprocess": run("preprocess", "--kind", "external", "--processed", "p", "--workers", str(args.workers), cwd=tmp),
                 "painmap": run("painmap", "--period", "2026Q3", "--processed", "p", "--out", "pm",
                                "--workers", str(args.workers), cwd=tmp)}
        table = pd.read_csv(tmp / "pm" / "pain_map.csv")
    total = sum(times.values())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.n} answers, {processes} processes, {args.workers} workers; map: {len(table)} rows in "
          f"{table['group'].nunique()} groups")
    for name, seconds in times.items():
        print(f"  {name:<11} {seconds:7.1f} s")
    print(f"  {'total':<11} {total:7.1f} s   (target <= {TARGET_S:.0f} s: {'met' if total <= TARGET_S else 'NOT met'}); "
          f"peak RSS of one child process {peak:,.0f} MB")


if __name__ == "__main__":
    main()
