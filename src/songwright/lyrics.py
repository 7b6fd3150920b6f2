"""Lyrics -> sections of phrases of words of syllables.

Structure tags may be on their own lines or inline: [verse], [Verse 1], [CHORUS], (Chorus),
"Chorus:", [Chorus x2] (sung twice). An unknown bracket tag alone on its line starts a section
sung as a verse; one with words beside it ("[I love you] baby") is sung as lyrics. Both are
reported. Syllables are counted for English (and other Latin-script text) with spelling rules,
and one per character for Chinese, Japanese kana and Korean.

One normaliser (`normalize_text`) decides what the characters are before any of this: invisible
format characters, variation selectors and stray accents are removed, look-alike apostrophes
become one, and every digit any script writes is read as the digit it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from anyascii import anyascii


_SECTION_ALIASES = {
    "intro": "intro", "introduction": "intro", "opening": "intro",
    "verse": "verse", "v": "verse", "rap": "verse", "rapverse": "verse",
    "prechorus": "pre-chorus", "pre": "pre-chorus", "build": "pre-chorus", "buildup": "pre-chorus", "lift": "pre-chorus",
    "chorus": "chorus", "refrain": "chorus", "drop": "chorus", "finalchorus": "chorus",
    "hook": "hook", "posthook": "hook", "postchorus": "hook",
    "bridge": "bridge", "middle8": "bridge", "middleeight": "bridge",
    "outro": "outro", "ending": "outro", "end": "outro", "coda": "outro", "fadeout": "outro",
    "inst": "inst", "instrumental": "inst", "interlude": "inst", "instrumentalbreak": "inst",
    "solo": "solo", "guitarsolo": "solo", "pianosolo": "solo", "saxsolo": "solo", "synthsolo": "solo",
    "break": "break", "breakdown": "break",
}

_RAP_ALIASES = {"rap", "rapverse"}  # a verse, rapped in any genre
# Aliases that are also ordinary words: "End: of the story" is a lyric; "End:" alone is a tag.
_WORD_ALIASES = {"end", "ending", "drop", "break", "breakdown", "build", "buildup", "lift", "opening", "v", "pre",
                 "rap", "solo", "coda", "inst", "instrumental", "interlude", "bridge"}
MAX_REPEATS = 4  # [Chorus x9] is sung at most this many times
_REPEAT = re.compile(r"\s*(?:\bx\s*(\d{1,3})|(\d{1,3})\s*x)\s*$", re.I)
_BRACKET_TAG = re.compile(r"\[([^\[\]\n]{1,40})\]")
_PAREN_LINE = re.compile(r"^\s*\(([^()\n]{1,40})\)\s*$")
_COLON_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 \-]{0,30}):\s*")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\U0002f800-\U0002fa1f"  # Han, all planes
_CJK = re.compile(f"[{_HAN}]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_SMALL_KANA = set("ゃゅょぁぃぅぇぉャュョァィゥェォ")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)


def _mark_ranges() -> str:
    """The combining marks of the Basic Multilingual Plane as a character class's ranges: 1,336
    marks in 189 ranges (the lyrics module imports in 12 ms instead of 16.5)."""
    marks = {c for c in range(0x300, 0x10000) if unicodedata.category(chr(c))[0] == "M"}
    starts = sorted(c for c in marks if c - 1 not in marks)
    ends = sorted(c for c in marks if c + 1 not in marks)
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in zip(starts, ends))


# Combining marks belong to their word (Devanagari and Thai vowel signs, Arabic vowels...).
_MARKS = _mark_ranges()
_LETTER = rf"(?:[^\W_]|[{_MARKS}])"
_TOKEN = re.compile(rf"[{_HAN}]|[\u3040-\u30ff]+|[\uac00-\ud7af]+|{_LETTER}+(?:['’]{_LETTER}+)*")
_WORD_PART = re.compile(rf"(?:(?!\d){_LETTER})+(?:['’](?:(?!\d){_LETTER})+)*|\d+")
_SCRIPT_LANGUAGES = {"CYRILLIC": "ru", "GREEK": "el", "ARABIC": "ar", "HEBREW": "he", "THAI": "th", "DEVANAGARI": "hi",
                     "LATIN": "latin"}
MAX_PHRASE_SYLLABLES = 12


@dataclass(frozen=True)
class Word:
    text: str
    syllables: tuple[str, ...]
    language: str  # "en", "es", "fr", "de", "it", "pt", "nl" (Latin script, by line), "zh", "ja", "ko", "ru", ...
    phones: tuple = ()  # one singer's SungSyllable per syllable, once phonetized
    voice: str | None = None  # the voice that sings it, once cast


@dataclass(frozen=True)
class Phrase:
    """One sung phrase: a lyric line, or a piece of a long one."""

    text: str
    words: tuple[Word, ...]
    line_index: int

    @property
    def syllable_count(self) -> int:
        return sum(len(w.syllables) for w in self.words)

    @property
    def language(self) -> str:
        langs = [w.language for w in self.words]
        return max(set(langs), key=langs.count) if langs else "en"


@dataclass
class LyricSection:
    kind: str  # a canonical kind, or "unknown"
    label: str  # the tag as written, e.g. "Verse 1"
    phrases: list[Phrase] = field(default_factory=list)
    repeats: int = 1  # [Chorus x2]: sung twice

    @property
    def sung(self) -> bool:
        return bool(self.phrases)

    @property
    def syllable_count(self) -> int:
        return sum(p.syllable_count for p in self.phrases)


@dataclass
class Lyrics:
    sections: list[LyricSection]
    unknown_tags: list[str]
    warnings: list[str] = field(default_factory=list)  # what was read differently from how it was written

    @property
    def has_words(self) -> bool:
        return any(s.phrases for s in self.sections)

    @property
    def syllable_count(self) -> int:
        return sum(s.syllable_count for s in self.sections)


def section_kind(tag: str) -> str | None:
    """The canonical kind of a structure tag ("Verse 1", "CHORUS x2", "Verse 2: Ana"), or None."""
    alias = _alias(tag)
    return None if alias is None else _SECTION_ALIASES[alias]


def rap_tag(tag: str) -> bool:
    """Whether a structure tag asks for its section rapped ("Rap", "Rap Verse 2: Ana")."""
    return _alias(tag) in _RAP_ALIASES


def _alias(tag: str) -> str | None:
    """The alias a structure tag is written with, lower case, without numbers, spaces, a repeat
    mark or a singer's name ("Verse 2: Ana" -> "verse"), or None when it is not one."""
    key = _REPEAT.sub("", tag.lower().strip())  # "[Chorus x2]": a repeat mark
    alias = re.sub(r"[\s\-_\d]+", "", key).rstrip(".")
    if alias in _SECTION_ALIASES:
        return alias
    if re.search(r":| [-–] ", key):  # "[Verse 2: Ana]", "[Chorus - Ana]"
        return _alias(re.split(r":| [-–] ", key, maxsplit=1)[0])
    return None


def section_repeats(tag: str) -> int:
    """How many times a tag asks for its section: "Chorus x2" -> 2; no mark -> 1."""
    match = _REPEAT.search(tag)
    return max(int(match.group(1) or match.group(2)), 1) if match else 1


def parse_lyrics(text: str) -> Lyrics:
    """Split lyrics into sections; words before any tag form a verse."""
    text, warnings = normalize_text(text or "")
    sections: list[LyricSection] = []
    unknown: list[str] = []
    line_index = 0

    def open_section(kind: str, label: str) -> None:
        asked = section_repeats(label)
        sections.append(LyricSection(kind, label, repeats=min(asked, MAX_REPEATS)))
        if asked > MAX_REPEATS:
            warnings.append(f"[{label}]: a section is sung {MAX_REPEATS} times at most")

    def add_words(chunk: str) -> None:
        nonlocal line_index
        chunk = _URL.sub(_spoken_url, chunk.replace("[", " ").replace("]", " "))
        unread: list[str] = []
        words = with_line_language(words_of(chunk, unread=unread))
        warnings.extend(f"'{w}' cannot be read (no pronunciation or transliteration): not sung" for w in unread)
        if not words:
            return
        if not sections:
            open_section("verse", "verse")
        for phrase_words in split_phrases(chunk, words):
            sections[-1].phrases.append(Phrase(join_words(phrase_words), tuple(phrase_words), line_index))
        line_index += 1

    for raw_line in text.splitlines():
        paren = _PAREN_LINE.match(raw_line)
        if paren and section_kind(paren.group(1)):
            open_section(section_kind(paren.group(1)), paren.group(1).strip())
            continue
        colon = _COLON_TAG.match(raw_line)
        if colon and section_kind(colon.group(1)) and not (
                colon.group(1).strip().lower() in _WORD_ALIASES and raw_line[colon.end():].strip()):
            open_section(section_kind(colon.group(1)), colon.group(1).strip())
            raw_line = raw_line[colon.end():]
        position = 0
        for match in _BRACKET_TAG.finditer(raw_line):
            label = match.group(1).strip()
            kind = section_kind(label)
            if kind is None and _has_words_beside(raw_line, match):  # "[I love you] baby": sung
                warnings.append(f"[{label}] is not a section tag: sung as lyrics")
                continue
            add_words(raw_line[position:match.start()])
            if kind is None:
                kind = "unknown"
                unknown.append(label)
            open_section(kind, label)
            position = match.end()
        add_words(raw_line[position:])
    _song_language(sections)
    return Lyrics(_repeated(sections), unknown, list(dict.fromkeys(warnings)))


def _has_words_beside(line: str, match: re.Match) -> bool:
    """Whether a line has words outside its bracket tags (and the bracket holds words too)."""
    outside = _BRACKET_TAG.sub(" ", line)
    return bool(_TOKEN.search(outside)) and bool(_TOKEN.search(match.group(1)))


def _repeated(sections: list[LyricSection]) -> list[LyricSection]:
    """[Chorus x2]: the section, then its repeats (the same phrases, as a chorus returns)."""
    out = []
    for section in sections:
        out.append(section)
        out += [LyricSection(section.kind, section.label, list(section.phrases)) for _ in range(section.repeats - 1)]
    return out


# ---------------------------------------------------------------- what the characters are

# Written as an apostrophe; NFKC would make ´ a space and a combining accent ("don´t" -> "don ́t").
_APOSTROPHES = str.maketrans({"\u00b4": "'", "\u0060": "'", "\u2018": "'", "\u02bc": "'", "\u02b9": "'",
                              "\u2032": "'", "\uff07": "'"})
# Default-ignorable characters that are not format characters (category Cf is dropped as a whole):
# variation selectors, the combining grapheme joiner, Mongolian selectors, Hangul fillers.
_IGNORABLE = set(chr(c) for c in [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0), 0x034F, *range(0x180B, 0x1810),
                                  0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5])


def normalize_text(text: str) -> tuple[str, list[str]]:
    """The lyrics as the parser reads them, and a warning for each character dropped that could
    have been meant as a word.

    - look-alike apostrophes (´ ` ‘ ʼ) become ', so "don´t" stays one word;
    - NFKC: compatibility forms become plain ones (ﬁ -> fi, ² -> 2, full-width letters);
    - invisible characters go: format characters (soft hyphen, zero-width space and joiners,
      direction marks), variation selectors (the one in "❤️"), Hangul fillers;
    - a combining mark that follows no letter (a stray "¨") goes;
    - every digit of any script (❶, ፩, ٣) becomes its ASCII digit; other whole numbers written
      as one character (፲, ⑽) become their digits; a fraction or other number that is not whole
      (a lone ↉) goes, with a warning.
    """
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES))
    out: list[str] = []
    warnings: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf" or char in _IGNORABLE:
            continue
        if category.startswith("M"):
            last = out[-1][-1] if out else " "  # (a number's text is several characters)
            if last.isalnum() or unicodedata.category(last).startswith("M"):
                out.append(char)
            continue
        if category.startswith("N") and not ("0" <= char <= "9"):
            out.append(_number_text(char, warnings))
            continue
        out.append(char)
    return "".join(out), warnings


def _number_text(char: str, warnings: list[str]) -> str:
    digit = unicodedata.digit(char, None)
    if digit is not None:
        return str(digit)
    value = unicodedata.numeric(char, None)
    if value is not None and value == int(value) and value >= 0:
        return f" {int(value)} "
    if unicodedata.category(char) == "Nl" or char.isalpha():  # a letter that counts (Gothic, Roman)
        return char
    warnings.append(f"'{char}' (U+{ord(char):04X}) is a number that cannot be sung: not sung")
    return " "


# ---------------------------------------------------------------- words and syllables

def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    """Words back to text: no spaces between CJK characters, spaces elsewhere."""
    text = ""
    for previous, word in zip((None, *words), words):
        close = previous is not None and previous.language in ("zh", "ja") and word.language in ("zh", "ja")
        text += ("" if close or previous is None else " ") + word.text
    return text


# ---------------------------------------------------------------- language of a Latin-script line

_FUNCTION_WORDS = {
    "en": "the and you i is it to of in my me we your on this that with for be are so no all love what when a".split(),
    "es": "el la los las de que y en un una mi tu te es por con no se lo yo para como amor corazón noche está".split(),
    "fr": "le la les de et je tu il un une est pas mon ma mes que qui dans pour avec amour nous vous moi toi c'est j'ai".split(),
    "de": "der die das und ich du ist nicht ein eine mein dich mich mit wir zu den dem liebe auf sie noch nur über".split(),
    "it": "il la le di che e io tu un una non mi ti per con sono amore mio mia cuore nel della è ancora".split(),
    "pt": "o a os as de que e eu você um uma não meu minha te com para amor coração em no na é está".split(),
    "nl": "de het een en ik jij je is niet van mijn op met zijn wij we dat die hou jou liefde".split(),
}
_LETTER_HINTS = {"ñ": "es", "¿": "es", "¡": "es", "ç": "fr", "œ": "fr", "ß": "de", "ä": "de", "ö": "de", "ü": "de",
                 "ã": "pt", "õ": "pt", "ò": "it", "ì": "it", "ij": "nl"}


def latin_language(words: list[str]) -> tuple[str, bool]:
    """The language of a Latin-script line, from its function words and letters (English if
    unsure), and whether the line alone is clear about it."""
    lower = [w.lower() for w in words]
    scores = {lang: sum(w in vocabulary for w in lower) for lang, vocabulary in _FUNCTION_WORDS.items()}
    text = " ".join(lower)
    for hint, lang in _LETTER_HINTS.items():
        scores[lang] += 2 * text.count(hint)
    ranked = sorted(scores, key=lambda lang: -scores[lang])
    best, second = ranked[0], ranked[1]
    clear = scores[best] >= 2 and scores[best] >= scores[second] + 2
    return (best if scores[best] > scores[second] else "en"), clear


def with_line_language(words: list[Word], fallback: str | None = None) -> list[Word]:
    """Latin-script words take their line's language; a line too short to tell takes `fallback`."""
    latin = [w for w in words if w.language in ("en", "latin") or w.language in _FUNCTION_WORDS]
    if not latin:
        return words
    language, clear = latin_language([w.text for w in latin])
    if not clear and fallback:
        language = fallback
    return [Word(w.text, w.syllables, language) if w in latin else w for w in words]


def _song_language(sections: list[LyricSection]) -> None:
    """Lines that say too little about their language take the song's."""
    words = [w.text for s in sections for p in s.phrases for w in p.words if w.language in _FUNCTION_WORDS]
    song, clear = latin_language(words)
    if not clear:
        return
    for section in sections:
        section.phrases = [Phrase(p.text, tuple(with_line_language(list(p.words), song)), p.line_index)
                           for p in section.phrases]


def _spoken_url(match: re.Match) -> str:
    """"https://www.example.com/song" -> "example dot com slash song"."""
    address = re.sub(r"^(https?://)?(www\.)?", "", match.group(0), flags=re.I).rstrip(".,;:!?)")
    spoken = address.replace(".", " dot ").replace("/", " slash ").replace("-", " dash ")
    return " ".join(re.findall(r"[^\W_]+", spoken))


def words_of(text: str, *, unread: list[str] | None = None) -> list[Word]:
    """The words of normalised text (see `normalize_text`), each with its syllables. A word no
    transliteration can read (a Han character outside every reading table) is left out and
    appended to `unread`."""
    text = _URL.sub(_spoken_url, text)
    words: list[Word] = []
    for token in _TOKEN.findall(text):
        if _CJK.match(token):
            if anyascii(token).isalpha():
                words.append(Word(token, (token,), "zh"))
            elif unread is not None:
                unread.append(token)
        elif _KANA.match(token):
            words.append(Word(token, tuple(_kana_syllables(token)), "ja"))
        elif _HANGUL.match(token):
            words.append(Word(token, tuple(token), "ko"))
        elif token.isdecimal():
            words.extend(Word(w, tuple(english_syllables(w)), "en") for w in number_words(token))
        else:
            language = "en" if token.isascii() else script_language(token)
            for part in _WORD_PART.findall(token):
                if part.isdecimal():
                    words.extend(Word(w, tuple(english_syllables(w)), "en") for w in number_words(part))
                elif language == "latin" or part.isascii():
                    words.append(Word(part, tuple(english_syllables(part)), language))
                elif re.search(r"[A-Za-z]", anyascii(part)):  # another script: syllables from its transliteration
                    words.append(Word(part, _script_syllables(part), language))
                elif unread is not None:
                    unread.append(part)
    return words


def _script_syllables(word: str) -> tuple[str, ...]:
    """A word of another script, in as many pieces as its transliteration has syllables."""
    count = len(english_syllables(anyascii(word)))
    pieces = [word[round(i * len(word) / count):round((i + 1) * len(word) / count)] for i in range(count)]
    return tuple(p for p in pieces if p) or (word,)


def script_language(token: str) -> str:
    """The language a word's script tells (Cyrillic: "ru", Greek: "el", ...); "latin" for Latin
    letters (the line's words tell which language), else the script's name ("georgian")."""
    letter = next((c for c in token if c.isalpha()), "a")
    script = unicodedata.name(letter, "LATIN").split()[0]
    return _SCRIPT_LANGUAGES.get(script, script.lower())


def _kana_syllables(token: str) -> list[str]:
    out: list[str] = []
    for char in token:
        if char in _SMALL_KANA and out:
            out[-1] += char
        elif char == "ー" and out:
            out[-1] += char
        else:
            out.append(char)
    return out


_VOWELS = "aeiouyàáâäæãåèéêëìíîïòóôöõøùúûüýÿœ"
_KEEP_TOGETHER = ("th", "sh", "ch", "ph", "wh", "ck", "ng", "qu", "gh")


# Where spelling rules go wrong on words songs use often: the syllables as sung.
_SYLLABLE_EXCEPTIONS = {
    "nineteen": "nine-teen", "ninety": "nine-ty", "hundred": "hun-dred", "seventeen": "se-ven-teen",
    "sometimes": "some-times", "somewhere": "some-where", "someone": "some-one", "something": "some-thing",
    "lovely": "love-ly", "lonely": "lone-ly", "lately": "late-ly", "forever": "for-e-ver", "every": "ev-ery",
    "everything": "ev-ery-thing", "everyone": "ev-ery-one", "everybody": "ev-ery-bo-dy", "idea": "i-de-a",
    "create": "cre-ate", "quiet": "qui-et", "science": "sci-ence", "poem": "po-em", "fire": "fire",
    "video": "vi-de-o", "stereo": "ste-re-o", "radio": "ra-di-o", "hour": "hour", "our": "our", "real": "real", "really": "real-ly", "heaven": "hea-ven", "area": "a-re-a",
}


def english_syllables(word: str) -> list[str]:
    """Split a Latin-script word into syllables with spelling rules (good, not perfect)."""
    lower = word.lower()
    if lower in _SYLLABLE_EXCEPTIONS:
        pieces, at = [], 0
        for piece in _SYLLABLE_EXCEPTIONS[lower].split("-"):
            pieces.append(word[at:at + len(piece)])
            at += len(piece)
        return pieces
    groups = [(m.start(), m.end()) for m in re.finditer(f"[{_VOWELS}]+", lower)]
    groups = [part for g in groups for part in _split_hiatus(lower, g)]
    if lower.startswith("y") and groups and groups[0][0] == 0 and len(lower) > 1 and lower[1] in _VOWELS:
        groups[0] = (1, groups[0][1])  # "you", "yes": y is a consonant
    if len(groups) > 1 and _silent_final_e(lower, groups):
        groups.pop()
    if lower.endswith(("thm", "sm")) and len(lower) > 3:
        groups.append((len(lower) - 1, len(lower)))  # "rhythm", "prism": a sung syllabic m
    if len(groups) > 1 and re.search(r"[^aeiouy]ed$", lower) and not re.search(r"[td]ed$", lower):
        groups.pop()
    if not groups:
        return [word]
    cuts = []
    for (_, end), (start, _) in zip(groups, groups[1:]):
        consonants = lower[end:start]
        if len(consonants) <= 1:
            cut = end
        elif consonants[-2:] in _KEEP_TOGETHER or consonants[-2:] in ("bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "tr"):
            cut = start - 2
        else:
            cut = end + 1
        cuts.append(cut)
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(word[last:cut])
        last = cut
    pieces.append(word[last:])
    return [p for p in pieces if p]


def _split_hiatus(word: str, group: tuple[int, int]) -> list[tuple[int, int]]:
    """Vowel letters that are two syllables: go-ing, be-ing, see-ing, tri-o, di-al."""
    start, end = group
    text = word[start:end]
    if word[end:end + 2] == "ng" and len(text) >= 2 and text.endswith("i"):
        return [(start, end - 1), (end - 1, end)]  # "going", "seeing": the i of -ing is its own syllable
    if text in ("ia", "io", "ua", "uo", "iu") and not (start > 0 and word[start - 1] in "tsc" and text in ("ia", "io")) \
            and not (start > 0 and word[start - 1] == "q"):
        return [(start, start + 1), (start + 1, end)]
    return [group]


def _silent_final_e(lower: str, groups: list[tuple[int, int]]) -> bool:
    start, end = groups[-1]
    if lower[start:end] != "e" or end != len(lower):
        if lower.endswith("es") and start == len(lower) - 2 and not re.search(r"(s|x|z|ch|sh|ce|ge|[^aeiouy]l)es$", lower):
            return True
        return False
    return not re.search(r"[^aeiouy]le$", lower)


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(digits: str) -> list[str]:
    """English words for a number as a singer would say it ("1999" -> nineteen ninety nine).
    Reads the decimal digits of any script ("١٩٩٩", "❶"); any other character is a ValueError."""
    if not digits or any(unicodedata.digit(c, None) is None for c in digits):
        raise ValueError(f"not a number: {digits!r}")
    digits = "".join(str(unicodedata.digit(c)) for c in digits)
    if len(digits) > 7:
        return [_ONES[int(d)] for d in digits]
    value = int(digits)
    if len(digits) == 4 and 1100 <= value <= 2099 and value % 100 != 0 and not 2000 <= value <= 2009:
        return _below_100(value // 100) + _below_100(value % 100)
    return _cardinal(value)


def _below_100(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])


def _cardinal(n: int) -> list[str]:
    if n < 100:
        return _below_100(n)
    if n < 1000:
        rest = _cardinal(n % 100) if n % 100 else []
        return [_ONES[n // 100], "hundred"] + rest
    if n < 1_000_000:
        rest = _cardinal(n % 1000) if n % 1000 else []
        return _cardinal(n // 1000) + ["thousand"] + rest
    rest = _cardinal(n % 1_000_000) if n % 1_000_000 else []
    return _cardinal(n // 1_000_000) + ["million"] + rest


# ---------------------------------------------------------------- stress

_UNSTRESSED_WORDS = set("a an the to of and or but in on at by for from with as is am are was were be been it its "
                        "my your his her our their me him us them i you he she we they that this than so if do does "
                        "did has have had can could will would shall should may might must not no nor".split())
# English words whose primary stress is not on the first syllable, by stem (a word matches when it
# is the stem or the stem plus an ending: believe -> believes, believing, believed). Everything else
# stresses its first syllable, except the suffix rules in `_stressed_syllable`.
_LATE_STRESS = {w: 1 for w in (
    "about above across again against ago ahead alive alone along aloud amaze among apart around arrive "
    "aside asleep attack awake aware away because become before began begin begun behind belong below "
    "beneath beside between beyond believe betray collide complete confess control decide deny desire destroy "
    "divine embrace enough escape erase explain forget forgave forgive forgot goodbye hello ignite inside "
    "instead machine myself ourselves pretend prepare protect provide receive release remain repeat replace "
    "return reveal surprise tonight today unless until upon within without yourself guitar hotel cafe "
    "another forever together tomorrow remember however whatever whenever wherever whoever imagine "
    "surrender horizon umbrella delicious beginning forgotten believer"
).split()}
_LATE_STRESS.update({w: 2 for w in "understand entertain overcome disappear recommend violin guarantee".split()})
_ENDINGS = ("", "s", "es", "d", "ed", "ing", "er", "ers", "r", "n")


def _stressed_syllable(lower: str, count: int) -> int:
    """Index of the primary stress of an English word of `count` syllables."""
    for stem, index in _LATE_STRESS.items():
        if lower.startswith(stem) and lower[len(stem):] in _ENDINGS or \
                stem.endswith("e") and lower.startswith(stem[:-1]) and lower[len(stem) - 1:] in ("ing", "ed", "er"):
            return min(index, count - 1)
    if count >= 3 and re.search(r"(tion|sion|cian|cial|tial|ious|ic|ical|ity|ify)s?$", lower):
        if lower.endswith(("ity", "ities", "ify", "ical", "icals")):
            return max(0, count - 3)
        return count - 2
    return 0


def syllable_stress(word: Word) -> tuple[bool, ...]:
    """Which syllables of an English word carry stress: function words none; a word's primary
    stress from a small dictionary of late-stressed words (be-LIEVE, to-MOR-row, a-NOTH-er) and
    suffix rules (-tion, -ity), else its first syllable (PRO-mise, RI-ver, UN-der); secondary
    stress every other syllable from the primary. Other languages: every syllable counts as stressed."""
    count = len(word.syllables)
    if word.language != "en" or count == 0:
        return (True,) * count
    lower = re.sub(r"[^a-z]", "", word.text.lower())
    if count == 1:
        return (lower not in _UNSTRESSED_WORDS,)
    primary = _stressed_syllable(lower, count)
    return tuple((i - primary) % 2 == 0 for i in range(count))


NEUTRAL_TONE = frozenset("的了着吗呢吧啊呀们子得地么过哦嘛啦")  # Mandarin particles and suffixes sung light


def phrase_stress(phrase: Phrase) -> tuple[list[bool], list[bool]]:
    """Each syllable's stress and whether it is joined to the next one (the same word or foot).
    English: each word's own stress (`syllable_stress`). Mandarin: every character is a syllable,
    and characters go in two-character feet (词 are mostly two characters) counted from the start
    of each group between spaces and punctuation: the first of a foot is the strong one, the
    second joined to it; particles (的, 了, 吗...) are always light."""
    stress, joined = [], []
    foot = 0
    groups = iter(_han_group_sizes(phrase.text))
    left = next(groups, 0)
    for word in phrase.words:
        if word.language == "zh" and len(word.syllables) == 1:
            if left <= 0:
                left, foot = next(groups, 0), 0
            left -= 1
            if word.text in NEUTRAL_TONE:  # light, sung with the character before it; a new foot follows
                if foot > 0:
                    joined[-1] = True
                stress.append(False)
                joined.append(False)
                foot = 0
                continue
            stress.append(foot % 2 == 0)
            joined.append(foot % 2 == 0 and left > 0)
            foot += 1
            continue
        stress += syllable_stress(word)
        joined += [j < len(word.syllables) - 1 for j in range(len(word.syllables))]
        foot = 0
    return stress, joined


def _han_group_sizes(text: str) -> list[int]:
    """How many Han characters each run of them has, runs split by spaces, punctuation or other script."""
    return [len(run) for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", text)]


# ---------------------------------------------------------------- phrases

def split_phrases(chunk: str, words: list[Word]) -> list[list[Word]]:
    """A line becomes one phrase, or several when it is long (at spaces between CJK groups,
    at punctuation, else evenly at word boundaries). The words keep their line's language: the
    pieces of the text only say how many of them each phrase takes."""
    total = sum(len(w.syllables) for w in words)
    if total <= MAX_PHRASE_SYLLABLES and not _cjk_groups(chunk, total, words):
        return [words]
    groups = _cjk_groups(chunk, total, words) or _pieces(words, re.split(r"[,;:.!?，。！？；、]+", chunk)) or [words]
    phrases: list[list[Word]] = []
    for group in groups:
        size = sum(len(w.syllables) for w in group)
        if size <= MAX_PHRASE_SYLLABLES + 2:
            phrases.append(group)
        else:
            phrases.extend(_even_split(group, size))
    return phrases


def _pieces(words: list[Word], texts: list[str]) -> list[list[Word]] | None:
    """`words` cut into consecutive groups as many as each text has (None if they disagree)."""
    sizes = [len(words_of(t)) for t in texts]
    if sum(sizes) != len(words):
        return None
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [words[start:start + size] for start, size in zip(starts, sizes) if size]


def _cjk_groups(chunk: str, total: int, words: list[Word]) -> list[list[Word]] | None:
    """Space-separated CJK groups in a line of more than 8 syllables become phrases."""
    if total <= 8 or not _CJK.search(chunk):
        return None
    parts = _pieces(words, chunk.split()) or []
    if len(parts) < 2:
        return None
    merged: list[list[Word]] = []
    for part in parts:
        if merged and (sum(len(w.syllables) for w in merged[-1]) < 3 or sum(len(w.syllables) for w in part) < 3):
            merged[-1] = merged[-1] + part
        else:
            merged.append(part)
    return merged


def _even_split(words: list[Word], size: int) -> list[list[Word]]:
    count = -(-size // 10)
    target = size / count
    pieces: list[list[Word]] = [[]]
    running = 0
    for word in words:
        if pieces[-1] and running + len(word.syllables) / 2 > target * len(pieces) and len(pieces) < count:
            pieces.append([])
        pieces[-1].append(word)
        running += len(word.syllables)
    return pieces
