"""Free-text screening: personal information and safeguarding concerns (S-06, A15, A16).

Offline, rule and deny-list based (no model downloads, no network). The screener:

1. looks for **concerns** first, with the concern rules of every shipped language
   (:mod:`analysis.concerns`, rule files in ``analysis/screening/``: sexual abuse, online sexual
   exploitation, grooming, physical abuse, self-harm and suicidal thoughts, neglect, trafficking
   and forced work, threats), so the safeguarding signal survives redaction; flagged answers go
   to the designated safeguarding lead, never into reports;
2. redacts personal information: e-mail, URL, social handles (dots and underscores),
   phone numbers (7+ digits), postcodes, street addresses, dates, class codes, full names after
   "my name is" / "naitwa" / "je m'appelle" / "me llamo" / "اسمي" and after titles ("Mr",
   "Mrs", "Dr", "Teacher", "Mwalimu", "Bw", "Bi", "M.", "Mme", "Sr", "Sra", "الأستاذ", "السيد"
   ...) and capitalised after relationship words ("my friend", "rafiki yangu", "mi amiga"), full
   names of two or three capitalised words ("Kevin Omondi"), and the consultation's deny-lists
   (names of one or several words: staff, schools, places; see :func:`parse_name_list`) ->
   ``<EMAIL>``, ``<NAME>`` ...

Free text is released only through :func:`release_quote`: screened by this module, reviewed
by a person (the reviewer's decision is passed in), with no concern flag, from band B or C,
and at most 25 words (A-02).

Examples
--------
>>> s = screen_text("Text me on 0712 345 678 or amina.k@mail.com, my name is Amina",
...                 names=["Amina"])
>>> s.redacted
'Text me on <PHONE> or <EMAIL>, my name is <NAME>'
>>> sorted(s.pii)
['EMAIL', 'NAME', 'PHONE']
>>> screen_text("he hurts me at home").categories
('physical_abuse',)
>>> screen_text("I told Mr Otieno Kamau, my name is Amina Wanjiru").redacted
'I told Mr <NAME>, my name is <NAME>'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from .concerns import RuleSet, find_concerns
from .disclosure import DisclosureError

__all__ = [
    "ReleasedQuote",
    "ScreenedText",
    "parse_name_list",
    "release_quote",
    "screen_text",
    "screen_texts",
]

_GATE = object()

#: Titles after which the next word is a name in any case ("mr otieno", "السيد احمد").
TITLES_ANY_CASE = (
    "mr",
    "mrs",
    "ms",
    "mx",
    "dr",
    "prof",
    "bw",
    "mwl",
    "tr",
    "mme",
    "mlle",
    "sr",
    "sra",
    "srta",
    "السيد",
    "السيدة",
    "الأستاذ",
    "الأستاذة",
    "الاستاذ",
    "الاستاذة",
    "أستاذ",
    "أستاذة",
    "استاذ",
    "استاذة",
    "الشيخ",
    "الشيخة",
    "الدكتور",
    "الدكتورة",
    "دكتور",
    "دكتورة",
    "أبلة",
    "ابلة",
    "مستر",
    "مس",
    "المعلمة",
    "المعلم",
    "المدرس",
    "المدرسة",
    "الأخت",
    "الأخ",
)
#: Arabic words for a relative or a friend ("عمي أحمد يلمسني"): Arabic has no capitals to mark a
#: name, so the word after one is taken for a name only when the word after it says what was done
#: (a verb: :data:`_ARABIC_VERB`) and it is not one itself, nor a common word or an ``ال`` word.
#: Taking any next word (a first version) took the act itself out: "عمي دخل غرفتي" became
#: "عمي <NAME>" (a review found).
ARABIC_RELATIVES = (
    "عمي",
    "عمتي",
    "خالي",
    "خالتي",
    "جدي",
    "جدتي",
    "ابن عمي",
    "بنت عمي",
    "ابن خالي",
    "بنت خالي",
    "ابن خالتي",
    "بنت خالتي",
    "ابن عمتي",
    "بنت عمتي",
    "جاري",
    "جارتي",
    "جارنا",
    "جارتنا",
    "صاحبي",
    "صاحبتي",
    "صديقي",
    "صديقتي",
    "زميلي",
    "زميلتي",
    "رفيقي",
    "رفيقتي",
    "جوز امي",
    "زوج امي",
    "زوج أمي",
    "مرات ابوي",
    "مرات أبوي",
    "زوجة ابي",
    "زوجة أبي",
    "عمو",
    "خالو",
    "ستي",
    "ابن الجيران",
    "بنت الجيران",
    "صاحب ابوي",
    "صاحبة امي",
)
#: Titles that are also ordinary words ("my teacher said"): a name follows only when capitalised.
TITLES_CAPITALISED = (
    "teacher",
    "mister",
    "miss",
    "madam",
    "sir",
    "coach",
    "pastor",
    "doctor",
    "aunty",
    "auntie",
    "uncle",
    "mwalimu",
    "bwana",
    "mama",
    "baba",
    "madame",
    "monsieur",
    "mademoiselle",
    "maître",
    "maitre",
    "maîtresse",
    "maitresse",
    "docteur",
    "m",
    "señor",
    "senor",
    "señora",
    "senora",
    "señorita",
    "senorita",
    "profesor",
    "profesora",
    "profe",
    "maestro",
    "maestra",
    "don",
    "doña",
    "dona",
    "senhor",
    "senhora",
    "professor",
    "professora",
    # the people children name most (a name follows only when capitalised: "my friend Amina Hassan")
    "friend",
    "neighbour",
    "neighbor",
    "cousin",
    "classmate",
    "stepdad",
    "stepmum",
    "stepmom",
    "ami",
    "amie",
    "copain",
    "copine",
    "voisin",
    "voisine",
    "cousine",
    "amigo",
    "amiga",
    "vecino",
    "vecina",
    "primo",
    "prima",
    "rafiki",
    "jirani",
    "binamu",
    # Swahili "Bi" (Mrs) only when capitalised: Arabizi "bi" is a verb's prefix ("baba bi drabni",
    # dad hits me: the verb was taken for a name, a review found)
    "bi",
    # someone named as another's relative ("baba yake Amina", Amina's father)
    "baba yake",
    "mama yake",
    "kaka yake",
    "dada yake",
    "mjomba yake",
    "rafiki yake",
    "baba wa",
    "mama wa",
    "kaka wa",
    "dada wa",
    "mjomba wa",
    "rafiki wa",
)
#: Phrases after which a child gives their own name (the first word is a name in any case).
NAME_INTRODUCTIONS = (
    "my name is",
    "my names are",
    "my name's",
    "i am called",
    "i'm called",
    "im called",
    "jina langu ni",
    "majina yangu ni",
    "naitwa",
    "ninaitwa",
    "je m'appelle",
    "je m’appelle",
    "jm'appelle",
    "jmapelle",
    "mon nom est",
    "mon prénom est",
    "me llamo",
    "mi nombre es",
    "meu nome é",
    "me chamo",
    "اسمي",
    "إسمي",
    "انا اسمي",
    "أنا اسمي",
    "ismi",
    "esmi",
)
#: Words that introduce someone else's name ("my teacher is called otieno"): the next word is a
#: name in any case, but only that one (a verb may follow: "anaitwa otieno ananipiga").
OTHERS_NAME_INTRODUCTIONS = (
    "is called",
    "was called",
    "he's called",
    "she's called",
    "named",
    "his name is",
    "her name is",
    "anaitwa",
    "aliitwa",
    "jina lake ni",
    "s'appelle",
    "s’appelle",
    "sappelle",
    "se llama",
    "se llamaba",
    "اسمه",
    "اسمها",
    "إسمه",
    "إسمها",
    "ismo",
    "esmo",
    "isma",
    "esmha",
)
#: Words that end a name (so "my name is amina and I ..." keeps "and I").
_NAME_STOP = frozenset(
    """
and i im i'm am from in at of the a to is was my me we you he she they it na ni niko nina nimesoma ya wa kwa w
et je suis de du le la les un une y yo soy tengo el los las con e eu sou do da و انا أنا من في عمري
قال قالت قالي يقول لطيف لطيفة كويس كويسة منيح منيحة بيساعد يساعد ساعدني هو هي كان كانت جدا كثير مع على عن لا ما
هذا هذه اللي الذي التي او أو
دايما دايمًا دائما دائمًا دايم كل بس كمان ايضا أيضا طيب طيبة حلو حلوة كتير كثيرا شوي شوية مرة مره يوم امبارح امس أمس
اليوم بكرة بكره قاللي قالتلي قالت قلي قلتلها قلتله عندو عنده عندها عندي بيت البيت
but or so age aged years year old grade class std form darasa miaka ans años anos
""".split()
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
#: Two or three capitalised words in a row ("Kevin Omondi", "María González"): a full name, unless
#: a word is an ordinary one (_NAME_STOP) or one of these: apps, helplines and the calendar, which
#: children name with capitals and which identify nobody.  Written by hand: no offline
#: name-recognition library covers Swahili and Sheng, and the loss from a product name taken out
#: is small beside a child's full name kept.
_NOT_NAMES = frozenset(
    """
i free fire among us tik tok whats app whatsapp google snap chat snapchat instagram facebook youtube roblox minecraft
fortnite call duty child children helpline line international save plan world vision unicef police station
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december god allah jesus
""".split()
)
#: Capitalised words that are not a name when they stand alone in a list ("my Mum, Dad and Nana",
#: "History, Geography and Art", "Yesterday, Peter and John"): family words, school subjects,
#: sports, feasts and words that open a sentence.  Before a name they still count ("Grandma
#: Wanjiku", "Papa Diouf": the two-word rule).
_NOT_LISTED = frozenset(
    """
mum mom dad daddy mummy mommy papa maman mama mamá mami papá papi grandma grandpa granny nan nana bro sis aunty uncle
english maths math science history geography art music french kiswahili swahili arabic spanish religion biology
chemistry physics football netball volleyball basketball tennis swimming athletics chess christmas easter eid ramadan
yesterday today tomorrow sorry please ok okay yes no hello hi hey well also then sometimes maybe thanks bye
""".split()
)
_TITLE_WORDS = frozenset(t.lower() for t in (*TITLES_ANY_CASE, *TITLES_CAPITALISED))


#: What stands between the names of a list ("Wanjiru, Achieng and Peter", "Juma na Baraka",
#: "Marie et Paul", "Ana y Luis", "Ahmed w Omar"); a list counts only with a conjunction in it, so
#: that "Yesterday, Peter hit me" and "Nairobi, Kenya" are not lists of names.
_CONJUNCTION = r"(?:and|na|et|y|e|w|&)"
_LIST_JOIN = re.compile(rf"\s*[,،]\s*(?:{_CONJUNCTION}\s+)?|\s+{_CONJUNCTION}\s+", re.IGNORECASE)
_CONJOINED = re.compile(rf"(?<!\w){_CONJUNCTION}(?!\w)", re.IGNORECASE)


_POSSESSIVE = re.compile(r"(.+)['’]s")
#: Capitalised words before "'s" that own nothing, or nobody's name: contractions and pronouns,
#: and the words that are never a name alone.
_NOT_OWNERS = (
    frozenset("it let that he she what there here who where how everyone nobody somebody someone today".split())
    | _NOT_NAMES
    | _NOT_LISTED
)


def _full_names(text: str) -> list[tuple[int, int]]:
    """Spans of two or three capitalised words in a row, and of each capitalised word of a list
    of two or more joined by a conjunction ("Wanjiru, Achieng and Peter beat me": single names
    that each identify someone once they stand together); see :data:`_NOT_NAMES` and
    :data:`_NOT_LISTED`."""
    spans: list[tuple[int, int]] = []
    run: list[re.Match] = []
    listed: list[tuple[int, int]] = []  # the runs of capitalised words of the list being read
    joins: list[str] = []  # what stands between them

    def close_list() -> None:
        if len(listed) >= 2 and any(_CONJOINED.search(join) for join in joins):
            spans.extend(span for span in listed if span not in spans)
        listed.clear()
        joins.clear()

    def close() -> None:
        if run:
            span = (run[0].start(), run[min(len(run), 3) - 1].end())
            if len(run) >= 2:
                spans.append(span)
            between = text[listed[-1][1] : span[0]] if listed else ""
            if listed and _LIST_JOIN.fullmatch(between) is None:
                close_list()
            if len(run) == 1 and run[0].group(0).lower() in _NOT_LISTED:
                close_list()  # "Mum", "Maths", "Yesterday": not a name in a list, and it ends one
            else:
                if listed:
                    joins.append(between)
                listed.append(span)
        run.clear()

    for m in _WORD.finditer(text):
        word = m.group(0)
        key = word.lower().strip("'’-")
        capitalised = word[0].isupper() and not word.isupper() and len(word) > 1
        ordinary = key in _NAME_STOP or key in _NOT_NAMES or key in _TITLE_WORDS
        owner = _POSSESSIVE.fullmatch(word)
        if capitalised and owner and owner.group(1).lower() not in _NOT_OWNERS:
            # "Fatima's dad touched me": a capitalised word that owns something is someone's name
            close()
            close_list()
            spans.append((m.start(), m.start() + len(owner.group(1))))
            continue
        joined = bool(run) and re.fullmatch(r"[ \t]+", text[run[-1].end() : m.start()]) is not None
        if not joined:
            close()
        if capitalised and not ordinary:
            run.append(m)
        else:
            close()
            if not (listed and _CONJOINED.fullmatch(key)):
                close_list()
    close()
    close_list()
    return sorted(spans)


def _title_regex(titles: Iterable[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(titles, key=len, reverse=True))
    return re.compile(r"(?<![\w.])(?:" + alternatives + r")(?:\.|(?=\s))\s*", re.IGNORECASE)


_ANY_CASE_RE = _title_regex(TITLES_ANY_CASE)
_CAPITALISED_RE = _title_regex(TITLES_CAPITALISED)


def _introduction_regex(phrases: Iterable[str]) -> re.Pattern:
    return re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))
        + r")\s*[:,-]?\s*",
        re.IGNORECASE,
    )


_INTRODUCTION_RE = _introduction_regex(NAME_INTRODUCTIONS)
_OTHERS_INTRODUCTION_RE = _introduction_regex(OTHERS_NAME_INTRODUCTIONS)


def _caseless(word: str) -> bool:
    return word[0].lower() == word[0].upper()


#: An Arabic word that says what was done is never taken for a name after a title: a verb with
#: "me"/"us" on it, or "to me"/"to us" after a present prefix ("يضربني", "بيضربنا", "بيبعتلي"),
#: or a word with a stem of harm ("ضربني", "لمسني"), so "الاستاذ احمد يضربني" keeps "hits me"; names such as "تهاني" or
#: "اماني" stay names.  (Arabic has no capitals to tell a name from a verb.)
_ARABIC_VERB_OF_HARM = re.compile(
    r"^(?:[يتبن]\S*(?<!ا)(?:ني|نا)|[بعحه][يتن]\S+(?:لي|لنا)|\S*(?:ضرب|لمس|تحرش|حرش|اغتصب|غتصب|حسس|بوس|باس|هدد|عذب|حرق|صور)\S*)$"
)


#: A word that reads as a verb, after a relative's name: one of :data:`_ARABIC_VERB_OF_HARM`, a
#: present tense ("بيعمل", "يدخل", "عم ياخدني", "كيضربني") or a verb with "me" on it ("خنقني").
#: As the name itself, only a verb beyond doubt (:data:`_ARABIC_VERB_SURE`): names begin with ي,
#: ت and ن too ("يوسف", "تامر", "نادر"), so there the present tense needs its prefix ("بي", "ع" ...).
_PRESENT_PREFIX = r"[وف]?(?:ب|ع|ك|ح|ه|بي|بت|بن)"
_VERB_OTHERWISE = r"\S{2,}(?:ني|وني|تني)|عم|رح|راح|صار|كان"
_ARABIC_VERB = re.compile(rf"^(?:{_PRESENT_PREFIX}?[يتن]\S{{2,}}|{_VERB_OTHERWISE})$")
_ARABIC_VERB_SURE = re.compile(rf"^(?:{_PRESENT_PREFIX}[يتن]\S{{2,}}|{_VERB_OTHERWISE})$")
_NEXT_WORD = re.compile(r"\s+([^\W\d_][\w'’-]*)")
_ARABIC_RELATIVE_RE = re.compile(
    r"(?:(?<=\s)|^)[وف]?(?:"
    + "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(ARABIC_RELATIVES, key=len, reverse=True))
    + r")\s+"
)


def _relatives_names(text: str) -> list[tuple[int, int]]:
    """Spans of names right after an Arabic word for a relative or friend, when a verb follows.

    >>> t = "عمي أحمد يلمسني"
    >>> [t[a:b] for a, b in _relatives_names(t)]
    ['أحمد']
    >>> t = "عمي يوسف بيضربني"
    >>> [t[a:b] for a, b in _relatives_names(t)]
    ['يوسف']
    >>> _relatives_names("عمي دخل غرفتي بالليل"), _relatives_names("عمي الكبير بيضربني")
    ([], [])
    """
    spans = []
    for m in _ARABIC_RELATIVE_RE.finditer(text):
        name = _WORD.match(text, m.end())
        if name is None or not _caseless(name.group(0)):
            continue
        word = name.group(0)
        if (
            word in _NAME_STOP
            or word.startswith("ال")
            or _ARABIC_VERB_OF_HARM.match(word)
            or _ARABIC_VERB_SURE.match(word)
        ):
            continue
        after = _NEXT_WORD.match(text, name.end())
        if after and (_ARABIC_VERB_OF_HARM.match(after.group(1)) or _ARABIC_VERB.match(after.group(1))):
            spans.append((name.start(), name.end()))
    return spans


def _name_after(text: str, start: int, *, first_any_case: bool, lowercase_more: bool) -> int:
    """The end of the name (of up to three words) that starts at ``start``, or ``start`` if none.

    The first word counts in any case when ``first_any_case``; later words when capitalised (or,
    in a caseless script such as Arabic, when not a common word), and lowercase words too when
    ``lowercase_more`` ("my name is amina wanjiru").
    """
    end, count, pos = start, 0, start
    while count < 3:
        m = _WORD.match(text, pos)
        if m is None or m.group(0).lower().strip("'’-") in _NAME_STOP:
            break
        word = m.group(0)
        if _caseless(word):
            ok = (count == 0 and first_any_case or count > 0 and not word.startswith("و")) and not (
                _ARABIC_VERB_OF_HARM.match(word)
            )
        elif word[0].isupper():
            ok = True
        else:
            ok = first_any_case and (count == 0 or lowercase_more)
        if not ok:
            break
        end, count = m.end(), count + 1
        gap = re.match(r"[ \t]+", text[end:])
        if gap is None:
            break
        pos = end + gap.end()
    return end


def _redact_introduced_names(text: str) -> str:
    """Names after titles and after "my name is": the title stays, the name becomes ``<NAME>``."""
    spans = []
    for rx, any_case, more in (
        (_INTRODUCTION_RE, True, True),
        (_OTHERS_INTRODUCTION_RE, True, False),
        (_ANY_CASE_RE, True, False),
        (_CAPITALISED_RE, False, False),
    ):
        for m in rx.finditer(text):
            end = _name_after(text, m.end(), first_any_case=any_case, lowercase_more=more)
            if end > m.end():
                spans.append((m.end(), end))
    spans.extend(_full_names(text))
    spans.extend(_relatives_names(text))
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start] + "<NAME>")
        last = end
    return "".join(out) + text[last:]


def parse_name_list(text: str | None) -> list[str]:
    """The names a facilitator listed: one a line, or separated by commas or semicolons.

    A name may have several words ("Mrs Achieng", "Kibera Hope Academy"); a name given with a
    title is also removed without it.

    Examples
    --------
    >>> parse_name_list("Mrs Achieng, Mr Otieno Kamau\\nKibera Hope Academy; ")
    ['Mrs Achieng', 'Achieng', 'Mr Otieno Kamau', 'Otieno Kamau', 'Kibera Hope Academy']
    """
    names: list[str] = []
    for entry in re.split(r"[\n\r,;،]+", text or ""):
        entry = " ".join(entry.split())
        if not entry:
            continue
        names.append(entry)
        m = _ANY_CASE_RE.match(entry) or _CAPITALISED_RE.match(entry)
        if m and entry[m.end() :].strip():
            names.append(entry[m.end() :].strip())
    return list(dict.fromkeys(names))


_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        "URL",
        re.compile(
            r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co|"
            r"ke|ug|tz|uk|io|me|tv|app|gg|info|africa|fr|es|pt|br)\b(?:/\S*)?",
            re.IGNORECASE,
        ),
    ),
    ("HANDLE", re.compile(r"(?<![\w.])@[A-Za-z0-9_.]{3,30}")),
    ("PHONE", re.compile(r"(?<![\w+])\+?\d(?:[\s().-]?\d){6,14}(?!\w)")),
    ("POSTCODE", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,5},?\s+(?:[A-Z][\w'-]+\s+){0,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|"
            r"Close|Drive|Way|Crescent)\b"
            r"|\b(?:P\.?\s?O\.?\s?Box|Sanduku la Posta)\s*\d+"
            r"|\b(?:Barabara ya|Mtaa wa)\s+[A-Z][\w'-]+"
            r"|\b\d{1,5},?\s+(?:rue|avenue|boulevard|calle|avenida|rua|travessa)\s+[\w' -]{2,30}"
            r"|\b(?:rue|calle|rua|avenida)\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?\s*,?\s*\d{1,5}",
            re.IGNORECASE,
        ),
    ),
    ("DATE", re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")),
    (
        "CLASS",
        re.compile(
            r"\b(?:year|grade|class|std|standard|form|darasa|classe|grado|curso|"
            r"turma|série)\s*\d+\s?[A-Za-z]?\b",
            re.IGNORECASE,
        ),
    ),
]


@dataclass(frozen=True, eq=False)
class ScreenedText:
    """The screened form of one answer (the raw text is not kept).

    Attributes
    ----------
    redacted : str
        Text with personal information replaced by ``<KIND>`` tokens.
    pii : tuple of str
        Kinds of personal information found.
    concerns : tuple of str
        Concern rules matched, as ``"lang:rule"``; non-empty means safeguarding review.
    words : int
    categories : tuple of str
        The kinds of concern (:data:`analysis.concerns.CATEGORIES`), in the order found.
    """

    redacted: str
    pii: tuple[str, ...]
    concerns: tuple[str, ...]
    words: int
    categories: tuple[str, ...] = ()
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("ScreenedText is only produced by screen_text()")

    @property
    def safeguarding(self) -> bool:
        """True when the answer must go to the safeguarding lead."""
        return bool(self.concerns)


def _deny_regex(words: Iterable[str]) -> re.Pattern | None:
    words = sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True)
    if not words:
        return None
    # a name of several words matches whatever spaces, line breaks or hyphens stand between its words
    return re.compile(
        r"(?<!\w)(?:" + "|".join(r"[\s-]+".join(re.escape(part) for part in w.split()) for w in words) + r")(?!\w)",
        re.IGNORECASE,
    )


def _with_each_part(names: Iterable[str]) -> list[str]:
    """A person's listed name and each of its parts ("Otieno Wekesa": "Otieno", "Wekesa"), as a
    child may write either; titles and ordinary words ("and", "de") are not parts.

    Examples
    --------
    >>> _with_each_part(["Mr Otieno Wekesa", "Amina"])
    ['Mr Otieno Wekesa', 'Otieno', 'Wekesa', 'Amina']
    """
    out: list[str] = []
    for name in names:
        out.append(name)
        parts = name.split()
        if len(parts) > 1:
            out.extend(
                p for p in parts if len(p) > 2 and p.lower().strip(".") not in _TITLE_WORDS | _NAME_STOP | _NOT_NAMES
            )
    return list(dict.fromkeys(out))


def screen_text(
    text: str | None,
    names: Iterable[str] = (),
    schools: Iterable[str] = (),
    places: Iterable[str] = (),
    rule_sets: Iterable[RuleSet] | None = None,
) -> ScreenedText:
    """Screen one free-text answer (see the module notes).

    Parameters
    ----------
    text : str
    names, schools, places : iterable of str
        Deny-lists for this consultation, each entry one name of one or more words (first names
        from the consent register are held in memory only, never stored with responses).
    rule_sets : iterable of RuleSet, optional
        Replaces the shipped concern rules (:func:`analysis.concerns.rules_for`).
    """
    text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    found_concerns = find_concerns(text, rule_sets)
    concerns = tuple(c.label for c in found_concerns)
    categories = tuple(dict.fromkeys(c.category for c in found_concerns))
    out = text
    found: list[str] = []
    lists = (("SCHOOL", schools), ("PLACE", places), ("NAME", _with_each_part(names)))
    deny = [(kind, _deny_regex(words)) for kind, words in lists]
    # contact details first (a name inside an e-mail address stays part of the address),
    # then the deny-lists, then the remaining patterns
    steps = _PATTERNS[:4] + [(k, rx) for k, rx in deny if rx is not None] + _PATTERNS[4:]
    for kind, rx in steps:
        new = rx.sub(f"<{kind}>", out)
        if new != out:
            found.append(kind)
            out = new
    new = _redact_introduced_names(out)
    if new != out:
        found.append("NAME")
        out = new
    return ScreenedText(out, tuple(dict.fromkeys(found)), concerns, len(text.split()), categories, _GATE)


def screen_texts(texts: Iterable[str], **kwargs) -> pd.DataFrame:
    """Screen many answers; a frame with ``redacted, pii, concerns, safeguarding, words``.

    Examples
    --------
    >>> screen_texts(["call 0700 111 222", "ok"])[["redacted", "safeguarding"]]
           redacted  safeguarding
    0  call <PHONE>         False
    1            ok         False
    """
    rows = []
    for t in texts:
        s = screen_text(t, **kwargs)
        rows.append((s.redacted, ",".join(s.pii), ",".join(s.concerns), s.safeguarding, s.words))
    return pd.DataFrame(rows, columns=["redacted", "pii", "concerns", "safeguarding", "words"])


@dataclass(frozen=True, eq=False)
class ReleasedQuote:
    """A quote cleared for a report or feedback sheet (only :func:`release_quote` makes one)."""

    text: str
    band: str
    reviewer: str
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("ReleasedQuote is only produced by release_quote()")


def release_quote(
    screened: ScreenedText,
    *,
    released: bool,
    reviewer: str,
    band: str,
    max_words: int = 25,
    young_bands: Iterable[str] = ("A",),
) -> ReleasedQuote:
    """Release one screened answer as a quote, after a person's review.

    Parameters
    ----------
    screened : ScreenedText
        From :func:`screen_text` (anything else is refused).
    released : bool
        The reviewer's decision, recorded by the web app.
    reviewer : str
        Who reviewed (kept with the quote for the audit trail).
    band : str
        The child's band; quotes from ``young_bands`` are never used.

    Raises
    ------
    DisclosureError
        Not screened, not released by a reviewer, a safeguarding concern, a young band,
        or too long.
    """
    if not isinstance(screened, ScreenedText):
        raise DisclosureError("free text must be screened with screen_text() first")
    if not released or not reviewer:
        raise DisclosureError("free text is released only after a person has reviewed it")
    if screened.safeguarding:
        raise DisclosureError(
            "this answer raised a safeguarding concern; it goes to the safeguarding lead, never into a report"
        )
    if band in set(young_bands):
        raise DisclosureError(f"quotes from band {band} are not used")
    if screened.words > max_words:
        raise DisclosureError(f"quotes are at most {max_words} words; shorten it in review")
    return ReleasedQuote(screened.redacted, band, reviewer, _GATE)
