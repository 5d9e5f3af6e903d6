"""Pain map against the demo's planted truth, pain by pain (the diagnosis behind issue 6's ±5 pp target).

    .venv/bin/python benchmarks/painmap_truth.py [--period 2026Q3] [--config my.yaml]

Ingests and preprocesses the bundled demo feedback into a temporary directory, builds the pain map
and prints, for every planted pain with prevalence >= 5%: the planted prevalence, the estimate
(the union of the map rows of its process whose respondents mostly mention it, as
``tests/test_mapjob.py`` counts it), the error, the number of such rows, and the share of its
respondents with at least one problem or need unit (what classification let through). Then the
share of pains within ±5 pp and the mean error. Pass ``--config`` to compare settings.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--config", default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from cxmining import ingestjob
    from cxmining.config import load_config
    from cxmining.mapjob import build_pain_map, period_dir
    from cxmining.prepjob import update_units
    from tests.test_mapjob import _dominated, _estimates

    cfg = load_config(args.config)
    truth = pd.read_csv(DEMO / "external_truth.csv", dtype=str).fillna("")
    plan = pd.read_csv(DEMO / "planted_external.csv")
    with tempfile.TemporaryDirectory() as tmp:
        processed = Path(tmp) / "processed"
        ingestjob.ingest(DEMO / "external_feedback.csv", "external", cfg, processed=processed)
        update_units(processed, ("external",), cfg, workers=2, echo=lambda s: None)
        result = build_pain_map(processed, args.period, cfg, echo=lambda s: None)
        reached = set(pd.read_parquet(period_dir(processed, args.period) / "assignments.parquet")["response_id"])
    est = _estimates(result.table, truth, plan, args.period)
    rows = _dominated(result.table, truth, plan, args.period)
    answers = truth[(truth["period"] == args.period) & (truth["defect"] == "")]
    has = answers["pains"].str.split(";")
    est["rows"] = est["pain"].map(lambda p: len(rows.get(p, [])))
    est["error"] = est["estimate"] - est["truth"]
    est["classified"] = [np.mean([r in reached for r in answers.loc[has.map(lambda s, p=p: p in s), "response_id"]])
                         for p in est["pain"]]
    pd.set_option("display.width", 160)
    print(est[["pain", "truth", "estimate", "error", "rows", "classified"]].round(3).to_string(index=False))
    within = (est["error"].abs() <= 0.05).mean()
    print(f"\n{len(result.table)} map rows; pains found {est['found'].mean():.3f} (target >= 0.90); "
          f"within ±5 pp {within:.3f} (target >= 0.90); mean error {est['error'].mean():+.3f}")


if __name__ == "__main__":
    main()
