"""Answer units: sentences (razdel) and, inside a sentence that lists several complaints, clauses.

«Долго ждать; сотрудники грубят, сайт не работает» gives three units. A sentence is cut

* always at ``;``;
* at ``,`` (or a coordinating conjunction from ``text.clause_conjunctions``, with or without a
  comma before it) when the parts on both sides each hold a predicate — a finite verb, an
  infinitive, a short adjective or a predicative word («нет», «невозможно») — and the word after
  the cut is not a subordinator («который», «что», «чтобы», …).

Cuts are token indices into an analysed ``Doc``, so a unit is a span of tokens.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from razdel import sentenize

from .sections import TextConfig

if TYPE_CHECKING:
    from spacy.tokens import Doc


def sentences(text: str) -> Iterator[str]:
    """Sentences of ``text``: razdel within each line (a line break always ends a sentence)."""
    for line in text.split("\n"):
        for s in sentenize(line):
            if any(c.isalnum() for c in s.text):
                yield s.text


def is_predicate(token, config: TextConfig) -> bool:
    """Can ``token`` head a clause of its own?"""
    if token.pos_ in ("VERB", "AUX"):
        forms = token.morph.get("VerbForm")
        return not forms or forms[0] in ("Fin", "Inf")
    if token.pos_ == "ADJ" and "Short" in token.morph.get("Variant"):
        return True
    lemma = token.lemma_.replace("ё", "е")
    return lemma in config.predicatives or token.lower_ in config.predicatives


def clause_bounds(doc: "Doc", config: TextConfig) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of the clauses of one sentence ``doc``."""
    n = len(doc)
    if n == 0:
        return []
    predicate = [is_predicate(t, config) for t in doc]
    # Candidate cut points: (index where the cut starts, index where the next clause starts).
    cuts: list[tuple[int, int, bool]] = []
    i = 0
    while i < n:
        text = doc[i].lower_
        if text == ";":
            cuts.append((i, i + 1, True))
        elif text == ",":
            nxt = i + 1
            if nxt < n and doc[nxt].lower_ in config.clause_conjunctions:
                nxt += 1
            cuts.append((i, nxt, False))
            i = nxt - 1 if nxt > i + 1 else i
        elif text in config.clause_conjunctions and i > 0 and doc[i].pos_ in ("CCONJ", "SCONJ", "ADV", "PART"):
            cuts.append((i, i + 1, False))
        i += 1
    bounds, start = [], 0
    subordinate = False  # inside «…, который …,»: the comma that closes it is not a cut
    for k, (cut, nxt, always) in enumerate(cuts):
        following = cuts[k + 1][0] if k + 1 < len(cuts) else n
        if nxt >= n:
            continue
        if not always:
            first = doc[nxt]
            if first.lower_.replace("ё", "е") in config.subordinators or first.lemma_ in config.subordinators:
                subordinate = True
                continue
            if subordinate and doc[cut].lower_ == ",":
                subordinate = False
                continue
            if not any(predicate[start:cut]) or not any(predicate[nxt:following]):
                continue
        subordinate = False
        if _has_words(doc, start, cut):
            bounds.append((start, cut))
        start = nxt
    if _has_words(doc, start, n):
        bounds.append((start, n))
    elif bounds:
        bounds[-1] = (bounds[-1][0], n)
    return bounds or [(0, n)]


def _has_words(doc: "Doc", start: int, end: int) -> bool:
    return any(t.is_alpha or t.pos_ in ("PROPN", "X") for t in doc[start:end])
