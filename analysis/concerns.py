"""Concern rules: which free-text answers go to the safeguarding lead (S-06, A16).

The rules are data, one YAML file per language in ``analysis/screening/`` (``en.yaml``,
``fr.yaml`` ...); this module is the small engine that reads them.  Nothing is downloaded: a
child's words are folded to a plain form and matched against patterns that pair an act with the
person it happens to (or an actor with an act), never a single word, so that "children should
learn what abuse is" passes while "my uncle touches my private parts" does not.  A small
statistical model shipped with the rules (:mod:`analysis.concernmodel`) reads every answer too:
it flags wording no rule foresaw, and a rule's match on what it reads as general talk is let
pass (:func:`find_concerns`).

Folding (:func:`fold`, :func:`words`), the same for a text and for a rule's words:

* Unicode NFKC, then case folding (:mod:`unicodedata`, :meth:`str.casefold`);
* accents and Arabic diacritics dropped (NFD, then every combining mark removed): *é* -> *e*,
  *أ إ آ* -> *ا* (the hamza and madda are combining marks after NFD), *ؤ* -> *و*, *ئ* -> *ي*;
  tatweel removed; *ة* -> *ه*, *ى* -> *ي*, Persian *ک ی* -> *ك ي*; Arabic-Indic digits -> 0-9;
* every run of one repeated letter kept once (*pleeease* -> *please*, *kill* -> *kil*), so
  stretched words and doubled-letter misspellings meet the rule's spelling;
* apostrophes joined (``en``: *don't* -> *dont*) or split (``fr``: *m'a* -> *m a*), as the file says;
* the file's ``replace`` table: whole words of text-speak and common misspellings (``kms`` ->
  ``kill myself``, ``pcq`` -> ``parce que``).

A rule file has ``groups`` (named lists of terms) and ``rules``.  A term is one or more words; a
word may start or end with ``*`` (any letters there: stems, Swahili verb prefixes, Arabic
clitics), or the term may be ``re:`` and a regular expression over the folded words joined by
single spaces.  A rule fires when each element of its ``all`` list (a group's name or a list of
terms) matches within ``window`` words of the others (in that order if ``ordered``), and no
``guard`` term (hypothetical or denial: "if someone", "never") stands just before the match, nor
a ``denials`` term between the words it pairs ("ne m'ont jamais frappé").  The file's
``hypothetical`` terms (conditionals, advice, denials) keep the statistical model
(:mod:`analysis.concernmodel`) from flagging an answer on its own.  Its ``idioms`` are everyday
figures of speech and game or play talk that borrow the words of harm ("my mum will kill me if I
fail", "he beats me at fifa", "je meurs de faim", "hit me with a pillow"): their words are taken
out of the answer before the rules and the model read it (:func:`neutralise`), so that they count
for nothing and the rest of the answer is read as it is (the model is trained on the sentences as
written).
Every language's rules are applied to every answer in its script: children mix languages
(Sheng, franglais) and the session language says little.

Examples
--------
>>> sorted({c.category for c in find_concerns("my uncle touches my private parts")})
['sexual_abuse']
>>> find_concerns("i would tell my teacher because she is kind")
()
>>> fold("ÉLÈVE"), fold("أَحْـــمَد"), fold("مدرسة")
('eleve', 'احمد', 'مدرسه')
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

import yaml

__all__ = [
    "CATEGORIES",
    "Concern",
    "MODEL_CONCERN",
    "RuleSet",
    "Score",
    "evaluate",
    "find_concerns",
    "fold",
    "neutralise",
    "rule_languages",
    "rules_for",
    "words",
]

#: The kinds of concern a rule may name (what the safeguarding lead's queue groups by).
CATEGORIES = (
    "sexual_abuse",
    "online_exploitation",
    "grooming",
    "physical_abuse",
    "self_harm",
    "neglect",
    "trafficking",
    "threats",
)

_DIGITS = {ord(a): str(i) for i, a in enumerate("٠١٢٣٤٥٦٧٨٩")} | {ord(a): str(i) for i, a in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None, "ک": "ك", "ی": "ي", "ٱ": "ا", "ﻻ": "لا"} | _DIGITS)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_REPEATS = re.compile(r"([^\W\d])\1+")
_WORD = re.compile(r"\w+")
#: Words in nearly every answer: an element that matches one of them ("me", "he", "mimi") is looked
#: for last, so that an answer without the rarer words of a rule is passed over after one search.
_COMMON_WORDS = (
    "i me my he she they you we it the a to and is was je moi il elle on le la les de et yo mi "
    "el ella que y ni na wa ya mimi yeye wao انا هو هي في من على"
)
#: The script a rule file's words are written in (a text with no letter of it is skipped).
_SCRIPTS = {"latin": re.compile(r"[a-z]"), "arabic": re.compile(r"[\u0600-\u06ff]")}


def fold(text: str) -> str:
    """Case, accents, Arabic letter variants, diacritics and tatweel folded away.

    Examples
    --------
    >>> fold("Niñ@ TOCÓ"), fold("إِسْـتِغْلَال")
    ('nin@ toco', 'استغلال')
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def words(
    text: str, apostrophe: str = "", replace: Mapping[str, tuple[str, ...]] | None = None, *, folded: bool = False
) -> list[str]:
    """The folded words of ``text``, repeated letters once, text-speak replaced.

    Examples
    --------
    >>> words("I'm sooo SCARED!!! u kno", replace={"u": ("you",)})
    ['im', 'so', 'scared', 'you', 'kno']
    """
    tokens = _REPEATS.sub(r"\1", _APOSTROPHES.sub(apostrophe, text if folded else fold(text))).split()
    out: list[str] = []
    for token in (t for chunk in tokens for t in _WORD.findall(chunk)):
        out.extend(replace.get(token, (token,)) if replace else (token,))
    return out


@dataclass(frozen=True)
class Concern:
    """One rule that matched: its language, id and category."""

    language: str
    rule: str
    category: str

    @property
    def label(self) -> str:
        return f"{self.language}:{self.rule}"


@dataclass(frozen=True)
class _Rule:
    id: str
    category: str
    elements: tuple[re.Pattern, ...]
    window: int
    guarded: bool
    ordered: bool
    #: the elements in the order their matches are looked for: the longest lists (acts) first,
    #: pronoun lists last, so that an answer with no act is passed over after one search
    probe_order: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class RuleSet:
    """One language's compiled rules (from :func:`rules_for`)."""

    language: str
    apostrophe: str
    replace: Mapping[str, tuple[str, ...]]
    rules: tuple[_Rule, ...]
    guard: re.Pattern | None
    guard_reach: int
    script: re.Pattern
    denial: re.Pattern | None = None
    #: every rule's first-searched element in one pattern: no match, no rule can fire
    trigger: re.Pattern | None = None
    #: words of a hypothetical, advice or denial ("if a friend told me", "I would tell", "never"):
    #: an answer with one of them is not flagged by the model alone (the rules still apply)
    hypothetical: re.Pattern | None = None
    #: everyday idioms and game or play talk over the folded text (:func:`neutralise`)
    idioms: re.Pattern | None = None

    def talks_hypothetically(self, text: str, *, folded: bool = False) -> bool:
        """Whether ``text`` has a word of this language's ``hypothetical`` list."""
        if self.hypothetical is None:
            return False
        return self.hypothetical.search(" ".join(words(text, self.apostrophe, self.replace, folded=folded))) is not None

    def applies(self, folded: str) -> bool:
        """Whether the text is written in this language's script at all (else no rule can match)."""
        return self.script.search(folded) is not None

    def find(self, text: str, *, folded: bool = False, guard: re.Pattern | None = None) -> list[Concern]:
        """The rules of this language that ``text`` matches (``folded``: already :func:`fold`-ed).

        ``guard`` replaces this language's guard terms (:func:`find_concerns` passes those of
        every language in the same script: "if someone touched me" is English, but "touch" and
        "me" are French words too).
        """
        tokens = words(text, self.apostrophe, self.replace, folded=folded)
        if not tokens:
            return []
        joined = " ".join(tokens)
        if self.trigger is not None and self.trigger.search(joined) is None:
            return []  # most answers: one search, and nothing of this language's rules is there
        starts = list(itertools.accumulate((len(t) + 1 for t in tokens[:-1]), initial=0))
        cache: dict[int, list[tuple[int, int]]] = {}

        def spans(rx: re.Pattern) -> list[tuple[int, int]]:
            key = id(rx)
            if key not in cache:
                cache[key] = [
                    (
                        bisect.bisect_right(starts, m.start()) - 1,
                        bisect.bisect_right(starts, max(m.end() - 1, m.start())) - 1,
                    )
                    for m in rx.finditer(joined)
                ]
            return cache[key]

        guard = self.guard if guard is None else guard
        guards = spans(guard) if guard is not None else []
        denials = spans(self.denial) if self.denial is not None else []
        found = []
        for rule in self.rules:
            if all(spans(rule.elements[i]) for i in rule.probe_order) and self._fires(
                rule, [spans(rx) for rx in rule.elements], guards, denials
            ):
                found.append(Concern(self.language, rule.id, rule.category))
        return found

    def _fires(
        self,
        rule: _Rule,
        hits: list[list[tuple[int, int]]],
        guards: list[tuple[int, int]],
        denials: list[tuple[int, int]],
    ) -> bool:
        for combo in self._near(rule.window, hits):
            first = min(start for start, _ in combo)
            last = max(end for _, end in combo)
            if last - first > rule.window:
                continue
            if rule.ordered and any(a[0] > b[0] for a, b in itertools.pairwise(combo)):
                continue
            if rule.guarded and any(first - self.guard_reach <= g_end < first for _, g_end in guards):
                continue
            if rule.guarded and len(combo) > 1 and any(first < d_start < last for d_start, _ in denials):
                continue  # "ne m'ont jamais frappé": a denial between the words the rule pairs
            return True
        return False

    @staticmethod
    def _near(window: int, hits: list[list[tuple[int, int]]]) -> Iterable[tuple[tuple[int, int], ...]]:
        """Combinations of one match per element, each within ``window`` words of the first element's
        match (so that a long answer is searched in full, not only its first combinations)."""
        for anchor in hits[0]:
            low, high = anchor[0] - window, anchor[1] + window
            near = [[h for h in element if h[0] >= low and h[1] <= high] for element in hits[1:]]
            if all(near):
                for rest in itertools.islice(itertools.product(*near), 200):
                    yield (anchor, *rest)


def _term_pattern(term: str, apostrophe: str, replace: Mapping[str, tuple[str, ...]]) -> str:
    term = term.strip()
    if term.startswith("re:"):
        # the text is folded (Arabic letters, repeated letters once): so is the expression
        return _REPEATS.sub(r"\1", term[3:].strip().translate(_LETTERS))
    parts = []
    for word in term.split():
        if word == "*":
            parts.append(r"\S+")
            continue
        head, tail = word.startswith("*"), word.endswith("*") and len(word) > 1
        core = " ".join(words(word.strip("*"), apostrophe, None if head or tail else replace))
        if not core:
            raise ValueError(f"empty word in concern term {term!r}")
        parts.append((r"\S*" if head else "") + re.escape(core).replace(r"\ ", " ") + (r"\S*" if tail else ""))
    return " ".join(parts)


_IDIOM_GAP = r"[\W_]+"


def _idiom_word(word: str, groups: Mapping[str, list[str]]) -> str:
    """One word of an idiom over the folded text: ``a/b`` alternatives, ``*`` any letters, ``...``
    up to three words, a name of ``idiom_groups`` any of its terms; each letter may be repeated
    (stretched spelling is not folded in the text the idioms are taken out of)."""
    if word == "...":
        return r"(?:\w+[\W_]+){0,3}?"
    if word in groups:
        return "(?:" + "|".join(_idiom_sequence(term, {}) for term in groups[word]) + ")"
    alternatives = []
    for part in word.split("/"):
        head, tail = part.startswith("*"), part.endswith("*") and len(part) > 1
        core = _REPEATS.sub(r"\1", fold(part.strip("*")))
        letters = "".join(re.escape(c) + "+" for c in core)
        alternatives.append((r"\w*" if head else "") + letters + (r"\w*" if tail else ""))
    return "(?:" + "|".join(alternatives) + ")"


def _idiom_sequence(term: str, groups: Mapping[str, list[str]]) -> str:
    body, previous = "", None
    for word in term.split():
        part = _idiom_word(word, groups)
        body += part if previous in (None, "...") else _IDIOM_GAP + part
        previous = word
    return body


def _compile_idioms(terms: Iterable[str], groups: Mapping[str, list[str]]) -> re.Pattern:
    body = "|".join(_idiom_sequence(term, groups) for term in terms)
    return re.compile(r"(?<!\w)(?:" + body + r")(?!\w)")


def neutralise(folded: str, rule_sets: Iterable[RuleSet] | None = None) -> str:
    """``folded`` with the idioms of the rule sets (all shipped ones by default) taken out.

    What the rules and the model read: "my brother beats me at fifa lol" says nothing of harm,
    and the rest of the answer is read as it stands.

    Examples
    --------
    >>> neutralise(fold("My mum will KILL me if I fail maths, but my uncle hits me"))
    'my mum will   maths, but my uncle hits me'
    """
    for rule_set in _all_rules() if rule_sets is None else rule_sets:
        if rule_set.idioms is not None and rule_set.applies(folded):
            folded = rule_set.idioms.sub(" ", folded)
    return folded


@functools.lru_cache(maxsize=4096)
def _compile_cached(terms: tuple[str, ...], apostrophe: str, replace: tuple) -> re.Pattern:
    return _compile_terms(terms, apostrophe, dict(replace))


def _compile(terms: Iterable[str], apostrophe: str, replace: Mapping[str, tuple[str, ...]]) -> re.Pattern:
    # one pattern object per distinct list, so that rules sharing a group share its matches
    return _compile_cached(tuple(terms), apostrophe, tuple(sorted(replace.items())))


def _compile_terms(terms: Iterable[str], apostrophe: str, replace: Mapping[str, tuple[str, ...]]) -> re.Pattern:
    body = "|".join(sorted({_term_pattern(t, apostrophe, replace) for t in terms}, key=len, reverse=True))
    return re.compile(r"(?<!\S)(?:" + body + r")(?!\S)")


def _element(
    spec: object, groups: Mapping[str, list[str]], apostrophe: str, replace: Mapping[str, tuple[str, ...]], where: str
) -> re.Pattern:
    if isinstance(spec, str) and spec in groups:
        return _compile(groups[spec], apostrophe, replace)
    if isinstance(spec, str) and spec.isupper():
        raise ValueError(f"{where}: no group named {spec}")
    terms: list[str] = []
    for term in [spec] if isinstance(spec, str) else list(spec):  # type: ignore[call-overload]
        if not isinstance(term, str):
            raise ValueError(f"{where}: an element is a group name or a list of terms and group names")
        if term.isupper() and term not in groups:
            raise ValueError(f"{where}: no group named {term}")
        terms.extend(groups[term] if term in groups else [term])
    if not terms:
        raise ValueError(f"{where}: an empty element")
    return _compile(terms, apostrophe, replace)


def parse_rules(data: Mapping, language: str) -> RuleSet:
    """Compile one language's rule file (already read from YAML)."""
    apostrophe = data.get("apostrophe", "")
    replace: dict[str, tuple[str, ...]] = {}
    spelt: dict[str, str] = {}
    for key, value in (data.get("replace") or {}).items():
        folded = words(str(key), apostrophe)
        if len(folded) != 1:
            raise ValueError(f"{language}: replace key {key!r} must be one word")
        # Keys are looked up after repeated letters are folded: "tt" would replace every "t" (the
        # elided "te"), and of "mm" and "m" only the last would count.
        if len(folded[0]) == 1 and folded[0] != fold(str(key)):
            raise ValueError(f"{language}: replace key {key!r} reads as the single letter {folded[0]!r}")
        if folded[0] in spelt:
            raise ValueError(f"{language}: replace keys {spelt[folded[0]]!r} and {key!r} read as the same word")
        spelt[folded[0]] = str(key)
        replace[folded[0]] = tuple(words(str(value), apostrophe))
    groups = {name: list(terms) for name, terms in (data.get("groups") or {}).items()}
    rules = []
    for raw in data.get("rules") or ():
        where = f"{language}:{raw.get('id')}"
        if raw.get("category") not in CATEGORIES:
            raise ValueError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
        elements = raw.get("all") or [raw.get("any")]
        if elements == [None]:
            raise ValueError(f"{where}: a rule needs 'all' or 'any'")
        compiled = tuple(_element(e, groups, apostrophe, replace, where) for e in elements)
        order = tuple(
            sorted(
                range(len(compiled)),
                key=lambda i: (compiled[i].search(_COMMON_WORDS) is not None, -compiled[i].pattern.count("|")),
            )
        )
        rules.append(
            _Rule(
                raw["id"],
                raw["category"],
                compiled,
                int(raw.get("window", 8)),
                bool(raw.get("guard", True)),
                bool(raw.get("ordered", False)),
                order,
            )
        )
    guard_terms = data.get("guards") or []
    script = data.get("script", "latin")
    if script not in _SCRIPTS:
        raise ValueError(f"{language}: script must be one of {', '.join(_SCRIPTS)}")
    denials = data.get("denials") or []
    firsts = dict.fromkeys(rule.elements[rule.probe_order[0]].pattern for rule in rules)
    return RuleSet(
        language,
        apostrophe,
        replace,
        tuple(rules),
        _compile(guard_terms, apostrophe, replace) if guard_terms else None,
        int(data.get("guard_reach", 3)),
        _SCRIPTS[script],
        _compile(denials, apostrophe, replace) if denials else None,
        re.compile("|".join(f"(?:{p})" for p in firsts)) if firsts else None,
        _compile(data["hypothetical"], apostrophe, replace) if data.get("hypothetical") else None,
        _compile_idioms(data["idioms"], data.get("idiom_groups") or {}) if data.get("idioms") else None,
    )


def rule_languages() -> tuple[str, ...]:
    """The languages that have a rule file, sorted."""
    folder = resources.files("analysis") / "screening"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


@functools.cache
def rules_for(language: str) -> RuleSet:
    """The compiled rules of one language (read once per process)."""
    text = (resources.files("analysis") / "screening" / f"{language}.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text), language)


@functools.cache
def _all_rules() -> tuple[RuleSet, ...]:
    return tuple(rules_for(lang) for lang in rule_languages())


@functools.lru_cache(maxsize=16)
def _shared_guards(rule_sets: tuple[RuleSet, ...]) -> dict[str, re.Pattern | None]:
    """Per script, one pattern of every guard term of the rule sets written in it."""
    by_script: dict[str, list[str]] = {}
    for rule_set in rule_sets:
        patterns = by_script.setdefault(rule_set.script.pattern, [])
        if rule_set.guard is not None:
            patterns.append(rule_set.guard.pattern)
    return {
        script: re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        for script, patterns in by_script.items()
    }


#: The concern reported when only the statistical model (:mod:`analysis.concernmodel`) flags an answer.
MODEL_CONCERN = Concern("model", "statistical", "unclassified")
_SHIPPED = object()


def find_concerns(
    text: str, rule_sets: Iterable[RuleSet] | None = None, model: object = _SHIPPED
) -> tuple[Concern, ...]:
    """Why ``text`` goes to the safeguarding lead: the rules it matches, or the model (empty: no concern).

    The rules of every language are matched, then the model reads the answer and
    :meth:`~analysis.concernmodel.ConcernModel.decide` says whether it is flagged: by the rules
    it matched, or by :data:`MODEL_CONCERN` when only the model found it.

    Parameters
    ----------
    text : str
    rule_sets : iterable of RuleSet, optional
        Replaces the shipped rules (all languages); the model is then used only if passed.
    model : ConcernModel or None, optional
        Replaces the shipped model (:func:`analysis.concernmodel.load_model`); None: rules alone.
    """
    found: list[Concern] = []
    if model is _SHIPPED:
        model = None
        if rule_sets is None:
            from .concernmodel import load_model  # the model reads words() from this module

            model = load_model()
    rule_sets = _all_rules() if rule_sets is None else tuple(rule_sets)
    folded = neutralise(fold(text), rule_sets)
    guards = _shared_guards(rule_sets)
    for rule_set in rule_sets:
        if rule_set.applies(folded):
            found.extend(rule_set.find(folded, folded=True, guard=guards[rule_set.script.pattern]))
    found = list(dict.fromkeys(found))
    if model is None or not text.strip():
        return tuple(found)
    from .concernmodel import may_give_way, may_overrule

    probability, piece = model.strongest(folded)  # type: ignore[attr-defined]
    overrulable = may_overrule(found)
    gives_way = may_give_way(found, folded)  # short answers and the gravest kinds: the rule stands
    if not model.decide(probability, bool(found), overrulable=overrulable, may_give_way=gives_way):  # type: ignore[attr-defined]
        return ()  # most answers: general talk can only take a flag away, so it is not looked for
    # "if a friend told me she was hurt I would tell", "we learnt about abuse": general talk, looked
    # for in the sentence the model found most worrying ("he hits me. we learnt about abuse" is flagged)
    hypothetical = any(rs.applies(piece) and rs.talks_hypothetically(piece, folded=True) for rs in rule_sets)
    if not model.decide(probability, bool(found), hypothetical, overrulable, gives_way):  # type: ignore[attr-defined]
        return ()
    return tuple(found) or (MODEL_CONCERN,)


@dataclass(frozen=True)
class Score:
    """How a set of rules does on labelled sentences (see :func:`evaluate`)."""

    concerns: int
    ordinary: int
    recall: float
    false_positive_rate: float
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]


def evaluate(
    labelled: Iterable[tuple[bool, str]], rule_sets: Iterable[RuleSet] | None = None, model: object = _SHIPPED
) -> Score:
    """Recall on the concerns and false-positive rate on the ordinary answers.

    Parameters
    ----------
    labelled : iterable of (bool, str)
        ``(is_concern, text)`` pairs.
    rule_sets : iterable of RuleSet, optional
        Replaces the shipped rules.
    model : ConcernModel or None, optional
        As for :func:`find_concerns`.

    Examples
    --------
    >>> s = evaluate([(True, "he beats me every day"), (False, "i would tell my mum")])
    >>> s.recall, s.false_positive_rate
    (1.0, 0.0)
    """
    rule_sets = None if rule_sets is None else tuple(rule_sets)
    missed, alarms, n_concern, n_ok = [], [], 0, 0
    for is_concern, text in labelled:
        flagged = bool(find_concerns(text, rule_sets, model))
        if is_concern:
            n_concern += 1
            if not flagged:
                missed.append(text)
        else:
            n_ok += 1
            if flagged:
                alarms.append(text)
    return Score(
        n_concern,
        n_ok,
        1 - len(missed) / n_concern if n_concern else 1.0,
        len(alarms) / n_ok if n_ok else 0.0,
        tuple(missed),
        tuple(alarms),
    )
