"""The Russian ``spacy.Language``: razdel tokens, slovnet morphology, pymorphy3 lemmas.

Everything runs offline from models bundled in natasha's wheel (navec embeddings, slovnet
morphology and NER). natasha's own ``MorphVocab`` is not used: it imports pymorphy2, which fails
on Python >= 3.11; the lemmatizer here asks pymorphy3 for the parse that agrees with slovnet's
POS and features, as ``MorphVocab.lemmatize`` does.

>>> nlp = build_nlp()                      # doctest: +SKIP
>>> [(t.text, t.pos_, t.lemma_) for t in nlp("Дороги не чистят")]  # doctest: +SKIP
[('Дороги', 'NOUN', 'дорога'), ('не', 'PART', 'не'), ('чистят', 'VERB', 'чистить')]

Components are registered as spaCy factories (``cxmining_slovnet_morph``,
``cxmining_pymorphy3_lemmatizer``); models are loaded once per process and shared.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import natasha
import spacy
from razdel import tokenize as razdel_tokenize
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from .batching import budget_batches
from .sections import TextConfig

NATASHA_DATA = Path(natasha.__file__).parent / "data"
NAVEC_PATH = NATASHA_DATA / "emb" / "navec_news_v1_1B_250K_300d_100q.tar"
MORPH_PATH = NATASHA_DATA / "model" / "slovnet_morph_news_v1.tar"
NER_PATH = NATASHA_DATA / "model" / "slovnet_ner_news_v1.tar"
PLACEHOLDER = re.compile(r"\[[А-ЯЁ_]+\]")
BATCH_SIZE = 64

# slovnet (Universal Dependencies) POS -> pymorphy3 (OpenCorpora) POS that may carry the lemma.
UD_TO_OC = {
    "NOUN": {"NOUN"}, "PROPN": {"NOUN"}, "ADJ": {"ADJF", "ADJS", "COMP"},
    "VERB": {"VERB", "INFN", "PRTF", "PRTS", "GRND"}, "AUX": {"VERB", "INFN"},
    "ADV": {"ADVB", "COMP", "PRED"}, "NUM": {"NUMR", "NUMB"}, "PRON": {"NPRO"}, "DET": {"ADJF", "NPRO"},
    "ADP": {"PREP"}, "CCONJ": {"CONJ"}, "SCONJ": {"CONJ"}, "PART": {"PRCL"}, "INTJ": {"INTJ"},
}
FEATS_TO_OC = {
    "Case": {"Nom": "nomn", "Gen": "gent", "Dat": "datv", "Acc": "accs", "Ins": "ablt", "Loc": "loct"},
    "Number": {"Sing": "sing", "Plur": "plur"},
    "Gender": {"Masc": "masc", "Fem": "femn", "Neut": "neut"},
    "Tense": {"Past": "past", "Pres": "pres", "Fut": "futr"},
}
_NO_LEMMA_POS = {"PUNCT", "SYM", "X"}
# Abbreviations that pymorphy3 would read as words («тел.» → «тело»): their lemma is the abbreviation.
ABBREVIATIONS = frozenset({"тел", "ул", "д", "г", "кв", "т", "им", "р", "руб", "тыс", "млн", "пр", "пер", "корп", "стр",
                           "обл", "р-н", "мкр", "каб", "доб", "моб", "эл", "см", "напр", "т.е", "т.к", "т.д", "т.п"})
# pymorphy3 POS -> UD, for correcting slovnet when pymorphy3 knows no parse of its POS («грубят» NOUN → VERB).
OC_TO_UD = {"VERB": ("VERB", "VerbForm=Fin"), "INFN": ("VERB", "VerbForm=Inf"), "GRND": ("VERB", "VerbForm=Conv"),
            "PRTF": ("VERB", "VerbForm=Part"), "PRTS": ("VERB", "Variant=Short|VerbForm=Part"),
            "ADJS": ("ADJ", "Variant=Short"), "PRED": ("ADV", ""), "ADVB": ("ADV", "")}


# ------------------------------------------------------------------------------ model loaders
@lru_cache(maxsize=2)
def load_navec(path: str | Path = NAVEC_PATH):
    """navec embeddings (bundled with natasha)."""
    from navec import Navec

    return Navec.load(str(path))


@lru_cache(maxsize=2)
def load_morph_tagger(path: str | Path = MORPH_PATH, batch_size: int = BATCH_SIZE):
    """slovnet morphology tagger with navec injected."""
    from slovnet import Morph

    return Morph.load(str(path), batch_size=batch_size).navec(load_navec())


@lru_cache(maxsize=2)
def load_ner(path: str | Path = NER_PATH, batch_size: int = BATCH_SIZE):
    """slovnet NER (PER, LOC, ORG) with navec injected."""
    from slovnet import NER

    return NER.load(str(path), batch_size=batch_size).navec(load_navec())


@lru_cache(maxsize=1)
def load_pymorphy():
    """pymorphy3's Russian analyser (dictionaries from the pymorphy3-dicts-ru wheel)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


# ------------------------------------------------------------------------------ tokenizer
class RazdelTokenizer:
    """spaCy tokenizer using razdel; masking placeholders such as ``[ФИО]`` stay one token."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = prev_end = 0
        pieces = []
        for m in PLACEHOLDER.finditer(text):
            pieces.append((pos, m.start(), False))
            pieces.append((m.start(), m.end(), True))
            pos = m.end()
        pieces.append((pos, len(text), False))
        for start, end, whole in pieces:
            if start == end:
                continue
            if whole:
                spans = [(start, end)]
            else:
                spans = [(start + t.start, start + t.stop) for t in razdel_tokenize(text[start:end])]
            for s, e in spans:
                if words:
                    spaces[-1] = s > prev_end
                words.append(text[s:e])
                spaces.append(False)
                prev_end = e
        if words:
            spaces[-1] = len(text) > prev_end and text[prev_end:].startswith(" ")
        return Doc(self.vocab, words=words, spaces=spaces)

    def to_bytes(self, **kwargs):  # spaCy serialisation protocol: nothing to store
        return b""

    def from_bytes(self, data, **kwargs):
        return self


# ------------------------------------------------------------------------------ components
class SlovnetMorph:
    """Sets ``token.pos_`` and ``token.morph`` from slovnet, in batches."""

    def __init__(self, tagger):
        self.tagger = tagger

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = BATCH_SIZE, window: int = 2048):
        # slovnet pads a batch to its longest item: tag a window of docs sorted by length, so
        # batches hold docs of similar length, then give the docs back in their order.
        buffer = []
        for doc in docs:
            buffer.append(doc)
            if len(buffer) >= window:
                yield from self._tag(buffer)
                buffer = []
        if buffer:
            yield from self._tag(buffer)

    def _tag(self, docs: list[Doc]) -> list[Doc]:
        order = sorted((i for i, d in enumerate(docs) if len(d)), key=lambda i: len(docs[i]))
        for batch in budget_batches(order, lambda i: len(docs[i])):
            self._tag_batch(docs, batch)
        return docs

    def _tag_batch(self, docs: list[Doc], batch: list[int]) -> None:
        markups = self.tagger.map([[t.text for t in docs[i]] for i in batch])
        for i, markup in zip(batch, markups):
            doc = docs[i]
            for token, tag in zip(doc, markup.tokens):
                if PLACEHOLDER.fullmatch(token.text):
                    token.pos_ = "PROPN" if token.text == "[ФИО]" else "X"
                    continue
                token.pos_ = tag.pos
                if tag.feats:
                    token.set_morph("|".join(f"{k}={v}" for k, v in sorted(tag.feats.items())))


class Pymorphy3Lemmatizer:
    """Sets ``token.lemma_`` to pymorphy3's normal form of the parse agreeing with slovnet's POS."""

    def __init__(self, morph, cache_size: int = 500_000):
        self.morph = morph
        self.cache: dict[tuple, str] = {}
        self.cache_size = cache_size

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            lemma, fix = self.analyse(token.text, token.pos_, str(token.morph))
            token.lemma_ = lemma
            if fix is not None:
                token.pos_, morph = fix
                token.set_morph(morph or None)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = BATCH_SIZE):
        for doc in docs:
            yield self(doc)

    def lemma(self, word: str, pos: str, morph: str = "") -> str:
        """The lemma of ``word`` given its UD POS and features string (``Case=Nom|Number=Sing``)."""
        return self.analyse(word, pos, morph)[0]

    def analyse(self, word: str, pos: str, morph: str = "") -> tuple[str, tuple[str, str] | None]:
        """(lemma, corrected (POS, features) or ``None``), cached by (word, POS, features)."""
        key = (word, pos, morph)
        cached = self.cache.get(key)
        if cached is None:
            cached = self._analyse(word, pos, morph)
            if len(self.cache) < self.cache_size:
                self.cache[key] = cached
        return cached

    def _analyse(self, word: str, pos: str, morph: str):
        lower = word.lower()
        if pos in _NO_LEMMA_POS or lower in ABBREVIATIONS or not any(c.isalpha() for c in word):
            return lower, None
        wanted = UD_TO_OC.get(pos, set())
        feats = dict(f.split("=", 1) for f in morph.split("|") if "=" in f)
        grams = {FEATS_TO_OC[k][v] for k, v in feats.items() if k in FEATS_TO_OC and v in FEATS_TO_OC[k]}
        best, best_score = None, -1.0
        for parse in self.morph.parse(lower):
            score = (10.0 if parse.tag.POS in wanted else 0.0) + len(grams & parse.tag.grammemes) + parse.score
            if score > best_score:
                best, best_score = parse, score
        if best is None:
            return lower, None
        fix = None
        if best_score < 10.0 and best.tag.POS in OC_TO_UD and best.is_known:
            fix = OC_TO_UD[best.tag.POS]  # pymorphy3 knows no reading with slovnet's POS
        return best.normal_form, fix


@Language.factory("cxmining_slovnet_morph", default_config={"model_path": str(MORPH_PATH)})
def make_slovnet_morph(nlp: Language, name: str, model_path: str):
    return SlovnetMorph(load_morph_tagger(model_path))


@Language.factory("cxmining_pymorphy3_lemmatizer")
def make_pymorphy3_lemmatizer(nlp: Language, name: str):
    return Pymorphy3Lemmatizer(load_pymorphy())


def build_nlp(morph_path: str | Path = MORPH_PATH) -> Language:
    """The Russian pipeline: razdel tokenizer → slovnet morphology → pymorphy3 lemmas."""
    nlp = spacy.blank("ru")
    nlp.tokenizer = RazdelTokenizer(nlp.vocab)
    nlp.add_pipe("cxmining_slovnet_morph", config={"model_path": str(morph_path)})
    nlp.add_pipe("cxmining_pymorphy3_lemmatizer")
    return nlp


def doc_from_columns(vocab: Vocab, tokens: Sequence[str], spaces: Sequence[bool], pos: Sequence[str],
                     morph: Sequence[str], lemmas: Sequence[str]) -> Doc:
    """Rebuild an analysed ``Doc`` from a units-table row, for ``Matcher`` use without re-running models."""
    return Doc(vocab, words=list(tokens), spaces=[bool(s) for s in spaces], pos=list(pos),
               morphs=[m or "" for m in morph], lemmas=list(lemmas))


# ------------------------------------------------------------------------------ analysis text
@lru_cache(maxsize=8)
def _stopwords(extra: frozenset[str], keep: frozenset[str]) -> frozenset[str]:
    from spacy.lang.ru.stop_words import STOP_WORDS

    return frozenset({w.replace("ё", "е") for w in STOP_WORDS} | extra) - keep


def analysis_tokens(lemmas: Sequence[str], pos: Sequence[str], config: TextConfig) -> list[str]:
    """The unit's analysis tokens: lemmas (ё → е) without stopwords, numbers, punctuation and
    placeholders; «не» joined to the next content word («не работает» → ``не_работать``)."""
    stop = _stopwords(config.stopwords, config.keep)
    out: list[str] = []
    negate = False
    for lemma, p in zip(lemmas, pos):
        lemma = lemma.lower().replace("ё", "е")
        if p in ("PUNCT", "SYM", "NUM", "X") or PLACEHOLDER.fullmatch(lemma.upper()) or not any(
                c.isalpha() for c in lemma):
            if p != "PUNCT" or lemma in ",":
                continue
            negate = False  # negation does not cross a full stop, colon or dash
            continue
        if lemma == "не" or (lemma == "ни" and negate):
            negate = True
            continue
        if negate:
            if lemma in config.negation_skip:
                continue
            negate = False
            if lemma in stop:  # «не хочу», «не было»: a negated stopword says nothing about the topic
                continue
            out.append(f"не_{lemma}")
            continue
        if lemma in stop or len(lemma) < 2:
            continue
        out.append(lemma)
    return out
