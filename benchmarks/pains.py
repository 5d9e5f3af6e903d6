"""Quality of pain detection: labelled units, real appeals, demo ground truth, ratings.

    .venv/bin/python benchmarks/pains.py

Prints, in one run:

1. the development set ``tests/data/pain_units.yaml`` (the rules' lexicons were extended while
   looking at its errors): per-class precision, recall, F1 and macro-F1 of the rules, and of the
   learned layer by 5-fold stratified cross-validation;
2. the held-out set ``tests/data/pain_units_holdout.yaml`` (written separately, not used to
   build the rules): the same for the rules, and for the learned layer trained on the
   development set;
3. ``../shared/data/kursk_appeals_train.csv`` (2,000 real complaints): the share of appeals with
   at least one problem or need unit (target >= 0.90);
4. the demo data: recovery of the planted unit kinds (each planted unit classified alone) and of
   the planted kinds per answer, and the agreement of kinds with ratings.

Target (issue 4): macro-F1 >= 0.80 on the labelled units.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cxmining.config import load_config  # noqa: E402
from cxmining.pains import KINDS, LearnedClassifier, RuleClassifier, answer_kinds, classify_units, rating_agreement  # noqa: E402
from cxmining.preprocess import TextPipeline, preprocess_frame  # noqa: E402

KURSK = ROOT.parent / "shared" / "data" / "kursk_appeals_train.csv"
LABELS = list(KINDS)


def labelled(pipeline, path: Path) -> tuple[pd.DataFrame, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["units"]
    return pipeline.analyse([d["text"] for d in data]), [d["kind"] for d in data]


def report(title: str, y, pred) -> float:
    print(f"\n{title}")
    print(classification_report(y, pred, labels=LABELS, digits=3, zero_division=0))
    macro = f1_score(y, pred, labels=LABELS, average="macro")
    print(f"macro-F1 {macro:.3f} (target >= 0.80)")
    return macro


def main() -> None:
    cfg = load_config()
    pipeline = TextPipeline.load(cfg)
    rules = RuleClassifier(rules=cfg.pains).fit()

    dev_units, dev_y = labelled(pipeline, ROOT / "tests/data/pain_units.yaml")
    report(f"1. development set ({len(dev_y)} units), rules", dev_y, rules.predict(dev_units))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv_pred = pd.Series(index=dev_units.index, dtype=object)
    y = pd.Series(dev_y)
    for train, test in folds.split(dev_units, y):
        model = LearnedClassifier(rules=cfg.pains).fit(dev_units.iloc[train], y.iloc[train])
        cv_pred.iloc[test] = model.predict(dev_units.iloc[test]).to_numpy()
    report("   learned layer (lemma n-grams + rule scores), 5-fold cross-validation", dev_y, cv_pred.tolist())

    holdout = ROOT / "tests/data/pain_units_holdout.yaml"
    if holdout.exists():
        ho_units, ho_y = labelled(pipeline, holdout)
        report(f"2. held-out set ({len(ho_y)} units), rules", ho_y, rules.predict(ho_units))
        model = LearnedClassifier(rules=cfg.pains).fit(dev_units, dev_y)
        report("   learned layer trained on the development set", ho_y, model.predict(ho_units))

    if KURSK.exists():
        appeals = pd.read_csv(KURSK)
        records = pd.DataFrame({"response_id": appeals["id"].astype(str), "text": appeals["text"], "period": "-"})
        start = time.perf_counter()
        units = classify_units(preprocess_frame(records, cfg, n_workers=2), rules)
        answers = answer_kinds(units)
        share = float(((answers["n_problem"] + answers["n_need"]) > 0).sum()) / len(records)
        print(f"\n3. Kursk appeals: {len(records)} appeals, {len(units)} units "
              f"({time.perf_counter() - start:.0f} s with 2 workers)")
        print(f"   share with at least one problem or need unit: {share:.3f} (target >= 0.90)")
        print("   unit kinds: " + ", ".join(f"{k} {n}" for k, n in units["kind"].value_counts().items()))

    demo = ROOT / "data/raw/demo"
    truth = pd.read_csv(demo / "external_truth.csv", dtype=str)
    planted = [(row.response_id, u["kind"], u["text"]) for row in truth.itertuples() for u in json.loads(row.units)]
    texts = [t for _, _, t in planted]
    demo_units = pipeline.analyse(texts)
    report(f"4. demo: planted units ({len(planted)}) classified one by one, rules",
           [k for _, k, _ in planted], rules.predict(demo_units))
    feedback = pd.read_csv(demo / "external_feedback.csv", sep=";", dtype=str)
    rating = pd.to_numeric(feedback["Оценка"], errors="coerce")
    records = pd.DataFrame({"response_id": feedback["Номер обращения"], "text": feedback["Текст обращения"],
                            "rating": rating.where(rating.between(1, 5)), "period": "-"})
    units = classify_units(preprocess_frame(records, cfg, n_workers=2), rules)
    answers = answer_kinds(units).merge(records[["response_id", "rating"]], on="response_id")
    merged = answers.merge(truth[["response_id", "kinds"]].rename(columns={"kinds": "planted"}), on="response_id")
    print("   per answer, «answer contains kind» against the planted kinds:")
    for kind in ("problem", "need", "praise"):
        want = merged["planted"].fillna("").str.contains(kind)
        got = merged[f"n_{kind}"] > 0
        tp = int((want & got).sum())
        print(f"   {kind:<8} precision {tp / max(int(got.sum()), 1):.3f}  recall {tp / max(int(want.sum()), 1):.3f}"
              f"  (planted in {int(want.sum())} answers)")
    agreement = rating_agreement(answers)
    print("   ratings: share of answers with a problem or need, and mean negativity, by rating")
    print(agreement.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if "spearman_rho" in agreement.attrs:
        print(f"   Spearman rho(rating, negativity) = {agreement.attrs['spearman_rho']:.3f} "
              f"(p = {agreement.attrs['p_value']:.2g})")


if __name__ == "__main__":
    main()
