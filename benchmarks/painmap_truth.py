"""Pain map against the demo's planted truth, pain by pain (the diagnosis behind issue 6's ±5 pp target).

    .venv/bin/python benchmarks/painmap_truth.py [--period 2026Q3] [--config my.yaml] [--seed 0] [--demo DIR]

Ingests and preprocesses the bundled demo feedback into a temporary directory, builds the pain map
and prints, for every planted pain with prevalence >= 5%: the planted prevalence, the estimate
(the union of the map rows of its process whose respondents mostly mention it, as
``tests/test_mapjob.py`` counts it), the error, the number of such rows, and what pain detection
let through: ``respondents`` is the share of its respondents with at least one problem or need unit
(any pain); ``sentences`` is the share of its planted sentences with a problem or need unit among
the units cut from them. ``perfect`` is the error of perfect topics that count a respondent only
through a flagged sentence of the pain (truth x sentences - truth): what pain detection alone
costs. It is not a bound: the map also counts a respondent whose other units land in the pain's
rows. Then the share of pains within ±5 pp, for the map and for perfect topics, and the mean
error. Pass ``--config`` to compare settings. ``--demo`` reads another draw of the demo data
(``cxmining demo-data --seed N --out DIR``): a change of the unit set moves the share more than a
topic seed does, so compare settings over several draws too.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"
_WORD = re.compile(r"[а-яё]{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower().replace("ё", "е")))


def sentence_recall(answers: pd.DataFrame, units: pd.DataFrame, flagged: set) -> dict[str, float]:
    """Planted pain -> share of its planted sentences with a problem or need unit.

    A unit (a sentence or a clause of one, masked) belongs to a planted sentence of the same answer
    when at least 60% of its words are in that sentence; typos and masking keep most words intact.
    """
    by_answer = {rid: list(zip(g["unit_id"], g["text_masked"].map(_words))) for rid, g in units.groupby("response_id")}
    hits: dict[str, list[bool]] = {}
    for rid, planted in zip(answers["response_id"], answers["units"]):
        cut = by_answer.get(rid, [])
        for unit in json.loads(planted):
            if unit["pain"]:
                words = _words(unit["text"])
                hits.setdefault(unit["pain"], []).append(any(
                    uid in flagged for uid, w in cut if w and len(w & words) / len(w) >= 0.6))
    return {pain: float(np.mean(v)) for pain, v in hits.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--config", default=None)
    ap.add_argument("--seed", type=int, default=0, help="topic model seed (the spread over seeds shows the noise)")
    ap.add_argument("--demo", type=Path, default=DEMO, help="demo data directory (default: the bundled draw)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from cxmining import ingestjob, store
    from cxmining.config import load_config
    from cxmining.mapjob import build_pain_map, period_dir
    from cxmining.prepjob import update_units
    from tests.test_mapjob import _dominated, _estimates

    cfg = load_config(args.config)
    truth = pd.read_csv(args.demo / "external_truth.csv", dtype=str).fillna("")
    plan = pd.read_csv(args.demo / "planted_external.csv")
    with tempfile.TemporaryDirectory() as tmp:
        processed = Path(tmp) / "processed"
        ingestjob.ingest(args.demo / "external_feedback.csv", "external", cfg, processed=processed)
        update_units(processed, ("external",), cfg, workers=2, echo=lambda s: None)
        result = build_pain_map(processed, args.period, cfg, seed=args.seed, echo=lambda s: None)
        assigned = pd.read_parquet(period_dir(processed, args.period) / "assignments.parquet")
        units = store.read_units(processed, "external", periods=[args.period],
                              columns=["response_id", "unit_id", "text_masked"])
    reached = set(assigned["response_id"])
    est = _estimates(result.table, truth, plan, args.period)
    rows = _dominated(result.table, truth, plan, args.period)
    answers = truth[(truth["period"] == args.period) & (truth["defect"] == "")]
    has = answers["pains"].str.split(";")
    est["rows"] = est["pain"].map(lambda p: len(rows.get(p, [])))
    est["error"] = est["estimate"] - est["truth"]
    est["respondents"] = [np.mean([r in reached for r in answers.loc[has.map(lambda s, p=p: p in s), "response_id"]])
                          for p in est["pain"]]
    est["sentences"] = est["pain"].map(sentence_recall(answers, units, set(assigned["unit_id"])))
    est["perfect"] = est["truth"] * est["sentences"] - est["truth"]
    pd.set_option("display.width", 160)
    print(est[["pain", "truth", "estimate", "error", "rows", "respondents", "sentences", "perfect"]].round(3)
          .to_string(index=False))
    within = (est["error"].abs() <= 0.05).mean()
    print(f"\n{len(result.table)} map rows; pains found {est['found'].mean():.3f} (target >= 0.90); "
          f"within ±5 pp {within:.3f} (target >= 0.90); mean error {est['error'].mean():+.3f}")
    print(f"planted sentences with a problem or need unit: {est['sentences'].mean():.3f} (mean over pains); "
          f"with perfect topics, within ±5 pp {(est['perfect'].abs() <= 0.05).mean():.3f}, "
          f"mean error {est['perfect'].mean():+.3f}")


if __name__ == "__main__":
    main()
