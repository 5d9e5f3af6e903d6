"""Cleaning: HTML, entities, URLs, emoji, punctuation runs, quotes; greeting and sign-off boilerplate.

:func:`clean_text` keeps the wording (and ``ё``) for display; :func:`match_form` gives the
folded copy used for matching (lower case, ``ё`` → ``е``). :func:`strip_boilerplate`
removes greetings and sign-offs from the analysed text. All functions are pure.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

from .sections import TextConfig

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_BREAK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/h\d|/tr|p|div|li|tr)\b[^>]*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,500}?>|<!--.*?-->", re.S)
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>«»\"]+", re.I)
# Emoji and pictographs, dingbats, variation selectors and joiners, keycap marks.
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
    "\uFE00-\uFE0F\u200D\u20E3\U000E0020-\U000E007F]+"
)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200e\u200f\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_CHARS = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
_QUOTES = str.maketrans({"„": "«", "“": "«", "”": "»", "‟": "«", "‹": "«", "›": "»", "‘": "'", "’": "'", "‚": "'",
                         "\u2013": "-", "\u2212": "-", "\u2014": "—"})
_DOTS = re.compile(r"\.{3,}|…+")
_PUNCT_RUN = re.compile(r"([!?,;:])\1+")
_MIXED_END = re.compile(r"[!?]{2,}")
_SPACE_BEFORE = re.compile(r"\s+([,.;:!?»)])")
_SPACES = re.compile(r"[ ]{2,}")
_LINES = re.compile(r"\s*\n\s*")


def clean_text(text: str | None) -> str:
    """Return ``text`` without HTML, URLs, emoji and noise, for display and analysis.

    Paragraph breaks survive as ``"\\n"`` (a sentence boundary for units); everything
    else is single-spaced. ``None`` gives ``""``.
    """
    if text is None or text != text:  # NaN
        return ""
    text = str(text)
    if "&" in text:
        # Portal exports are sometimes escaped twice (``&amp;nbsp;``).
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _SCRIPT.sub(" ", text)
        text = _BREAK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACE_CHARS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_QUOTES).replace('"', "«")
    text = _fix_guillemets(text)
    text = _DOTS.sub("…", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _MIXED_END.sub(lambda m: "?!" if "?" in m.group() and "!" in m.group() else m.group()[0], text)
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACES.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def _fix_guillemets(text: str) -> str:
    # Straight quotes were all turned into «; close every second one so pairs read «…».
    if text.count("«") <= text.count("»"):
        return text
    out, open_ = [], False
    for ch in text:
        if ch == "«":
            ch = "»" if open_ else "«"
            open_ = not open_
        elif ch == "»":
            open_ = False
        out.append(ch)
    return "".join(out)


def match_form(text: str) -> str:
    """The folded copy used for matching: lower case, ``ё`` → ``е``."""
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=8)
def _boilerplate_patterns(greetings: tuple[str, ...], sign_offs: tuple[str, ...]):
    def alt(words):
        return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))

    # «Уважаемый Иван Петрович!» / «Здравствуйте,» / «Добрый день.» at the start of a line.
    # The greeting, then at most three Capitalised words (a name: «Уважаемый Иван Петрович!»), then
    # its punctuation; a lower-case word after it is content («Здравствуйте дороги не чистят»).
    greeting = re.compile(rf"(?m)^[ \-—]*(?i:{alt(greetings)})\b(?:[ ,]+[А-ЯЁA-Z][^\s.!?,]*){{0,3}}[ ]*[.!?,]*[ ]*")
    sign_off = re.compile(rf"(?i)(?:^|(?<=[\s.!?,]))(?:{alt(sign_offs)})\b")
    return greeting, sign_off


def strip_boilerplate(text: str, config: TextConfig) -> str:
    """Drop greetings at the start of lines and a sign-off near the end of ``text``.

    A greeting line is removed up to its first ``.``, ``!``, ``?`` or ``,`` (so
    «Здравствуйте, дороги не чистят» keeps «дороги не чистят»). A sign-off and everything
    after it are removed when fewer than ``config.sign_off_tail`` characters follow it.
    """
    if not text:
        return text
    greeting, sign_off = _boilerplate_patterns(config.greetings, config.sign_offs)
    folded = text.replace("ё", "е").replace("Ё", "Е")
    # Same length as text, so match offsets apply to the original.
    cut = [(m.start(), m.end()) for m in greeting.finditer(folded)]
    for m in sign_off.finditer(folded):
        # A sign-off closes something: never at the very start, and only near the end.
        if m.start() > 0 and len(folded) - m.end() <= config.sign_off_tail:
            cut.append((m.start(), len(folded)))
            break
    if not cut:
        return text
    out, pos = [], 0
    for start, end in sorted(cut):
        if start >= pos:
            out.append(text[pos:start])
            pos = end
        else:
            pos = max(pos, end)
    out.append(text[pos:])
    rest = "".join(out)
    rest = re.sub(r"[ ]{2,}", " ", rest)
    rest = re.sub(r"\s*\n\s*", "\n", rest).strip(" \n,;:—-")
    return rest[:1].upper() + rest[1:] if rest[:1].islower() and text[:1].isupper() else rest
