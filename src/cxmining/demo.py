"""Synthetic demo data for a small city administration, with its ground truth.

Texts come from the template corpus ``data/demo_corpus.yaml`` (planted pains per process and
per survey dimension, praise, neutral context) and ``data/demo_people.yaml`` (fictitious names,
phones, addresses). Each pain has a planted prevalence per quarter; answers are assembled from
sentences and then given the noise of real exports (HTML remnants, typos, personal data).
The same seed gives byte-identical files.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .config import DATA_DIR
from .io import write_csv

CORPUS_PATH = DATA_DIR / "demo_corpus.yaml"
PEOPLE_PATH = DATA_DIR / "demo_people.yaml"
EXTERNAL_FILE = "external_feedback.csv"
INTERNAL_FILE = "internal_survey.csv"
EXTERNAL_TRUTH = "external_truth.csv"
INTERNAL_TRUTH = "internal_truth.csv"
PLANTED_EXTERNAL = "planted_external.csv"
PLANTED_INTERNAL = "planted_internal.csv"
PERIODS = (("2026Q2", datetime(2026, 4, 1)), ("2026Q3", datetime(2026, 7, 1)))
# Answers per process: a city hears more about housing and yards than about building permits.
PROCESS_WEIGHTS = {"construction_permit": 0.08, "land_plots": 0.08, "kindergarten": 0.13, "improvement": 0.17,
                   "housing_utilities": 0.19, "transport": 0.12, "citizen_reception": 0.12, "e_services": 0.11}
CHANNELS = {"портал": 0.30, "опрос": 0.20, "МФЦ": 0.18, "личный приём": 0.12, "телефон": 0.10,
            "электронная почта": 0.10}
CLIENT_TYPES = {
    "гражданин РФ": 0.70, "индивидуальный предприниматель": 0.06, "юридическое лицо": 0.07, "самозанятый": 0.04,
    "иностранный гражданин / лицо без гражданства / с двойным гражданством": 0.03, "объединение граждан": 0.04,
    "служащий другого органа власти": 0.02, "сотрудник бюджетного учреждения": 0.04,
}
EXTERNAL_HEADERS = {
    "response_id": "Номер обращения", "received_at": "Дата обращения", "channel": "Канал поступления",
    "process": "Процесс", "service": "Услуга", "touchpoint": "Точка обращения",
    "client_type": "Категория заявителя", "is_electronic": "Электронная услуга", "rating": "Оценка",
    "text": "Текст обращения",
}
DIMENSION_QUESTIONS = {
    "equipment": "Насколько вы удовлетворены материально-техническим оснащением рабочего места?",
    "regulation": "Насколько вы удовлетворены регламентацией вашей деятельности?",
    "automation": "Насколько вы удовлетворены автоматизацией вашей деятельности?",
    "cooperation_departments": "Насколько вы удовлетворены взаимодействием с другими подразделениями?",
    "cooperation_state": "Насколько вы удовлетворены взаимодействием с государственными органами и организациями?",
    "professional_development": "Насколько вы удовлетворены возможностями для профессионального развития?",
    "career_growth": "Насколько вы удовлетворены возможностями карьерного роста?",
    "colleagues": "Насколько вы удовлетворены отношениями с коллегами?",
    "hr_requests": "Насколько вы удовлетворены скоростью и качеством обработки ваших обращений кадровой службой?",
    "overall": "Насколько вы в целом удовлетворены работой в администрации?",
}
LIKERT_WORDS = {5: "Полностью удовлетворён", 4: "Скорее удовлетворён", 3: "Частично удовлетворён",
                2: "Скорее не удовлетворён", 1: "Совсем не удовлетворён"}
# Planted survey: mean score per dimension, its change in the second wave, and each
# dimension's weight in overall satisfaction (the drivers a later analysis should find).
SURVEY_PLAN = {  # dimension: (mean in first wave, change in second wave, driver weight)
    "equipment": (3.1, 0.0, 0.15), "regulation": (3.4, 0.0, 0.05), "automation": (2.7, 0.6, 0.20),
    "cooperation_departments": (3.3, 0.0, 0.10), "cooperation_state": (3.2, -0.1, 0.05),
    "professional_development": (3.5, 0.0, 0.10), "career_growth": (2.6, 0.0, 0.25),
    "colleagues": (4.2, 0.0, 0.05), "hr_requests": (3.3, -0.5, 0.05),
}
EXTERNAL_DEFECTS = (("text", "<p>&nbsp;</p>", "empty text"), ("rating", "10", "rating 10 out of range 1–5"),
                    ("received_at", "31.06.2026", "unparseable received_at '31.06.2026'"))
# Chance that a sentence gets one typo: pain and context sentences, and the others.
TYPO_MAIN, TYPO_SIDE = 0.15, 0.1
TINY_DEPARTMENT_SIZE = 3  # one department stays under the anonymity threshold in every wave
_WORD = re.compile(r"[А-Яа-яЁё]{5,}")
_SLOT = re.compile(r"\{(\w+)\}")
PII_SLOTS = ("name", "phone", "address", "email")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


class People:
    """Fictitious personal data drawn from ``demo_people.yaml`` with a given generator."""

    def __init__(self, people: dict, slots: dict, rng: np.random.Generator):
        self.p, self.slots, self.rng = people, slots, rng

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def name(self) -> str:
        female = self.rng.random() < 0.55
        surname = self.pick(self.p["surnames"])
        if female:
            surname = re.sub(r"ий$", "ая", surname) if surname.endswith("ий") else (
                surname + "а" if re.search(r"(ов|ев|ёв|ин|ын)$", surname) else surname)
        first = self.pick(self.p["female_names" if female else "male_names"])
        patr = self.pick(self.p["patronymics"])[1 if female else 0]
        form = self.rng.random()
        if form < 0.55:
            return f"{surname} {first} {patr}"
        if form < 0.8:
            return f"{surname} {first[0]}.{patr[0]}."
        return f"{first} {surname}"

    def phone(self) -> str:
        d = [int(x) for x in self.rng.integers(0, 10, 7)]
        a, b, c = "".join(map(str, d[:3])), "".join(map(str, d[3:5])), "".join(map(str, d[5:]))
        if self.rng.random() < 0.2:
            return f"8 ({self.p['landline_code']}) {d[0]}{d[1]}-{d[2]}{d[3]}-{d[4]}{d[5]}"
        pre = self.pick(self.p["mobile_prefixes"])
        return self.pick([f"8 ({pre}) {a}-{b}-{c}", f"+7 {pre} {a} {b} {c}", f"8{pre}{a}{b}{c}",
                          f"+7({pre}){a}-{b}-{c}", f"8-{pre}-{a}-{b}-{c}"])

    def email(self) -> str:
        return f"{self.pick(self.p['email_latin'])}{int(self.rng.integers(1, 99))}@{self.pick(self.p['email_domains'])}"

    def address(self) -> str:
        return self.pick(self.p["house_formats"]).format(
            street=self.pick(self.slots["street"]), house=int(self.rng.integers(1, 120)),
            flat=int(self.rng.integers(1, 200)))


class Writer:
    """Fills templates and adds export noise; records every piece of personal data it inserts."""

    def __init__(self, corpus: dict, people: dict, rng: np.random.Generator):
        self.slots, self.rng = corpus["slots"], rng
        self.people = People(people, corpus["slots"], rng)

    def pick(self, items):
        return self.people.pick(items)

    def sentence(self, template: str, pii: list, typo_rate: float = 0.0) -> str:
        text = _SLOT.sub(lambda m: m.group(0) if m.group(1) in PII_SLOTS else self.pick(self.slots[m.group(1)]),
                         template)
        if typo_rate and self.rng.random() < typo_rate:
            text = self.typo(text)

        def personal(m):  # after typos, so the recorded personal data is exactly what the text holds
            value = getattr(self.people, m.group(1))()
            pii.append({"type": m.group(1), "value": value})
            return value
        text = _SLOT.sub(lambda m: personal(m) if m.group(1) in PII_SLOTS else m.group(0), text)
        return text[0].upper() + text[1:] if text else text

    def typo(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        if not words:
            return text
        m = self.pick(words)
        w, i = m.group(0), int(self.rng.integers(1, len(m.group(0)) - 2))
        op = int(self.rng.integers(3))
        new = (w[:i] + w[i + 1] + w[i] + w[i + 2:]) if op == 0 else (w[:i] + w[i + 1:]) if op == 1 else \
            (w[:i] + w[i] + w[i:])
        return text[:m.start()] + new + text[m.end():]

    def noisy(self, sentences: list[str], channel: str, keep: list[str] = ()) -> str:
        """Join sentences the way real exports look; sentences holding a string of ``keep``
        (the personal data recorded as ground truth) keep their case and punctuation."""
        r = self.rng.random
        free = [not any(k in s for k in keep) for s in sentences]
        if r() < 0.08:
            sentences = [s.lower().rstrip(".") if f else s for s, f in zip(sentences, free)]
        if r() < 0.1:
            sentences = [re.sub(r"[.!?]$", self.pick(["!!!", "...", "!!", "??"]), s) if f else s
                         for s, f in zip(sentences, free)]
        if channel in ("портал", "электронная почта") and r() < 0.6:
            sep = self.pick([" ", "<br>", "<br />", "&nbsp;", "</p><p>"])
            body = sep.join(sentences).replace("«", "&laquo;").replace("»", "&raquo;")
            return f"<p>{body}&nbsp;</p>" if r() < 0.5 else f"<p>{body}</p>"
        return self.pick([" ", "  ", "\n"]).join(sentences)


def _draw(rng: np.random.Generator, weights: dict) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def plan_prevalence(corpus: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Planted prevalence of every pain per period: known, and different between the quarters."""
    rows = []
    for proc in corpus["processes"]:
        pains = proc["pains"]
        new_one = int(rng.integers(len(pains)))  # appears only in the second quarter
        for j, pain in enumerate(pains):
            base = rng.uniform(0.10, 0.32) if pain["kind"] == "problem" else rng.uniform(0.08, 0.22)
            factor = rng.choice([0.4, 0.7, 1.0, 1.0, 1.6, 2.0])
            second = min(base * factor, 0.5)
            first = 0.0 if j == new_one and proc["key"] in ("improvement", "e_services", "kindergarten") else base
            for (period, _), p in zip(PERIODS, (first, second)):
                rows.append({"process_key": proc["key"], "process": proc["name"], "pain": f"{proc['key']}.{pain['key']}",
                             "label": pain["label"], "kind": pain["kind"], "taxonomy": pain["taxonomy"],
                             "period": period, "planted_prevalence": round(float(p), 3),
                             "severity": round(float(rng.uniform(0.5, 1.5)), 2) if pain["kind"] == "problem" else 0.0})
    plan = pd.DataFrame(rows)
    # One severity per pain, whatever the period.
    plan["severity"] = plan.groupby("pain")["severity"].transform("first")
    return plan


def generate_external(corpus: dict, people: dict, n: int, rng: np.random.Generator):
    """Return (export, truth, planted) DataFrames for ``n`` external answers."""
    w = Writer(corpus, people, rng)
    plan = plan_prevalence(corpus, rng)
    procs = {p["key"]: p for p in corpus["processes"]}
    pains = {f"{p['key']}.{x['key']}": x for p in corpus["processes"] for x in p["pains"]}
    severity = dict(zip(plan["pain"], plan["severity"]))
    planned = {key: list(zip(group["pain"], group["kind"], group["planted_prevalence"]))
               for key, group in plan.groupby(["process_key", "period"], sort=False)}
    rows, truth = [], []
    for _ in range(n):
        period, start = PERIODS[int(rng.random() < 0.52)]
        when = start + timedelta(days=int(rng.integers(0, 91)), minutes=int(rng.integers(8 * 60, 20 * 60)))
        key = _draw(rng, PROCESS_WEIGHTS)
        proc, channel = procs[key], _draw(rng, CHANNELS)
        drawn = [(pain, kind) for pain, kind, p in planned[(key, period)] if rng.random() < p]
        pii: list = []
        units = []  # (kind, pain, text)
        if rng.random() < 0.45:
            units.append(("other", None, w.sentence(w.pick(corpus["greetings"]), pii)))
        if rng.random() < 0.08:
            units.append(("other", None, w.sentence(w.pick(corpus["introductions"]), pii)))
        if rng.random() < 0.45:
            units.append(("other", None, w.sentence(w.pick(proc["context"]), pii, TYPO_MAIN)))
        body = []
        for pain, kind in drawn:
            body.append((kind, pain, w.sentence(w.pick(pains[pain]["templates"]), pii, TYPO_MAIN)))
        if not drawn:
            if rng.random() < 0.75:
                body.append(("praise", None, w.sentence(w.pick(proc["praise"] + corpus["generic_praise"]), pii, TYPO_SIDE)))
            else:
                body.append(("other", None, w.sentence(w.pick(corpus["generic_other"]), pii, TYPO_SIDE)))
        elif rng.random() < 0.15:  # praise with a reservation: mixed answers
            body.append(("praise", None, w.sentence(w.pick(proc["praise"]), pii, TYPO_SIDE)))
        order = rng.permutation(len(body))
        units += [body[i] for i in order]
        if rng.random() < (0.4 if channel == "электронная почта" else 0.04):
            units.append(("other", None, w.sentence(w.pick(corpus["contacts"]), pii)))
        if rng.random() < 0.35:
            units.append(("other", None, w.sentence(w.pick(corpus["signoffs"]), pii)))
        kinds = [u[0] for u in units]
        burden = sum(severity[p] for k, p, _ in units if k == "problem")
        score = 4.7 - 1.1 * burden - 0.3 * kinds.count("need") + rng.normal(0, 0.45)
        rated = channel in ("портал", "опрос") or rng.random() < 0.2
        electronic = channel == "портал" or key == "e_services" or rng.random() < 0.2
        rows.append({
            "received_at": when, "channel": channel, "process": proc["name"],
            "service": w.pick(proc["services"]), "touchpoint": w.pick(proc["touchpoints"]),
            "client_type": _draw(rng, CLIENT_TYPES), "is_electronic": "да" if electronic else "нет",
            "rating": str(int(np.clip(round(score), 1, 5))) if rated else "",
            "text": w.noisy([u[2] for u in units], channel, [p["value"] for p in pii]),
        })
        truth.append({"period": period, "process_key": key,
                      "pains": ";".join(sorted({u[1] for u in units if u[1]})),
                      "kinds": ";".join(k for k in ("problem", "need", "praise", "other") if k in kinds),
                      "units": json.dumps([{"kind": k, "pain": p, "text": t} for k, p, t in units], ensure_ascii=False),
                      "pii": json.dumps(pii, ensure_ascii=False)})
    export, truth = pd.DataFrame(rows), pd.DataFrame(truth)
    order = export["received_at"].argsort(kind="stable")
    export, truth = export.iloc[order].reset_index(drop=True), truth.iloc[order].reset_index(drop=True)
    ids = [f"E{i + 1:05d}" for i in range(len(export))]
    export.insert(0, "response_id", ids)
    truth.insert(0, "response_id", ids)
    export["received_at"] = export["received_at"].map(lambda d: d.strftime("%d.%m.%Y %H:%M"))
    # A few broken rows, as every real export has: ingest must quarantine exactly these.
    truth["defect"] = ""
    for j, i in enumerate(sorted(rng.choice(len(export), size=max(1, len(export) // 300), replace=False))):
        column, value, reason = EXTERNAL_DEFECTS[j % len(EXTERNAL_DEFECTS)]
        export.loc[i, column] = value
        truth.loc[i, "defect"] = reason
        if column == "text":  # the text is gone, and the personal data with it
            truth.loc[i, ["units", "pii"]] = "[]"
    clean = truth[truth["defect"] == ""]  # the rows that ingest accepts
    realized = clean.assign(pain=clean.pains.str.split(";")).explode("pain")
    counts = realized.groupby(["period", "pain"]).size()
    totals = clean.groupby(["period", "process_key"]).size()
    plan["n_answers"] = [int(totals.get((p, k), 0)) for p, k in zip(plan.period, plan.process_key)]
    plan["realized_prevalence"] = [round(counts.get((p, x), 0) / max(t, 1), 4)
                                   for p, x, t in zip(plan.period, plan.pain, plan.n_answers)]
    return export.rename(columns=EXTERNAL_HEADERS), truth, plan


def generate_internal(corpus: dict, people: dict, n: int, rng: np.random.Generator):
    """Return (export, truth, planted) DataFrames for about ``n`` survey respondents over two waves."""
    w = Writer(corpus, people, rng)
    internal = corpus["internal"]
    departments = internal["departments"]
    tiny = departments[-1]
    dept_effect = {d: round(float(rng.normal(0, 0.35)), 2) for d in departments}
    worst = departments[int(rng.integers(len(departments) - 1))]  # its equipment worsens in the second wave
    weights = rng.dirichlet(np.full(len(departments) - 1, 4.0))
    rows, truth, planted = [], [], []
    for wave, (period, start) in enumerate(PERIODS):
        size = n // 2 + (n % 2) * wave
        sizes = dict(zip(departments[:-1], np.round(weights * (size - TINY_DEPARTMENT_SIZE)).astype(int)))
        sizes[tiny] = TINY_DEPARTMENT_SIZE
        for dept in departments:
            means = {}
            for dim, (mean, change, _) in SURVEY_PLAN.items():
                m = mean + change * wave + dept_effect[dept]
                if dim == "equipment" and dept == worst and wave == 1:
                    m -= 0.8
                means[dim] = round(float(np.clip(m, 1.3, 4.7)), 2)
                planted.append({"period": period, "department": dept, "dimension": dim,
                                "planted_mean": means[dim], "driver_weight": SURVEY_PLAN[dim][2]})
            for _ in range(int(sizes[dept])):
                latent = rng.normal(0, 0.5)
                scores = {d: int(np.clip(round(m + latent + rng.normal(0, 0.7)), 1, 5)) for d, m in means.items()}
                overall = 0.5 + 0.9 * sum(SURVEY_PLAN[d][2] * s for d, s in scores.items()) + rng.normal(0, 0.35)
                scores["overall"] = int(np.clip(round(overall), 1, 5))
                pii, pains, problems, suggestions = [], [], [], []
                for dim in rng.permutation(list(SURVEY_PLAN)):
                    spec = internal["dimensions"][dim]
                    if scores[dim] <= 2 and rng.random() < 0.55:
                        pain = w.pick([p for p in spec["pains"] if p["kind"] == "problem"] or spec["pains"])
                        problems.append(w.sentence(w.pick(pain["templates"]), pii, TYPO_SIDE))
                        pains.append(f"{dim}.{pain['key']}")
                    needs = [p for p in spec["pains"] if p["kind"] == "need"]
                    if needs and scores[dim] <= 3 and rng.random() < 0.12:
                        pain = w.pick(needs)
                        suggestions.append(w.sentence(w.pick(pain["templates"]), pii, TYPO_SIDE))
                        pains.append(f"{dim}.{pain['key']}")
                    if scores[dim] == 5 and rng.random() < 0.06:
                        suggestions.append(w.sentence(w.pick(spec["praise"]), pii, TYPO_SIDE))
                answers = {k: (LIKERT_WORDS[s] if rng.random() > 0.03 else "Затрудняюсь ответить")
                           for k, s in scores.items()}
                rows.append({"period": f"{wave + 2} квартал 2026", "department": dept,
                             "position_group": _draw(rng, {g: x for g, x in zip(internal["position_groups"], (0.2, 0.65, 0.15))}),
                             "tenure_group": w.pick(internal["tenure_groups"]),
                             **{DIMENSION_QUESTIONS[k]: v for k, v in answers.items()},
                             "Что мешает вам работать эффективнее?": " ".join(problems[:3]),
                             "Ваши предложения по улучшению работы": " ".join(suggestions[:2])})
                truth.append({"period": period, "department": dept,
                              **{f"score_{k}": (s if answers[k] != "Затрудняюсь ответить" else "") for k, s in scores.items()},
                              "pains": ";".join(sorted(pains)), "pii": json.dumps(pii, ensure_ascii=False)})
    ids = [f"R{i + 1:04d}" for i in range(len(rows))]
    truth = pd.DataFrame(truth)
    truth["defect"] = ""
    for i in sorted(rng.choice(len(rows), size=max(1, len(rows) // 100), replace=False)):
        rows[i][DIMENSION_QUESTIONS["regulation"]] = "Нормально"
        truth.loc[i, "defect"] = "regulation: unknown answer 'Нормально'"
    export = pd.DataFrame(rows).rename(columns={"period": "Период опроса", "department": "Подразделение",
                                                 "position_group": "Группа должностей", "tenure_group": "Стаж работы"})
    export.insert(0, "Номер анкеты", ids)
    truth.insert(0, "respondent_id", ids)
    return export, truth, pd.DataFrame(planted)


def write_demo(out: str | Path, seed: int = 0, n_external: int = 3000, n_internal: int = 400) -> list[Path]:
    """Generate the demo set into ``out`` and return the written paths (deterministic per seed)."""
    corpus, people = load_yaml(CORPUS_PATH), load_yaml(PEOPLE_PATH)
    ext_rng, int_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    export, truth, planted = generate_external(corpus, people, n_external, ext_rng)
    survey, survey_truth, survey_planted = generate_internal(corpus, people, n_internal, int_rng)
    out = Path(out)
    # The external export mimics a portal export: UTF-8, `;`-separated, Russian headers.
    paths = [write_csv(export, out / EXTERNAL_FILE, sep=";")]
    for frame, name in ((survey, INTERNAL_FILE), (truth, EXTERNAL_TRUTH), (planted, PLANTED_EXTERNAL),
                        (survey_truth, INTERNAL_TRUTH), (survey_planted, PLANTED_INTERNAL)):
        paths.append(write_csv(frame, out / name))
    return paths
