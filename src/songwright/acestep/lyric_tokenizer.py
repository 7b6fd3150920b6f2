"""ACE-Step v1 lyric tokenizer: lyrics -> the ids the lyric encoder was trained on.

Each line is tokenized on its own. Its language is guessed (`line_language`), the line is
cleaned for that language (`lyric_text.clean_line`), prefixed with a `[lang]` token, its
spaces become `[SPACE]` tokens, and a HuggingFace BPE model (`vocab.json`) maps it to ids.
Lines are joined with id 2 and the sequence starts with `[START]`. Every rule, including
the odd ones, follows upstream ACE-Step (`ACEStepPipeline.tokenize_lyrics`, `get_lang`,
`LangSegment`, `VoiceBpeTokenizer`), because the model only understands those ids.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, MissingDependency
from .lyric_text import cardinal_symbols, clean_line

try:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    from tokenizers import Tokenizer
except ImportError as err:  # pragma: no cover - depends on the environment
    raise MissingDependency(err.name or "a lyric tokenizer package", 'pip install -e ".[neural]"') from err

logger = logging.getLogger(__name__)

# Languages with a `[lang]` token in the vocabulary; any other guess is encoded as English.
LYRIC_LANGUAGES = frozenset("en de fr es it pt pl tr ru cs nl ar zh ja hu ko hi".split())
START_ID = 261  # "[START]"
LINE_END_ID = 2  # "[SPACE]" also ends every line
VOCAB_ENV = "SONGWRIGHT_LYRIC_VOCAB"

_STRUCTURE_TAG = re.compile(r"\[.*?\]")  # "[verse]" etc. at the start of a line: always English


class LyricTokenizer:
    """Lyrics -> ACE-Step lyric token ids."""

    def __init__(self, bpe: Tokenizer):
        self.bpe = bpe

    @classmethod
    def from_file(cls, vocab_path: str | Path) -> LyricTokenizer:
        path = Path(vocab_path)
        if not path.is_file():
            raise CheckpointError(f"lyric vocabulary {path} does not exist")
        return cls(Tokenizer.from_file(str(path)))

    def encode_line(self, line: str, language: str) -> list[int]:
        """Ids of one line in a given language, without the line end."""
        return self.bpe.encode(bpe_text(line, language)).ids

    def tokenize(self, lyrics: str) -> list[int]:
        """Ids of a whole lyric sheet: [START], then each line's ids followed by 2.

        A blank line adds only the 2. A line whose cleaning fails is dropped, as upstream does.
        """
        ids = [START_ID]
        for line in lyrics.split("\n"):
            line = line.strip()
            if not line:
                ids.append(LINE_END_ID)
                continue
            language = "en" if _STRUCTURE_TAG.match(line) else line_language(line)
            if language not in LYRIC_LANGUAGES:
                language = "en"
            try:
                ids += self.encode_line(line, language) + [LINE_END_ID]
            except Exception as err:
                logger.warning("lyric line dropped (%s: %s): %r", type(err).__name__, err, line)
        return ids

    def model_inputs(self, lyrics: str) -> tuple[list[int], list[int]]:
        """(ids, mask) as the pipeline feeds them to the model; ([0], [0]) without lyrics."""
        if len(lyrics) == 0:
            return [0], [0]
        ids = self.tokenize(lyrics)
        return ids, [1] * len(ids)


def bpe_text(line: str, language: str) -> str:
    """The string the BPE model encodes: "[lang]" + cleaned line, spaces as "[SPACE]"."""
    language = language.split("-")[0]
    cleaned = clean_line(line, language)
    tag = "zh-cn" if language == "zh" else language
    return f"[{tag}]{cleaned}".replace(" ", "[SPACE]")


def find_lyric_vocab(checkpoint_dir: str | Path, explicit: str | Path | None = None) -> Path:
    """Locate ACE-Step's lyric `vocab.json`, which the official checkpoint does not ship.

    Looks at `explicit`, then $SONGWRIGHT_LYRIC_VOCAB, then `<checkpoint_dir>/lyric_tokenizer/`
    and `<checkpoint_dir>/../lyric_tokenizer/`.
    """
    checkpoint_dir = Path(checkpoint_dir).expanduser()
    places = [Path(explicit).expanduser()] if explicit is not None else []
    if os.environ.get(VOCAB_ENV):
        places.append(Path(os.environ[VOCAB_ENV]).expanduser())
    places += [
        checkpoint_dir / "lyric_tokenizer" / "vocab.json",
        checkpoint_dir / ".." / "lyric_tokenizer" / "vocab.json",
    ]
    for place in places:
        if place.is_file():
            return place
    looked = "\n".join(f"  - {place}" for place in places)
    raise CheckpointError(
        "ACE-Step lyric vocabulary not found. Looked at:\n"
        f"{looked}\n"
        "The official checkpoint does not contain it: it is acestep/models/lyrics_utils/vocab.json "
        "in the ACE-Step repository (github.com/ace-step/ACE-Step). Put it in one of those places, "
        f"or point ${VOCAB_ENV} at it."
    )


# ===================================================================== language detection


def line_language(line: str) -> str:
    """The language upstream picks for a line: the one with most characters, except that
    English yields to the runner-up (so "hello 你好" is Chinese). Any failure means English."""
    try:
        counts = language_counts(line)
        language = counts[0][0]
        if len(counts) > 1 and language == "en":
            language = counts[1][0]
    except Exception:
        language = "en"
    return language


def language_counts(text: str) -> list[tuple[str, int]]:
    """Characters per language (Chinese counts double), most first; [("zh", 0)] if none."""
    if not text.strip():
        return [("zh", 0)]
    return _Segmentation(_identifier()).run(text)


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


# The pipeline's segmenter keeps every language py3langid knows, in this order. Because all
# of them pass, upstream's fallbacks for "classified outside the filter" never fire, and the
# experimental French/Vietnamese letters are part of the Latin pattern (French is listed).
_LANGUAGES = tuple(
    "af am an ar as az be bg bn br bs ca cs cy da de dz el en eo es et eu fa fi fo fr ga gl gu he "
    "hi hr ht hu hy id is it ja jv ka kk km kn ko ku ky la lb lo lt lv mg mk ml mn mr ms mt nb ne "
    "nl nn no oc or pa pl ps pt qu ro ru rw se si sk sl sq sr sv sw ta te th tl tr ug uk ur vi vo "
    "wa xh zh zu".split()
)
_LANGUAGE_STRING = "-".join(_LANGUAGES)  # upstream tests membership by substring of this

_PLACEHOLDER = re.compile(r"(⑥\$*\d+[\d]{6,}⑥)")
_NUMBER_PLACEHOLDER = re.compile(r"(⑥\d{6,}⑥)")
_PUNCTUATION = re.compile(r"([^\w\s]+)")
_SENTENCE = re.compile(r"(.*?[。.?？!！]+[\n]{,1})")
_FR_VI_LETTERS = (
    "àáâãäåæçèéêëìíîïðñòóôõöùúûüýþÿ"
    "đơưăáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựôâêơưỷỹ"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u309F\u30A0-\u30FF]+")
_SHORT_HAN_CONFIDENCE = 0.89


def _script_run(letters: str) -> re.Pattern:
    """A run of words in one script, with opening quotes before and punctuation after."""
    return re.compile(rf'(([【《（(“‘"\']*[{letters}]+[\W\s]*)+)')


# Spans hidden behind placeholders before the plain-text pass, in this order. A placeholder
# reads "⑥<tag><index:06d>⑥", as upstream's, since later patterns see it.
_MARKUP = re.compile(r"(<([a-zA-Z|-]*)>(.*?)<\/*[a-zA-Z|-]*>)")
_KOREAN_RUN = _script_run("\uac00-\ud7a3")
_THAI_RUN = _script_run("\u0e00-\u0e7f")
_CYRILLIC_RUN = _script_run("А-Яа-яЁё")
_NUMBER_RUN = re.compile(r"(\W*\d+\W+\d*\W*\d*)")
_LATIN_RUN = _script_run("a-zA-Z" + _FR_VI_LETTERS)
_QUOTED = re.compile(r'(["\'])(.*?)(\1)')
_BRACKETED = re.compile(r"([\n]*[【《（(“‘])([^【《（(“‘’”)）》】]{3,})([’”)）》】][\W\s]*[\n]{,1})")


@dataclass
class _Word:
    lang: str
    text: str
    score: float
    symbol: object = None  # None for detected text; True or the tag name for <tag>…</tag> text


class _Segmentation:
    """One pass of upstream's LangSegment over a text, keeping the per-language tallies.

    Spans that are clearly one script (Korean, Thai, Cyrillic, Latin), numbers, quotes and
    <tag>…</tag> markup are first swapped for placeholders; the rest is split at punctuation
    and classified with py3langid, with special care for short Chinese/Japanese runs.
    Adjacent pieces in the same language merge; the tallies count every committed piece.
    """

    def __init__(self, identifier: LanguageIdentifier):
        self.identifier = identifier
        self.tally: dict[str, int] = {}
        self.pending: list[_Word] = []  # ambiguous zh|ja pieces waiting for their successor
        self.spans: dict[str, object] = {}  # placeholder -> the regex match it hides
        self.last_segment = False
        self.rules: list[tuple[str, re.Pattern, Callable]] = [
            ("$1", _MARKUP, self._markup),
            ("$6", _KOREAN_RUN, self._script("ko")),
            ("$8", _THAI_RUN, self._script("th")),
            ("$7", _CYRILLIC_RUN, self._script("ru")),
            ("00", _NUMBER_RUN, self._number),
            ("$5", _LATIN_RUN, self._latin),
            ("$3", _QUOTED, self._quoted),
            ("$4", _BRACKETED, self._quoted),
        ]

    def run(self, text: str) -> list[tuple[str, int]]:
        for line in re.findall(r".*\n*", _PLACEHOLDER.sub("", text)):
            if not line.strip():
                continue
            self.last_segment = False
            self.spans = {}
            for tag, pattern, handler in self.rules:
                line = self._hide(tag, pattern, handler, line)
            self._walk([], line, root=True)
        ranked = sorted(self.tally.items(), key=lambda item: item[1], reverse=True)
        return ranked or [("zh", 0)]

    # ---------------------------------------------------------------- placeholders

    def _hide(self, tag: str, pattern: re.Pattern, handler: Callable, text: str) -> str:
        """Replace each match of a rule by a numbered placeholder (unless it is the whole text)."""
        matches = pattern.findall(text)
        if len(matches) == 1 and "".join(matches[0]) == text:
            return text
        for i, match in enumerate(matches):
            key = f"⑥{tag}{i:06d}⑥"
            text = pattern.sub(key, text, count=1)
            self.spans[key] = (handler, match)
        return text

    def _walk(self, words: list[_Word], text: str, root: bool) -> None:
        pieces = _PLACEHOLDER.split(text)
        for i, piece in enumerate(pieces):
            if root:
                self.last_segment = i >= len(pieces) - 1
            if _PLACEHOLDER.match(piece):
                handler, match = self.spans[piece]
                handler(words, match)
            else:
                self._classify_plain(words, piece)

    def _restore_number(self, found: re.Match) -> str:
        key = found.group(0)
        return self.spans[key][1] if key in self.spans else key

    # ---------------------------------------------------------------- span handlers

    def _markup(self, words: list[_Word], match: tuple) -> None:
        _, tag, content = match
        if tag in _LANGUAGE_STRING:
            self._add(words, tag, content, 1.0, True)
        elif tag in _SSML_READERS:
            self._add(words, "zh", _SSML_READERS[tag](content), 1.0, tag)
        else:  # the tag name becomes the language, which the language list then rejects
            self._add(words, tag, content, 1.0, tag)

    def _script(self, lang: str) -> Callable:
        return lambda words, match: self._add(words, lang, match[0], 1.0)

    def _number(self, words: list[_Word], match: str) -> None:
        self._add(words, words[0].lang if words else "zh", match, 0.0)

    def _latin(self, words: list[_Word], match: tuple) -> None:
        # py3langid's top probability is at least 1/97, so upstream's "score <= 0" skip never fires.
        for sentence in _SENTENCE.split(match[0]):
            if sentence.strip():
                lang, score = self._classify(_squeeze(sentence))
                self._add(words, lang, sentence, score)

    def _quoted(self, words: list[_Word], match: tuple) -> None:
        text = "".join(match)
        if _PLACEHOLDER.findall(text):
            self._walk(words, text, root=False)
        elif len(_squeeze(match[1])) <= 5:
            self._classify_plain(words, text)
        else:
            lang, score = self._classify(_squeeze(match[1]))
            self._add(words, lang, text, score)

    # ---------------------------------------------------------------- plain text

    def _classify_plain(self, words: list[_Word], segment: str) -> None:
        """Split at punctuation; classify each piece, gluing too-short pieces to the next."""
        parts = _PUNCTUATION.split(segment)
        for i, text in enumerate(parts):
            if not text:
                continue
            last = i >= len(parts) - 1
            if not last and (_only_punctuation(text) or _only_punctuation(parts[i + 1])):
                parts[i + 1] = text + parts[i + 1]
                continue
            cleaned = _squeeze(re.sub(r"\d+", "", _NUMBER_PLACEHOLDER.sub("", text)))
            if not last and len(cleaned) <= 2:
                parts[i + 1] = text + parts[i + 1]
                continue
            lang, score = self._classify(cleaned)
            if lang != "zh" and all(_HAN.match(c) for c in re.sub(r"\s", "", cleaned)):
                lang, score = "zh", 1
            if len(cleaned) <= 5 and _HAN.search(cleaned):
                lang = self._short_han_language(words, text, cleaned, lang, score, last)
            self._add(words, lang, _NUMBER_PLACEHOLDER.sub(self._restore_number, text), score)

    def _short_han_language(
        self, words: list[_Word], text: str, cleaned: str, lang: str, score: float, last: bool
    ) -> str:
        """Short runs with hanzi: kana means Japanese; else trust a confident guess, or leave
        the choice open ("zh|ja|…") for the next piece to settle."""
        if score < _SHORT_HAN_CONFIDENCE:
            lang = "ja"  # ja comes before zh in the pipeline's language list
        if _KANA.search(cleaned):
            return "ja"
        if len(cleaned) > 2 and score > 0.90:
            return lang
        if last and self.last_segment:
            return "zh" if len(cleaned) <= 1 else lang
        prev = words[-1].lang if words else None
        undecided = "zh|ja" if lang == "zh" or (len(cleaned) <= 2 and prev == "zh") else "ja|zh"
        if re.sub(r"\s+", "", text)[-1] in "。.":
            related = bool(prev) and (prev in undecided or undecided in prev)
            return prev if related else lang
        return f"{undecided}|…"

    def _classify(self, text: str) -> tuple[str, float]:
        lang, score = self.identifier.classify(text)
        return lang, round(float(score), 3)

    # ---------------------------------------------------------------- committing pieces

    def _add(self, words: list[_Word], lang: str, text: str, score: float, symbol: object = None) -> None:
        """Settle a pending ambiguous piece against this one, then commit or park this one."""
        if text != "\n" and not text.strip():
            return
        lang = (lang or "").lower()
        if lang == "en":
            text = re.sub(r"(?<!\b)([A-Z])", r" \1", text).strip("-") + " "  # "iPhone" -> "i Phone "
        prev = self.pending.pop() if self.pending else None
        was_pending = prev is not None
        if prev is None and words:
            prev = words[-1]
        if prev is not None and "|" in prev.lang:
            if lang in prev.lang:
                prev.lang = lang = lang.split("|")[0]
            else:
                prev.lang = prev.lang.split("|")[0]
            if was_pending:
                prev = self._commit(words, prev.lang, prev.text, prev.score, prev.symbol)
        prev_lang = prev.lang if prev is not None else None
        if "|" in lang and prev_lang and prev_lang not in lang and "…" not in lang:
            lang = lang.split("|")[0]
        if "|" in lang:
            self.pending.append(_Word(lang, text, score, symbol))
        else:
            self._commit(words, lang, text, score, symbol)

    def _commit(self, words: list[_Word], lang: str, text: str, score: float, symbol: object) -> _Word:
        """Append a piece, merging it into the previous one when the language matches.

        Punctuation- or digit-only pieces take the previous language, and a digit-only
        previous piece is absorbed into this one. (Upstream's "number at the start takes the
        priority language" rule does not apply: the pipeline's first language is "af".)
        """
        prev = words[-1] if words else None
        if symbol is None and prev is not None and prev.symbol is None:
            if _is_number_like(text):
                lang = prev.lang
            if prev.lang == lang:
                self._count(lang, text)
                prev.text += text
                return prev
            if _is_number_like(prev.text):
                text = prev.text + text
                words.pop()
        word = _Word(lang, text, score, symbol)
        if lang in _LANGUAGES or lang in _LANGUAGES[0] or "?" in lang:
            words.append(word)
            self._count(lang, text)
        return word

    def _count(self, lang: str, text: str) -> None:
        self.tally[lang] = self.tally.get(lang, 0) + len(text) * (2 if lang == "zh" else 1)  # hanzi count double


def _squeeze(text: str) -> str:
    """Text as py3langid sees it: punctuation runs -> one space, doubled letters -> one."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"\W+", " ", text)).strip()


def _only_punctuation(text: str) -> bool:
    return not _PUNCTUATION.sub("", re.sub(r"\n+", "", text)).strip()


def _is_number_like(text: str) -> bool:
    """Nothing but digits once punctuation and spaces are gone (an empty piece counts)."""
    if text == "\n":
        return False
    return not re.sub(r"\d+", "", _PUNCTUATION.sub("", re.sub(r"\n+", "", text)).strip())


# ===================================================================== SSML markup
# <number>, <telephone>, <currency> and <date> spans are read out in Chinese by upstream's
# segmenter; only their reading's length matters here (it feeds the tallies).

_ZH_DIGIT_OF = dict(zip("0123456789", "零一二三四五六七八九"))


def _read_number(text: str) -> str:
    digits = re.sub(r"\d+", lambda m: "".join(_ZH_DIGIT_OF.get(c, "") for c in m.group(0)), text)
    return digits.replace(".", "点")


def _read_telephone(text: str) -> str:
    return _read_number(text.replace("+86", "")).replace("一", "幺")


def _read_amount(text: str) -> str:
    return re.sub(r"\d+", lambda m: _cardinal(m.group(0)), text).replace(".", "点")


def _cardinal(digits: str) -> str:
    """A whole number read in Chinese with units up to 亿; 10..19 drop the leading 一."""
    digits = digits.lstrip("0")
    if not digits:
        return "零"
    symbols = cardinal_symbols(digits, 8)
    return "".join(symbols[1:] if symbols[:2] == ["一", "十"] else symbols)


def _read_date(text: str) -> str:
    """2024/8/24, 2024-08, 08-24 or 24 (optionally with a time) read as 年月日 点分秒."""
    if not text.strip():
        return ""
    text = re.sub(r"日", "", re.sub(r"[\/\._|年|月]", "-", text))
    fields = text.split(" ")
    if len(fields) == 1 and ":" in fields[0]:
        clock, fields = fields[0], []
    else:
        clock = fields[1] if len(fields) >= 2 else ""
    return (_read_calendar(fields[0]) if fields else "") + _read_clock(clock)


def _read_calendar(date: str) -> str:
    year = month = day = ""
    parts = date.split("-")
    if len(parts) == 3:
        year, month, day = parts
    elif len(parts) == 2 and len(parts[0]) == 4:
        year, month = parts
    elif len(parts) == 2:
        month, day = parts
    elif len(parts[0]) == 4:  # also reached with more than three fields, as upstream
        year = parts[0]
    else:
        day = parts[0]
    joined = _unit(year, "年", _read_number) + _unit(month, "月", _read_amount) + _unit(day, "日", _read_amount)
    return re.sub(r"([年|月|日])+", r"\1", joined)


def _read_clock(clock: str) -> str:
    parts = re.sub(r"[\/\.\-：_]", ":", clock).split(":")
    hours = minutes = seconds = ""
    if len(parts) in (2, 3):
        hours, minutes, seconds = (parts + [""])[:3]
    elif parts[0]:
        hours = f"{parts[0]}点"  # a lone hour stays in digits, as upstream
    if len(parts) > 1:
        hours = _unit(hours, "点", _read_amount)
        minutes = _unit(minutes, "分", _read_amount)
        seconds = _unit(seconds, "秒", _read_amount)
    return re.sub(r"([点|分|秒])+", r"\1", hours + minutes + seconds)


def _unit(value: str, suffix: str, read: Callable[[str], str]) -> str:
    value = read(value)
    return f"{value}{suffix}" if value not in ("", "0") else ""


_SSML_READERS: dict[str, Callable[[str], str]] = {
    "telephone": _read_telephone,
    "number": _read_number,
    "currency": _read_amount,
    "date": _read_date,
}
