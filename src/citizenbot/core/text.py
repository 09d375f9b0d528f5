"""Text folding shared by every matching stage: one normal form, one tokeniser, one stemmer.

The intents matcher, the report search and the scope check must see a question the same way,
or a word found by one is missed by the other. Everything here is pure and cheap.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
import zhconv

MAX_MATCH_CHARS = 500

STOPWORDS_EN = frozenset("""
    a an the is are was were be been being am do does did doing have has had having i me my we
    our you your he she it its they them their this that these those there here what which who
    whom whose when where why how can could would should will shall may might must of in on at
    to for from by with about into over under as and or but if then so than too very just also
    any some all please tell know want like get give let us much many more most other such only
    own same s t don not no yes ok thing things anything something anyone really actually kind
    sort lot lots bit maybe etc im id ive whats hows wheres whos thats theres isnt arent dont
    doesnt didnt wont cant apart
    since among amongst during through throughout within without upon onto toward
    towards via each every both either neither while whilst whereas because although
    though until till after before again once besides despite unless
    itself themselves himself herself yourself yourselves ourselves myself
""".split())

# Words that make a question a question but say nothing of its subject. They are dropped
# before matching, so "what does the report say about X" weighs as much as "X".
FILLER_EN = frozenset("""
    say says said mention mentions mentioned mentioning report reports document talk talks
    details detail info information explain describe description overview summary summarise
    summarize regarding concerning related relating doing done happening going planned
    anyone someone somebody anybody wondering wonder curious interested look looking hi hey
    hello dear sir madam thanks thank need needs find out check checking currently now
    exactly roughly approximately around about according exist exists existing there
    briefly quick quickly short simply simple role roles importance significance situation
    status progress update updates latest news overview mean means meaning meant definition
    define defined stand stands considered refer refers counts make makes making made sure
    happen happens happened happening ready yet try trying tried able allowed possible
    possibly still already ever even else whether thing stuff way ways going gonna wanna
    kinds types type sorts go goes went gone come comes came get gets got good bad nice
    better best worse worst far put puts putting bring brings bringing keep
    keeps keeping hear heard think thinking fit fits together ones hardest harder
    shift shifted shifts compare compared comparing comparison direction directions
    versus vs evolve evolved evolving specifically particularly especially primarily chiefly
    essentially mostly supposed
""".split())

STOPCHARS_ZH = frozenset(
    "的了吗呢吧啊呀么是有在我你他她它们这那个些"
    "什怎哪请问和与及就都也还要想能会可以嘛"
)

# Chinese question words and filler, longest first when applied.
FILLER_ZH = tuple(sorted("""
    什么 多少 怎么样 怎么 怎样 如何 哪些 哪个 哪里 哪儿 有没有 有无 是不是 是否 能否 介绍一下
    介绍 一下 请问 请 关于 方面 情况 相关 具体 内容 报告里 报告中 报告 提到 提及 说了 讲了
    怎么说 说的 说 讲 谈 吗 呢 吧 啊 呀 嘛 一些 有哪些 都有 有什么 是什么 为什么 了解 想知道
    知道 告诉我 告诉 给我 我想 想问 问一下 问 麻烦 谢谢 您好 你好 清楚 详细 简单 主要是
    啥 咋样 咋 到底是 究竟是 听说 听到 听人说 据说 经常 新闻里 新闻上 网上说 其实 真的
""".split(), key=len, reverse=True))

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
_NOT_TEXT = re.compile(f"[^a-z0-9{_CJK}]+")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
# Scripts of languages the bot does not read (Cyrillic, Greek, Arabic, Hebrew, Devanagari,
# Thai and others); Latin is read as English.
_OTHER_SCRIPT = re.compile(
    r"[\u0370-\u03ff\u0400-\u052f\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f"
    r"\u10a0-\u10ff\u0530-\u058f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_STEMMER = snowballstemmer.stemmer("english")
_NO_FOOTNOTE_MARKS = str.maketrans("", "", "①②③④⑤⑥⑦⑧⑨⑩")
_IS_CONTRACTED = re.compile(r"\b(what|where|who|how|when|why|which|there|here|it|that)'s\s")


def has_cjk(text: str) -> bool:
    return CJK_RUN.search(text) is not None


def language_of(text: str) -> str:
    """'zh' with Chinese characters, 'other' for another script the bot does not read,
    else 'en'.

    Japanese is told apart by its kana: kanji alone cannot be told from Chinese, and is read as
    Chinese (the answer is checked like any other). A few foreign words in an English or Chinese
    question do not make it foreign.
    """
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    other = len(_OTHER_SCRIPT.findall(text))
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(text))
    foreign = kana + hangul + other
    if foreign and foreign >= 0.3 * (cjk + latin + foreign):
        return "other"
    if kana >= 2:  # a Japanese sentence mixes kana into its kanji
        return "other"
    if not cjk and _other_latin(text):
        return "other"
    return "zh" if cjk else "en"


# The small words of languages written in Latin letters that people may try (French, German,
# Spanish, Italian, Portuguese, Dutch): a question full of them is not English.
_OTHER_LATIN_WORDS = frozenset("""
    les des est sont pour avec dans une quels quelle quelles qui que quoi comment où sur aux du
    die der das und ist für mit welche welcher gibt wie was wird werden nicht ein eine im zum
    el los las qué cuál cuáles para con una del por cómo dónde hay son está
    il gli che per con sono dove come qual quali della degli
    os como onde quais são uma não para
    het een zijn welke voor wat hoe waar
""".split())
_ENGLISH_SMALL = frozenset("""
    the a an is are what which how where who when why do does can for of to in on and with
    there any about this that
""".split())


def _other_latin(text: str) -> bool:
    found = [w.casefold() for w in re.findall(r"[^\W\d_]+", text)]
    foreign = sum(w in _OTHER_LATIN_WORDS for w in found)
    english = sum(w in _ENGLISH_SMALL for w in found)
    return foreign >= 2 and foreign > english


def fold(text: str) -> str:
    """Width, case, Traditional characters and apostrophes folded; nothing removed yet."""
    # Lone surrogates and control characters cannot be meaningful words.
    text = text.encode("utf-8", "ignore").decode("utf-8")
    # The report's footnote marks ("infrastructure①") are not part of the word; NFKC would
    # turn them into digits glued to it.
    text = text.translate(_NO_FOOTNOTE_MARKS)
    text = unicodedata.normalize("NFKC", text)
    if has_cjk(text):
        text = zhconv.convert(text, "zh-cn")
    text = text.casefold()
    # "where's" is "where is", not a possessive: the question asks where ("Shizhong's GDP"
    # is the district's).
    text = _IS_CONTRACTED.sub(r"\1 is ", text.replace("’", "'"))
    text = text.replace("'s ", " ").replace("'", "")
    # "R & D", "R&D" and "R and D" are one word in questions and in the report.
    text = _RND.sub("rnd", text)
    # "GDP2025" is GDP and a year.
    text = _GLUED_YEAR.sub(r"\1 \2", text)
    # "this yr", "govt plans": shorthand is spelling, not meaning; written out, the scope
    # check and the glossary read "this year" as 2021 and "govt" as the government.
    text = _SHORTHAND.sub(lambda m: _SHORTHAND_WORDS[m.group()], text)
    # "10bn", "100m", "1.2m": the report writes "10 billion", "100 million".
    text = _BN.sub(r"\1 billion", text)
    text = _MN.sub(r"\1 million", text)
    # "ten million", "a hundred million": the report writes amounts in digits.
    text = _WORD_AMOUNT.sub(lambda m: f"{_NUMBER_WORDS[m.group(1)]} {m.group(2)}", text)
    # "100亿" is ten billion, "5000万" fifty million: the report's English counts in billions
    # and millions, so an amount in Chinese units is said the way the report says it.
    if "亿" in text or "万" in text:
        text = _ZH_AMOUNT.sub(_english_amount, text)
    return text


_SHORTHAND_WORDS = {"yr": "year", "yrs": "years", "govt": "government", "gov": "government",
                    "ppl": "people", "thru": "through", "nite": "night", "pls": "please",
                    "plz": "please", "mgmt": "management", "dept": "department",
                    "intl": "international", "natl": "national", "approx": "approximately",
                    "wat": "what", "wut": "what", "abt": "about"}
_SHORTHAND = re.compile(r"(?<![\w.])(?:" + "|".join(_SHORTHAND_WORDS) + r")(?![\w.])")
_RND = re.compile(r"\br\s*(?:&|and|n)\s*d\b")
_GLUED_YEAR = re.compile(r"([a-z])((?:19|20)\d\d)\b")
_BN = re.compile(r"(\d)\s*(?:bn|b)\b")
_MN = re.compile(r"(\d)\s*(?:mn|m)\b")
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "fifty": 50,
                 "a hundred": 100, "one hundred": 100, "hundred": 100}
_WORD_AMOUNT = re.compile(r"\b(a hundred|one hundred|hundred|a|one|two|three|four|five|six|"
                          r"seven|eight|nine|ten|twenty|fifty)\s+(million|billion)\b")
_ZH_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万)(元(?!人民币))?")


def _english_amount(m: re.Match[str]) -> str:
    value = float(m.group(1)) * (1e8 if m.group(2) == "亿" else 1e4)
    if value >= 1e9:
        amount = f"{value / 1e9:g} billion"
    elif value >= 1e6:
        amount = f"{value / 1e6:g} million"
    else:
        amount = f"{value:,.0f}"  # "110,100", as the report writes it
    return f" {amount}{' yuan' if m.group(3) else ''} "


_CJK_LATIN = re.compile(f"([{_CJK}])([a-z0-9])")
_LATIN_CJK = re.compile(f"([a-z0-9])([{_CJK}])")


def normalise(text: str, limit: int | None = None) -> str:
    """Folded, punctuation turned into spaces, Latin and CJK kept apart, spaces collapsed.

    `limit` cuts the text first: questions are cut at MAX_MATCH_CHARS, so that a pasted
    novel costs no more than a long question.
    """
    text = fold(text[:limit] if limit else text)
    # Keep Latin and CJK apart so that "jingwei人才" gives a word and Chinese characters.
    text = _CJK_LATIN.sub(r"\1 \2", text)
    text = _LATIN_CJK.sub(r"\1 \2", text)
    return _NOT_TEXT.sub(" ", text).strip()


STEM_CHARS = 7
# Words whose stem would meet an unrelated word's: the report's "above designated size" is
# not "design" (industrial design, the design park), "how important is" is not "import and
# export", "factories" are not "all factors", "officials" are not "office buildings".
_STEM_APART = {
    **dict.fromkeys(("designated", "designate", "designates", "designating", "designation"),
                    "designat"),
    **dict.fromkeys(("important", "importance", "importantly", "unimportant"), "importan"),
    **dict.fromkeys(("factory", "factories"), "factory"),
    **dict.fromkeys(("official", "officials", "officially"), "officia"),
    **dict.fromkeys(("engineer", "engineers", "engineering"), "enginee"),
    **dict.fromkeys(("relative", "relatively"), "relativ"),
    "busy": "busy", "lively": "lively", "digit": "digit", "digits": "digit",
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball's English stem, with a trailing 'i' dropped and cut to seven letters, so
    that economy and economic, environment and environmental, finance and financial meet
    (Snowball alone keeps each pair apart)."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word in _STEM_APART:
        return _STEM_APART[word]
    stemmed: str = _STEMMER.stemWord(word)
    if len(stemmed) > 4 and stemmed.endswith("i"):
        stemmed = stemmed[:-1]
    return stemmed[:STEM_CHARS]


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    # pyspellchecker ships its word counts inside the package: nothing is fetched.
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def english_frequency(word: str) -> int:
    """How common a word is in general English (a count; 0 for typos and names)."""
    return _english().get(word, 0)


def is_english_word(word: str) -> bool:
    """A real English word (not a typo to correct): common enough in general English."""
    return english_frequency(word) >= COMMON_WORD


COMMON_WORD = 1000  # below this, slang and rare words may be typos ("nite")


def words(text: str) -> list[str]:
    """The Latin words of an already normalised text, in order (CJK runs left out)."""
    return [w for w in text.split(" ") if w and not CJK_RUN.fullmatch(w)]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order: no stopwords (in any form: "wants"
    as well as "want"), no filler, no lone letters ("e.g.")."""
    return [s for w in words(text)
            if w not in STOPWORDS_EN and w not in FILLER_EN and (len(w) > 1 or w.isdigit())
            and not ((s := stem(w)) in _STOP_STEMS and len(w) <= len(s) + 3)]


# Stems of the longer stopwords, so that their other forms are stopwords too ("wants", not
# "apartment").
_STOP_STEMS = frozenset(stem(w) for w in STOPWORDS_EN if len(w) > 3)


# "是哪三个", "哪五个", "几个方面": asking which or how many, in any count.
_ZH_WHICH = re.compile(r"是?[哪几][一二三四五六七八九十两几]*[个项家条种类大点方面部分]*")


def strip_zh_filler(run: str) -> str:
    """A Chinese run without question words and filler, and without lone stop characters."""
    run = _ZH_WHICH.sub(" ", run)
    for filler in FILLER_ZH:
        run = run.replace(filler, " ")
    return " ".join(
        piece for piece in run.split()
        if not all(ch in STOPCHARS_ZH for ch in piece)
    )
