"""Personal-data masking: names, phones, e-mails, SNILS, INN, passports, bank cards, addresses.

Detectors, strongest first (an earlier detector wins an overlap):

* e-mail: a regular expression;
* numbers introduced by their name («СНИЛС», «ИНН», «паспорт … серия», «карта»): masked as that
  type whatever their checksum (a mistyped number is still personal data);
* bank cards: Luhn (``stdnum.luhn``); phones: Google's ``phonenumbers`` for region RU, plus
  local 5–7 digit numbers introduced by «тел.»; SNILS: its checksum; INN: ``stdnum.ru.inn``;
* street addresses with a house number: patterns built from the configured street types;
* names: slovnet's NER (PER), run only on texts with a capitalised word that can be a name,
  widened to adjacent initials; initials patterns («Иванов И.И.», «А. В. Петрова»); and pymorphy3
  name tags for sequences such as «иванов иван», which NER misses in lower case.

Microsoft Presidio was evaluated and not used: its ``AnalyzerEngine`` builds a spaCy NLP engine
(and tries to download a model when none is installed), its URL recogniser pulls a public-suffix
list from the network, and it adds per-text overhead; the detectors above are the same libraries
Presidio would call, run offline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import phonenumbers
from stdnum import luhn
from stdnum.ru import inn as stdnum_inn

from .sections import TextConfig
from .batching import budget_batches

# Lower number = stronger detector.
PRIORITY = {"email": 0, "context": 1, "card": 2, "phone": 3, "snils": 4, "inn": 5, "passport": 6, "address": 7,
            "name": 8}


@dataclass(frozen=True)
class Span:
    """A personal-data mention: ``text[start:end]`` of ``type``; ``rule`` says which detector found it."""

    start: int
    end: int
    type: str
    rule: str


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_DIGITS = re.compile(r"\d")
_SNILS = re.compile(r"(?<![\d-])\d{3}[- ]?\d{3}[- ]?\d{3}[- ]{0,2}\d{2}(?![\d-])")
_INN = re.compile(r"(?<![\d-])(?:\d{12}|\d{10})(?![\d-])")
_CARD = re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{4}(?:\d{1,3})?(?![\d-])")
_CTX_NUMBER = r"(\d[\d \-]{8,22}\d)"
_CONTEXT = (
    ("snils", re.compile(r"(?i)\bснилс\w*\s*(?:№|N|номер)?\s*[:\-]?\s*" + _CTX_NUMBER)),
    ("inn", re.compile(r"(?i)\bинн\s*(?:№|N|номер)?\s*[:\-]?\s*(\d{10,12})(?!\d)")),
    ("card", re.compile(r"(?i)\bкарт\w*\s*(?:№|N|номер)?\s*[:\-]?\s*" + _CTX_NUMBER)),
    ("passport", re.compile(
        r"(?i)\b(?:паспорт\w*(?:\s+[а-яё]+){0,2}|серии|серия)\s*(?:(?:серии|серия|гражданина\s+рф|рф|№)\s*)?[:\-]?\s*"
        r"(\d{2}\s?\d{2}\s*(?:(?:№|N|номер)\s*)?\d{6})(?!\d)")),
)
_PHONE_EXT = re.compile(r"(?i)\s*[,(]?\s*(?:доб|вн|ext)\b.*$")
_PHONE_FALLBACK = re.compile(r"(?<![\d\w])(?:\+7|8)[\s\-(]*\d{3}[\s\-)]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_UPPER = "А-ЯЁ"
_LOWER = "а-яё"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
_INITIALS = rf"[{_UPPER}]\.\s?(?:[{_UPPER}]\.?)?"
_INITIALS_NAME = re.compile(
    rf"(?<![{_LOWER}{_UPPER}])(?:{_NAME_WORD}\s{{1,2}}[{_UPPER}]\.\s?(?:[{_UPPER}]\.|[{_UPPER}](?![{_LOWER}]))?"
    rf"|[{_UPPER}]\.\s?(?:[{_UPPER}]\.\s?)?{_NAME_WORD})"
)
_ADJACENT_INITIALS = re.compile(rf"^\s{{1,2}}[{_UPPER}]\.\s?(?:[{_UPPER}]\.)?")
_TITLE_WORD = re.compile(rf"(?<![{_LOWER}{_UPPER}\[])[{_UPPER}][{_LOWER}]+")
_SEGMENT = re.compile(rf"(?:^|(?<=[.,;:!?()\n—\d]))\s*((?:[{_UPPER}][{_LOWER}{_UPPER}]+(?:-[{_UPPER}][{_LOWER}{_UPPER}]+)?\s?){{1,3}})"
                      rf"\s*(?=[.,;:!?()\n—]|\+|\d|$)")
_WORD = re.compile(rf"[{_LOWER}{_UPPER}]+(?:-[{_LOWER}{_UPPER}]+)?")
_NOT_AFTER_HOUSE = (r"(?!\s*(?:-?\s*(?:х|ти|ми|ю|и|й|го|ое)\b)?\s*(?:дн|дня|дней|час|раз|год|лет|месяц|недел|рубл|руб|"
                    r"мин|сек|%|человек|чел|метр|м\b|км|шт|штук|этаж|подъезд|минут|раза|числа|января|февраля|марта|"
                    r"апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря))")


@lru_cache(maxsize=8)
def _address_patterns(street_types: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    types = sorted(street_types, key=len, reverse=True)
    type_alt = "|".join(re.escape(t) for t in types)
    # «пер.», «ул.»: abbreviations take an optional dot; full words must end at a word boundary.
    typ = rf"(?i:{type_alt})(?:\.|(?![{_LOWER}\-]))"  # «Ул.», «Переулок» at a sentence start too
    name = (rf"(?:\d{{1,3}}(?:-?(?:го|й|я|ой|ей))?\s+(?:лет\s+)?)?[{_UPPER}{_LOWER}][{_LOWER}\-]+"
            rf"(?:\s+(?:[{_UPPER}][{_LOWER}\-]+|им\.|имени))*?")
    house = (rf"(?:,?\s*(?:(?:д|дом)\.?\s*)?№?\s*\d{{1,4}}(?:\s?[а-дА-Д](?![{_LOWER}]))?(?:\s?[/-]\s?\d{{1,4}}"
             rf"(?:[а-д](?![{_LOWER}]))?)?(?:-?[а-д](?![{_LOWER}]))?){_NOT_AFTER_HOUSE}")
    tail = (rf"(?:,?\s*(?:корп|корпус|к|стр|строение|кв|квартира|комн|комната|офис|оф|пом)\.?\s*№?\s*"
            rf"\d{{1,4}}[а-д]?(?![{_LOWER}]))*")
    return (
        re.compile(rf"(?<![{_LOWER}{_UPPER}]){typ}\s*{name}{house}{tail}"),
        # «Московское шоссе, 10», «Ленина ул., 77»: the name first, then the type, then a house.
        re.compile(rf"(?<![{_LOWER}{_UPPER}])(?:\d{{1,3}}-?(?:я|й|го)\s+)?[{_UPPER}][{_LOWER}\-]+\s+{typ}{house}{tail}"),
        re.compile(rf"(?i:(?<![{_LOWER}{_UPPER}])(?:д\.|дом[ауе]?|доме)\s*№?\s*)\d{{1,4}}[а-д]?(?![{_LOWER}\d]){tail}"
                   rf"\s+(?:(?:по|на)\s+)?{typ}\s*{name}(?=[\s,.;:!?)]|$)"),
        # «живу на Широтной, 104», «с Севастопольской, 12, кв. 9», «на Мориса Тореза, 4»: a street
        # named without its type, after a preposition of place, then a comma and a house number.
        re.compile(rf"(?<![{_LOWER}{_UPPER}])(?:на|с|со|по|у|около|возле|напротив|рядом с)\s+"
                   rf"(?P<a>[{_UPPER}][{_LOWER}\-]+(?:\s+[{_UPPER}][{_LOWER}\-]+){{0,2}},\s*(?:(?:д|дом)\.?\s*)?№?\s*"
                   rf"\d{{1,4}}(?:\s?[а-дА-Д](?![{_LOWER}]))?(?:\s?[/-]\s?\d{{1,4}})?{_NOT_AFTER_HOUSE}{tail})"),
    )


def snils_is_valid(digits: str) -> bool:
    """SNILS checksum (Pension Fund rules); ``digits`` holds the 11 digits only."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    control = total if total < 100 else 0 if total in (100, 101) else total % 101
    return (0 if control == 100 else control) == int(digits[9:])


class Masker:
    """Find and mask personal data in Russian text.

    Parameters
    ----------
    config : TextConfig
        Placeholders, street types, phone context words and the not-a-name list.
    ner : slovnet.NER, optional
        slovnet's NER with navec injected (:func:`cxmining.nlp.load_ner`). Without it names
        are found by initials patterns and pymorphy3 tags only.
    morph : pymorphy3.MorphAnalyzer, optional
        Needed for the name-tag rules; without it they are skipped.
    """

    def __init__(self, config: TextConfig, *, ner=None, morph=None):
        self.config = config
        self.ner = ner
        self.morph = morph
        self._addresses = _address_patterns(config.street_types)
        ctx = "|".join(re.escape(w) for w in sorted(config.phone_context, key=len, reverse=True))
        self._local_phone = re.compile(
            rf"(?i)(?<![{_LOWER}])(?:{ctx})\.?\s*[:\-]?\s*((?:\d[\s-]?){{4,6}}\d)(?![\d-])")
        self._name_cache: dict[str, tuple[bool, bool, bool, bool]] = {}
        self._place_words = frozenset(config.street_types) | frozenset(config.place_words)

    # ------------------------------------------------------------------ public API
    def find(self, text: str) -> list[Span]:
        """All personal-data spans of ``text``, non-overlapping and sorted."""
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans for many texts; slovnet NER runs in batches on the texts that may hold a name."""
        found = [self._pattern_spans(t) for t in texts]
        if self.ner is not None:
            # NER runs on whole texts (sentence-level runs missed names that need the context)
            # that may hold a name, sorted by length so that slovnet's padded batches waste little.
            gated = sorted((i for i, t in enumerate(texts) if self._may_hold_name(t)), key=lambda i: len(texts[i]))
            # Budget in characters (~6 per token): long appeals must not make one huge padded batch.
            for batch in budget_batches(gated, lambda i: len(texts[i]), max_total=36000):
                for i, markup in zip(batch, self.ner.map([texts[i] for i in batch])):
                    found[i].extend(self._ner_spans(texts[i], markup))
        return [_resolve([s for s in spans if s.type != "name" or not self._names_a_place(text, s.start)])
                for text, spans in zip(texts, found)]

    def mask(self, text: str) -> str:
        """``text`` with every personal-data span replaced by its typed placeholder."""
        return self.mask_many([text])[0]

    def mask_many(self, texts: Sequence[str]) -> list[str]:
        return [self.apply(t, s) for t, s in zip(texts, self.find_many(texts))]

    def apply(self, text: str, spans: Iterable[Span]) -> str:
        """Replace ``spans`` (from :meth:`find`) in ``text`` by placeholders."""
        out, pos = [], 0
        for span in sorted(spans, key=lambda s: s.start):
            out.append(text[pos:span.start])
            out.append(self.config.placeholders[span.type])
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    # ------------------------------------------------------------------ detectors
    def _pattern_spans(self, text: str) -> list[Span]:
        spans = [Span(m.start(), m.end(), "email", "email") for m in _EMAIL.finditer(text)]
        ndigits = len(_DIGITS.findall(text))
        if ndigits >= 5:
            spans += self._number_spans(text)
        if ndigits:
            for pattern in self._addresses:
                group = "a" if "a" in pattern.groupindex else 0  # the address without its preposition
                spans += [Span(m.start(group), _rstrip(text, m.start(group), m.end(group)), "address", "address")
                          for m in pattern.finditer(text)]
        spans += [Span(m.start(), m.end(), "name", "initials") for m in _INITIALS_NAME.finditer(text)
                  if not self._is_not_name(m.group())]
        if self.morph is not None:
            spans += self._name_tag_spans(text)
            spans += self._segment_spans(text)
        return spans

    def _number_spans(self, text: str) -> list[Span]:
        spans = []
        for kind, pattern in _CONTEXT:
            spans += [Span(m.start(1), m.end(1), kind, "context") for m in pattern.finditer(text)]
        for m in _CARD.finditer(text):
            if luhn.is_valid(re.sub(r"\D", "", m.group())):
                spans.append(Span(m.start(), m.end(), "card", "card"))
        for m in phonenumbers.PhoneNumberMatcher(text, "RU"):
            raw = _PHONE_EXT.sub("", m.raw_string)
            spans.append(Span(m.start, m.start + len(raw), "phone", "phone"))
        spans += [Span(m.start(), m.end(), "phone", "phone") for m in _PHONE_FALLBACK.finditer(text)]
        spans += [Span(m.start(1), m.end(1), "phone", "phone") for m in self._local_phone.finditer(text)]
        for m in _SNILS.finditer(text):
            if snils_is_valid(re.sub(r"\D", "", m.group())):
                spans.append(Span(m.start(), m.end(), "snils", "snils"))
        spans += [Span(m.start(), m.end(), "inn", "inn") for m in _INN.finditer(text) if stdnum_inn.is_valid(m.group())]
        return spans

    def _may_hold_name(self, text: str) -> bool:
        # NER is the slowest step: run it only where a capitalised word can be a name, i.e. one
        # not at a sentence start, or one that pymorphy3 knows as a first name/surname/patronymic.
        for m in _TITLE_WORD.finditer(text):
            before = text[:m.start()].rstrip(" «(\"'—-")
            if before and before[-1] not in ".!?\n…":
                return True
            if self.morph is None or any(self._name_tags(m.group())[:3]):
                return True
        return False

    def _ner_spans(self, text: str, markup) -> list[Span]:
        spans = []
        for s in markup.spans:
            if s.type != "PER":
                continue
            start, end = s.start, s.stop
            chunk = text[start:end]
            if "[" in chunk or self._is_not_name(chunk) or chunk.isupper() or not any(c.isupper() for c in chunk):
                continue
            if self.morph is not None and " " not in chunk.strip() and self._common_word(chunk):
                continue  # «Вера в то, что…», «Самозанятая, ИНН …»: a capitalised common word
            tail = _ADJACENT_INITIALS.match(text[end:])
            if tail:
                end += len(tail.group().rstrip())
            spans.append(Span(start, end, "name", "ner"))
        return spans

    def _name_tag_spans(self, text: str) -> list[Span]:
        """Runs of name-tagged words: «иванов иван», «Ольга Николаевна», «Петрову Анну Сергеевну».

        A run needs a first name together with a surname or a patronymic, so «вера и надежда»
        or a single surname-like street name («Ленина») is not taken.
        """
        spans, run = [], []
        words = list(_WORD.finditer(text))
        for i, m in enumerate(words + [None]):
            tags = self._name_tags(m.group()) if m is not None else None
            adjacent = m is not None and run and text[run[-1][0].end():m.start()].strip() == ""
            if tags is not None and any(tags[:3]) and (not run or adjacent) and len(run) < 4:
                run.append((m, tags))
                continue
            if len(run) >= 2:
                has_first = any(t[0] for _, t in run)
                has_other = sum(1 for _, t in run if t[1] or t[2]) >= 1
                if has_first and has_other:
                    start, end = run[0][0].start(), run[-1][0].end()
                    # A surname pymorphy3 does not know («Лапина Валентина Фёдоровна»).
                    k = i - len(run) - 1
                    if k >= 0 and self._capitalised_neighbour(text, words[k], start):
                        start = words[k].start()
                    spans.append(Span(start, end, "name", "morph"))
            run = [(m, tags)] if tags is not None and any(tags[:3]) else []
        return spans

    def _capitalised_neighbour(self, text: str, m, start: int) -> bool:
        word = m.group()
        return (word[:1].isupper() and text[m.end():start].strip() == ""
                and word.lower().replace("ё", "е") not in self.config.greetings
                and not self._is_not_name(word))

    def _segment_spans(self, text: str) -> list[Span]:
        """A signature-like segment made only of 1–3 capitalised name words: «…, Евдокимова, +7 …»,
        «ПРОХОРОВ», «Алёна». Segments are delimited by punctuation and line breaks."""
        spans = []
        for m in _SEGMENT.finditer(text):
            words = m.group(1).split()
            if all(w[:1].isupper() and any(self._name_tags(w)[:3]) and not (w.isupper() and len(w) <= 4)
                   for w in words) and \
                    any(self._name_tags(w)[3] or w.isupper() for w in words) and not self._is_not_name(m.group(1)):
                spans.append(Span(m.start(1), m.end(1), "name", "segment"))
        return spans

    def _name_tags(self, word: str) -> tuple[bool, bool, bool, bool]:
        """(first name, surname, patronymic, best parse is a name) for ``word``, cached."""
        key = word.lower()
        cached = self._name_cache.get(key)
        if cached is None:
            parses = self.morph.parse(key)
            seen = {"Name": False, "Surn": False, "Patr": False}
            for p in parses:
                if p.score >= 0.05:
                    for tag in seen:
                        seen[tag] = seen[tag] or tag in p.tag
            best = bool(parses) and any(t in parses[0].tag for t in seen)
            cached = (seen["Name"], seen["Surn"], seen["Patr"], best)
            if len(self._name_cache) < 200_000:
                self._name_cache[key] = cached
        return cached

    def _names_a_place(self, text: str, start: int) -> bool:
        """«ул. Щепкина», «пересечение улиц Ленина», «больница имени Семашко»: a person's name that
        names a street or an institution is not personal data (a house number makes it an address)."""
        before = text[max(0, start - 24):start].rstrip(" .,")
        word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
        word = word.rsplit(".", 1)[-1] or word
        return word in self._place_words

    def _common_word(self, word: str) -> bool:
        best = self.morph.parse(word.lower())[0]
        return best.is_known and best.score >= 0.5 and not any(t in best.tag for t in ("Name", "Surn", "Patr"))

    def _is_not_name(self, chunk: str) -> bool:
        return chunk.lower().replace("ё", "е").strip(" .") in self.config.not_names


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " ,.-":
        end -= 1
    return end


def _resolve(spans: list[Span]) -> list[Span]:
    """Keep the strongest of overlapping spans; merge touching name spans into one."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (PRIORITY[s.rule if s.rule == "context" else s.type],
                                            -(s.end - s.start), s.start)):
        overlapping = [c for c in chosen if c.start < span.end and span.start < c.end]
        if not overlapping:
            chosen.append(span)
        elif span.type == "name" and all(c.type == "name" for c in overlapping):
            # Union of name spans: NER «Иванов» + initials «Иванов И.И.».
            for c in overlapping:
                chosen.remove(c)
            chosen.append(Span(min([span.start] + [c.start for c in overlapping]),
                               max([span.end] + [c.end for c in overlapping]), "name", span.rule))
    chosen.sort(key=lambda s: s.start)
    return chosen
