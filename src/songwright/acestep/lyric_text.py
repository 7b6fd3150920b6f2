"""Per-language text cleaning for the ACE-Step lyric tokenizer.

`clean_line(text, lang)` turns one lyric line into the string ACE-Step's BPE vocabulary was
trained on: lowercase, digits read out in words (num2words; Chinese through its own
reader), abbreviations and symbols spelled out, Chinese as pinyin with tone digits,
Japanese as Hepburn romaji (cutlet + unidic-lite) and Korean in the academic hangul
romanisation. The rules and their quirks follow upstream ACE-Step v1
(`acestep/models/lyrics_utils/lyric_tokenizer.py`, `zh_num2words.py`) because the token
ids depend on them. Per-language tables are plain data: adding a language's abbreviations
means adding an entry.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable

from ..errors import MissingDependency

try:
    import pypinyin
    from hangul_romanize import Transliter
    from hangul_romanize.rule import academic
    from num2words import num2words
except ImportError as err:  # pragma: no cover - depends on the environment
    raise MissingDependency(err.name or "a lyric text package", 'pip install -e ".[neural]"') from err

# Languages that go through the multilingual cleaner (numbers, abbreviations, symbols).
MULTILINGUAL = frozenset("ar cs de en es fr hu it nl pl pt ru tr zh ko".split())

# ------------------------------------------------------------------ language tables

# Abbreviation -> expansion, matched case-insensitively as "\b<abbr>." (Russian: "\b<abbr>\b").
ABBREVIATIONS: dict[str, list[tuple[str, str]]] = {
    "en": [("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
           ("jr", "junior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"), ("rev", "reverend"),
           ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
           ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort")],
    "es": [("sra", "señora"), ("sr", "señor"), ("dr", "doctor"), ("dra", "doctora"), ("st", "santo"),
           ("co", "compañía"), ("jr", "junior"), ("ltd", "limitada")],
    "fr": [("mme", "madame"), ("mr", "monsieur"), ("dr", "docteur"), ("st", "saint"), ("co", "compagnie"),
           ("jr", "junior"), ("ltd", "limitée")],
    "de": [("fr", "frau"), ("dr", "doktor"), ("st", "sankt"), ("co", "firma"), ("jr", "junior")],
    "pt": [("sra", "senhora"), ("sr", "senhor"), ("dr", "doutor"), ("dra", "doutora"), ("st", "santo"),
           ("co", "companhia"), ("jr", "júnior"), ("ltd", "limitada")],
    "it": [("sig", "signore"), ("dr", "dottore"), ("st", "santo"), ("co", "compagnia"), ("jr", "junior"),
           ("ltd", "limitata")],
    "pl": [("p", "pani"), ("m", "pan"), ("dr", "doktor"), ("sw", "święty"), ("jr", "junior")],
    "cs": [("dr", "doktor"), ("ing", "inženýr"), ("p", "pan")],
    "ru": [("г-жа", "госпожа"), ("г-н", "господин"), ("д-р", "доктор")],
    "nl": [("dhr", "de heer"), ("mevr", "mevrouw"), ("dr", "dokter"), ("jhr", "jonkheer")],
    "tr": [("b", "bay"), ("byk", "büyük"), ("dr", "doktor")],
    "hu": [("dr", "doktor"), ("b", "bácsi"), ("nőv", "nővér")],
    "ar": [], "zh": [], "ko": [],
}
_ABBREVIATION_END = {"ru": r"\b"}  # every other language needs the full stop

# Words for & @ % # $ £ ° (in that order), each inserted with a space on both sides.
_SYMBOL_CHARS = "&@%#$£°"
SYMBOL_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("and", "at", "percent", "hash", "dollar", "pound", "degree"),
    "es": ("y", "arroba", "por ciento", "numeral", "dolar", "libra", "grados"),
    "fr": ("et", "arobase", "pour cent", "dièse", "dollar", "livre", "degrés"),
    "de": ("und", "at", "prozent", "raute", "dollar", "pfund", "grad"),
    "pt": ("e", "arroba", "por cento", "cardinal", "dólar", "libra", "graus"),
    "it": ("e", "chiocciola", "per cento", "cancelletto", "dollaro", "sterlina", "gradi"),
    "pl": ("i", "małpa", "procent", "krzyżyk", "dolar", "funt", "stopnie"),
    "ar": ("و", "على", "في المئة", "رقم", "دولار", "جنيه", "درجة"),
    "zh": ("和", "在", "百分之", "号", "美元", "英镑", "度"),
    "cs": ("a", "na", "procento", "křížek", "dolar", "libra", "stupně"),
    "ru": ("и", "собака", "процентов", "номер", "доллар", "фунт", "градус"),
    "nl": ("en", "bij", "procent", "hekje", "dollar", "pond", "graden"),
    "tr": ("ve", "at", "yüzde", "diyez", "dolar", "sterlin", "derece"),
    "hu": ("és", "kukac", "százalék", "kettőskereszt", "dollár", "font", "fok"),
    "ko": ("그리고", "에", "퍼센트", "번호", "달러", "파운드", "도"),
}

# Ordinal numbers: group 1 is the number, the rest the language's ordinal suffix.
ORDINALS: dict[str, str] = {
    "en": r"([0-9]+)(st|nd|rd|th)",
    "es": r"([0-9]+)(º|ª|er|o|a|os|as)",
    "fr": r"([0-9]+)(º|ª|er|re|e|ème)",
    "de": r"([0-9]+)(st|nd|rd|th|º|ª|\.(?=\s|$))",
    "pt": r"([0-9]+)(º|ª|o|a|os|as)",
    "it": r"([0-9]+)(º|°|ª|o|a|i|e)",
    "pl": r"([0-9]+)(º|ª|st|nd|rd|th)",
    "ar": r"([0-9]+)(ون|ين|ث|ر|ى)",
    "cs": r"([0-9]+)\.(?=\s|$)",
    "ru": r"([0-9]+)(-й|-я|-е|-ое|-ье|-го)",
    "nl": r"([0-9]+)(de|ste|e)",
    "tr": r"([0-9]+)(\.|inci|nci|uncu|üncü|\.)",
    "hu": r"([0-9]+)(\.|adik|edik|odik|edik|ödik|ödike|ik)",
    "ko": r"([0-9]+)(번째|번|차|째)",
}

# What num2words puts between the units and the cents of a currency amount.
_CENTS_JOINER = {"en": ", ", "es": " con ", "fr": " et ", "de": " und ", "pt": " e ", "it": " e "}

_CURRENCIES = {  # checked in this order
    "GBP": re.compile(r"((£[0-9\.\,]*[0-9]+)|([0-9\.\,]*[0-9]+£))"),
    "USD": re.compile(r"((\$[0-9\.\,]*[0-9]+)|([0-9\.\,]*[0-9]+\$))"),
    "EUR": re.compile(r"(([0-9\.\,]*[0-9]+€)|((€[0-9\.\,]*[0-9]+)))"),
}
_COMMA_GROUPED = re.compile(r"\b\d{1,3}(,\d{3})*(\.\d+)?\b")  # 1,000.5 (en, ru)
_DOT_GROUPED = re.compile(r"\b\d{1,3}(.\d{3})*(\,\d+)?\b")  # 1.000,5 (others; "." is unescaped upstream)
_DECIMAL = re.compile(r"([0-9]+[.,][0-9]+)")
_INTEGER = re.compile(r"[0-9]+")


# ------------------------------------------------------------------ entry point


def clean_line(text: str, lang: str) -> str:
    """The cleaned form of one lyric line for language `lang` (what the BPE model sees).

    Raises NotImplementedError for a language the vocabulary has no cleaner for.
    """
    if lang in MULTILINGUAL:
        text = _multilingual(text, lang)
        if lang == "zh":
            return _pinyin(text)
        if lang == "ko":
            return Transliter(academic).translit(text)
        return text
    if lang == "ja":
        return _romaji_reader().romaji(text).lower()
    if lang == "hi":  # upstream has no Hindi cleaner yet: lowercase and collapse spaces only
        return _collapse_spaces(text.lower())
    raise NotImplementedError(f"no lyric cleaner for language {lang!r}")


def _multilingual(text: str, lang: str) -> str:
    """Quotes dropped, lowercase, then numbers, abbreviations and symbols spelled out.

    A stage that raises is skipped as a whole, as upstream does.
    """
    text = text.replace('"', "")
    if lang == "tr":
        text = text.replace("İ", "i").replace("Ö", "ö").replace("Ü", "ü")
    text = text.lower()
    for stage in (_spell_numbers, _expand_abbreviations, _spell_symbols):
        try:
            text = stage(text, lang)
        except Exception:
            pass
    return _collapse_spaces(text)


def _collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pinyin(text: str) -> str:
    """Mandarin as toneful pinyin (TONE3, neutral tone 5), syllables run together."""
    syllables = pypinyin.pinyin(text, style=pypinyin.Style.TONE3, heteronym=False, neutral_tone_with_five=True)
    return "".join(choices[0] for choices in syllables)


@functools.cache
def _romaji_reader():
    """One cutlet romaniser per process (building its MeCab tagger is slow)."""
    try:
        import cutlet
    except ImportError as err:
        raise MissingDependency("cutlet (Japanese romaji)", 'pip install -e ".[neural]"') from err
    return cutlet.Cutlet()


# ------------------------------------------------------------------ stages


def _expand_abbreviations(text: str, lang: str) -> str:
    end = _ABBREVIATION_END.get(lang, r"\.")
    for abbreviation, expansion in ABBREVIATIONS[lang]:
        text = re.sub(rf"\b{abbreviation}{end}", expansion, text, flags=re.IGNORECASE)
    return text


def _spell_symbols(text: str, lang: str) -> str:
    for symbol, word in zip(_SYMBOL_CHARS, SYMBOL_WORDS[lang], strict=True):
        text = text.replace(symbol, f" {word} ").replace("  ", " ")
    return text.strip()


def _spell_numbers(text: str, lang: str) -> str:
    if lang == "zh":
        return normalize_chinese_numbers(text)
    n2w_lang = "cz" if lang == "cs" else lang
    if lang in ("en", "ru"):
        text = _COMMA_GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)
    else:
        text = _DOT_GROUPED.sub(lambda m: m.group(0).replace(".", ""), text)
    try:  # a failing amount ends the currency pass; amounts already spelled out stay
        for currency, pattern in _CURRENCIES.items():
            text = pattern.sub(lambda m, c=currency: _currency_words(m.group(0), c, lang, n2w_lang), text)
    except Exception:
        pass
    if lang != "tr":
        text = _DECIMAL.sub(lambda m: num2words(float(m.group(1).replace(",", ".")), lang=n2w_lang), text)
    text = re.sub(ORDINALS[lang], lambda m: num2words(int(m.group(1)), ordinal=True, lang=n2w_lang), text)
    return _INTEGER.sub(lambda m: num2words(int(m.group(0)), lang=n2w_lang), text)


def _currency_words(amount_text: str, currency: str, lang: str, n2w_lang: str) -> str:
    """An amount of money in words; whole amounts lose num2words' trailing "zero cents"."""
    amount = float(re.sub(r"[^\d.]", "", amount_text.replace(",", ".")))
    words = num2words(amount, to="currency", currency=currency, lang=n2w_lang)
    if amount.is_integer():
        cut = words.rfind(_CENTS_JOINER.get(lang, ", "))
        if cut != -1:
            words = words[:cut]
    return words


# ------------------------------------------------------------------ Chinese numbers
# Upstream normalises Chinese text with a copy of the chn_text_norm rewriter (defaults only):
# dates, money, phone numbers, fractions, percentages, numbers before a measure word,
# long digit strings and plain numbers become hanzi, and every punctuation mark becomes ",".

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = {1: "十", 2: "百", 3: "千", 4: "万", 8: "亿", 12: "兆", 16: "京", 20: "垓", 24: "秭",
             28: "穰", 32: "沟", 36: "涧", 40: "正", 44: "载"}
_ZH_CURRENCY_UNITS = "((亿|千万|百万|万|千|百)|(亿|千万|百万|万|千|百|)元|(亿|千万|百万|万|千|百|)块|角|毛|分)"
_ZH_MEASURE_WORDS = (
    "(匹|张|座|回|场|尾|条|个|首|阙|阵|网|炮|顶|丘|棵|只|支|袭|辆|挑|担|颗|壳|窠|曲|墙|群|腔|"
    "砣|座|客|贯|扎|捆|刀|令|打|手|罗|坡|山|岭|江|溪|钟|队|单|双|对|出|口|头|脚|板|跳|枝|件|贴|"
    "针|线|管|名|位|身|堂|课|本|页|家|户|层|丝|毫|厘|分|钱|两|斤|担|铢|石|钧|锱|忽|(千|毫|微)克|"
    "毫|厘|分|寸|尺|丈|里|寻|常|铺|程|(千|分|厘|毫|微)米|撮|勺|合|升|斗|石|盘|碗|碟|叠|桶|笼|盆|"
    "盒|杯|钟|斛|锅|簋|篮|盘|桶|罐|瓶|壶|卮|盏|箩|箱|煲|啖|袋|钵|年|月|日|季|刻|时|周|天|秒|分|旬|"
    "纪|岁|世|更|夜|春|夏|秋|冬|代|伏|辈|丸|泡|粒|颗|幢|堆|条|根|支|道|面|片|张|颗|块)"
)
_ZH_PUNCTUATION = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿"
    "–—‘’‛“”„‟…‧﹏·〈〉-" + string.punctuation
)
_TO_COMMAS = str.maketrans(_ZH_PUNCTUATION, "," * len(_ZH_PUNCTUATION))

_ZH_DATE = re.compile(r"\D+((([089]\d|(19|20)\d{2})年)?(\d{1,2}月(\d{1,2}[日号])?)?)")
_ZH_MONEY = re.compile(r"\D+((\d+(\.\d+)?)[多余几]?" + _ZH_CURRENCY_UNITS + r"(\d" + _ZH_CURRENCY_UNITS + r"?)?)")
_ZH_MOBILE = re.compile(r"\D((\+?86 ?)?1([38]\d|5[0-35-9]|7[678]|9[89])\d{8})\D")
_ZH_LANDLINE = re.compile(r"\D((0(10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})\D")
_ZH_FRACTION = re.compile(r"(\d+/\d+)")
_ZH_PERCENT = re.compile(r"(\d+(\.\d+)?%)")
_ZH_MEASURED = re.compile(r"(\d+(\.\d+)?)[多余几]?" + _ZH_MEASURE_WORDS)
_ZH_DIGIT_STRING = re.compile(r"(\d{4,32})")
_ZH_NUMBER = re.compile(r"(\d+(\.\d+)?)")
_ZH_LATIN_TWO_LATIN = re.compile(r"(([a-zA-Z]+)二([a-zA-Z]+))")  # P2P, B2B: the 2 is put back


def normalize_chinese_numbers(text: str) -> str:
    """Chinese text with its numbers read out in hanzi and all punctuation turned into ","."""
    text = f"^{text}$"  # sentinels so patterns that need a non-digit neighbour match at the edges
    text = _rewrite_each(text, _ZH_DATE, _read_date)
    text = _rewrite_each(text, _ZH_MONEY, _read_money)
    text = _rewrite_each(text, _ZH_MOBILE, lambda s: "".join(map(_read_digits, s.strip("+").split())))
    text = _rewrite_each(text, _ZH_LANDLINE, lambda s: "".join(map(_read_digits, s.split("-"))))
    text = _rewrite_each(text, _ZH_FRACTION, _read_fraction)
    text = _rewrite_each(text.replace("％", "%"), _ZH_PERCENT, lambda s: "百分之" + chinese_number(s.strip().strip("%")))
    text = _rewrite_each(text, _ZH_MEASURED, chinese_number)
    text = _rewrite_each(text, _ZH_DIGIT_STRING, _read_digits)
    text = _rewrite_each(text, _ZH_NUMBER, chinese_number)
    for whole, left, right in _ZH_LATIN_TWO_LATIN.findall(text):
        text = text.replace(whole, f"{left}2{right}", 1)
    return text.lstrip("^").rstrip("$").translate(_TO_COMMAS)


def _rewrite_each(text: str, pattern: re.Pattern, rewrite: Callable[[str], str]) -> str:
    """Rewrite every match found up front, each at the first place its text occurs."""
    for found in pattern.findall(text):
        found = found if isinstance(found, str) else found[0]
        if found:
            text = text.replace(found, rewrite(found), 1)
    return text


def _read_digits(number: str) -> str:
    return chinese_number(number, liang=False, with_units=False)


def _read_fraction(fraction: str) -> str:
    numerator, denominator = fraction.split("/")
    return chinese_number(denominator) + "分之" + chinese_number(numerator)


def _read_money(money: str) -> str:
    for number, _ in re.findall(r"(\d+(\.\d+)?)", money):
        money = money.replace(number, chinese_number(number))
    return money


def _read_date(date: str) -> str:
    """YYYY年 digit by digit, the month and day as cardinals."""
    year_part, has_year, rest = date.strip().partition("年")
    if not has_year:
        year, rest = "", date
    else:
        year = _read_digits(year_part) + "年"
    if not rest:
        return year
    month, _, day = rest.strip().partition("月")  # the date pattern guarantees a 月 here
    day = chinese_number(day[:-1]) + day[-1] if day else ""
    return year + chinese_number(month) + "月" + day


def chinese_number(number: str, liang: bool = True, with_units: bool = True) -> str:
    """A decimal numeral read in Chinese: "120" -> 一百二十, "0.5" -> 零点五.

    `liang` writes 两 for a 2 before 百/千/万/... (not before 十); without `with_units` the
    digits are read one by one.
    """
    integer, point, decimals = number.partition(".")
    if "." in decimals:
        raise ValueError(f"more than one decimal point in {number!r}")
    if with_units and len(integer) > 1:
        symbols = cardinal_symbols(integer, max(_ZH_UNITS))
    else:
        symbols = [_ZH_DIGITS[int(c)] for c in integer]
    if point and decimals:
        symbols += ["点"] + [_ZH_DIGITS[int(c)] for c in decimals]
    if liang:
        symbols = _use_liang(symbols)
    result = "".join(symbols)
    if result.startswith("点"):
        return "零" + result
    if result[:2] == "一十":  # 10..19 are read 十, 十一, ...
        return result[1:]
    return result


def cardinal_symbols(value: str, largest_power: int) -> list[str]:
    """Digits and unit characters of an integer, e.g. "1005" -> [一, 千, 零, 五].

    Units up to 10**largest_power are used (4 -> 万, 8 -> 亿, ...).
    """
    stripped = value.lstrip("0")
    if not stripped:
        return []
    if len(stripped) == 1:
        digit = _ZH_DIGITS[int(stripped)]
        return ["零", digit] if len(stripped) < len(value) else [digit]
    power = max(p for p in _ZH_UNITS if p < len(stripped) and p <= largest_power)
    return (
        cardinal_symbols(value[:-power], largest_power)
        + [_ZH_UNITS[power]]
        + cardinal_symbols(stripped[-power:], largest_power)
    )


def _use_liang(symbols: list[str]) -> list[str]:
    """二 -> 两 when a unit other than 十 follows and no 十 (or digit) precedes."""
    units = set(_ZH_UNITS.values())
    out = list(symbols)
    for i, symbol in enumerate(symbols):
        if symbol != "二":
            continue
        after = symbols[i + 1] if i + 1 < len(symbols) else None
        before = symbols[i - 1] if i > 0 else None
        if after in units and after != "十" and (before is None or (before in units and before != "十")):
            out[i] = "两"
    return out
