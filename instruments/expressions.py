"""A safe parser and evaluator for the XLSForm expression subset.

Why hand-written: pyxform only *lexes* expressions (its Lark lexer in
``pyxform.parsing.expression`` is internal API and has no evaluator), and the
maintained XPath engines (``elementpath``, ``lxml``) evaluate XPath over XML
documents and know neither ``${name}`` references nor the ODK functions
(``selected``, ``count-selected``, ``coalesce``, ``if`` ...). The subset we need
is small, so a ~400-line recursive-descent parser with no ``eval``/``exec``
is the simplest safe option. Parsing never raises anything but
:class:`~instruments.errors.ExpressionError` (tested with hypothesis).

Supported
---------
* ``${name}`` references, ``.`` (the current value), numbers, ``'strings'``
  and ``"strings"``, bare names (choice columns inside ``choice_filter``);
* ``or``, ``and``, ``= != < <= > >=``, ``+ - * div mod``, unary ``-``,
  parentheses;
* functions: ``not``, ``selected``, ``count-selected``, ``selected-at``,
  ``string-length``, ``regex``, ``if``, ``coalesce``, ``int``, ``number``,
  ``string``, ``boolean``, ``true``, ``false``, ``round``, ``abs``, ``min``,
  ``max``, ``pow``, ``concat``, ``contains``, ``starts-with``, ``ends-with``,
  ``substr``, ``normalize-space``, ``today``, ``once``, ``jr:choice-name``.

Semantics (XPath 1.0 rules, simplified and documented)
-------------------------------------------------------
* An unanswered reference (missing or ``None``) is the empty string: it
  equals ``''``, is false as a boolean and is NaN as a number.
* The reserved codes ``_rns`` ("I'd rather not say") and ``_dk`` ("I don't
  know") compare as the strings they are (so ``${q} = '_rns'`` works), but
  are NaN in arithmetic and numeric comparisons and are not counted by
  ``count-selected``.
* A select_multiple answer is a list/tuple of choice names, or a string of
  names separated by spaces.
* ``< <= > >=`` compare numbers; ``=``/``!=`` compare as booleans if either
  side is boolean, as numbers if either side is a number, else as strings.
* ``div`` by zero gives infinity (or NaN for ``0 div 0``) as in XPath; no
  arithmetic error escapes.

Examples
--------
>>> evaluate("${age} >= 12 and selected(${ch}, 'chat')", {"age": 13, "ch": "chat phone"})
True
>>> evaluate("if(${age} > 12, 'teen', 'child')", {"age": "_rns"})
'child'
>>> evaluate("count-selected(${ch})", {"ch": ["chat", "phone"]})
2.0
>>> sorted(parse("${a} + ${b} div 2").references)
['a', 'b']
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from instruments.errors import ExpressionError
from instruments.model import RESERVED_CODES

__all__ = [
    "CONTEXT_NAMES",
    "FUNCTIONS",
    "Expression",
    "ExpressionError",
    "check",
    "evaluate",
    "evaluate_bool",
    "parse",
    "to_boolean",
    "to_number",
    "to_string",
]

MAX_LENGTH = 4000
MAX_DEPTH = 60
MAX_REGEX_LENGTH = 300
MAX_STRING_LENGTH = 100_000
MAX_REGEX_INPUT = 1_000

#: Context values the engine supplies and expressions may reference as ``${_band}`` etc.
CONTEXT_NAMES = frozenset({"_band", "_lang", "_setting", "_mode"})
#: Where the engine puts the number of the repeat instance being answered: ``position(..)``.
POSITION = "_position"
#: Where the engine puts the whole instance path (``(2, 1)``): ``sum()`` stays within it.
INSTANCE_PATH = "_path"

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ref>\$\{\s*(?P<refname>[^}]*?)\s*\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,|\.\.|\.|\||/|\[|\]|@)
  | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?::[A-Za-z_][A-Za-z0-9_\-]*)?)
    """,
    re.VERBOSE,
)
_REF_NAME_RE = re.compile(rf"^{_NAME}$")
_NUMBER_RE = re.compile(r"^\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*$")

# function name -> (min args, max args or None for variadic)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "selected-at": (2, 2),
    "string-length": (0, 1),
    "regex": (2, 2),
    "if": (3, 3),
    "coalesce": (2, 2),
    "int": (1, 1),
    "number": (1, 1),
    "string": (1, 1),
    "boolean": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "round": (1, 2),
    "abs": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "pow": (2, 2),
    "concat": (0, None),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "normalize-space": (1, 1),
    "today": (0, 0),
    "once": (1, 1),
    "jr:choice-name": (2, 2),
    "indexed-repeat": (3, 5),
    "sum": (1, 1),
    "count": (1, 1),
}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # ref, number, string, op, name, end
    value: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {text[pos]!r}", text, pos)
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN_RE is a named group
        if kind == "refname":  # pragma: no cover - inner group never last
            kind = "ref"
        if kind == "ws":
            pass
        elif kind == "ref":
            name = match.group("refname")
            if "#" in name:
                raise ExpressionError(
                    f"${{{name}}} reads the answers last saved on this device, which would be "
                    "another child's: Sauti never does that (last-saved references are not "
                    "supported)",
                    text,
                    pos,
                )
            if not _REF_NAME_RE.match(name):
                raise ExpressionError(f"invalid reference ${{{name}}}", text, pos)
            tokens.append(_Tok("ref", name, pos))
        elif kind == "string":
            tokens.append(_Tok("string", match.group()[1:-1], pos))
        else:
            tokens.append(_Tok(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


_PATH_OPS = ("..", "/", "|", "[", "]", "@")
_PATH_MESSAGE = "'{}' (XPath paths, unions and predicates) is not supported; use ${{name}} references"

# AST nodes are tuples: (kind, ...). kinds: lit, ref, self, bare, neg, bin, call
_Node = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.refs: set[str] = set()
        self.bare: set[str] = set()
        self.uses_self = False
        self.lookups: set[tuple[str, str]] = set()
        self.in_lookup = 0
        self.lookup_columns: set[str] = set()

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.tokens[self.index]

    def advance(self) -> _Tok:
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def error(self, message: str, tok: _Tok | None = None) -> ExpressionError:
        tok = tok or self.tok
        return ExpressionError(message, self.text, tok.pos)

    def is_op(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values

    def is_word(self, *values: str) -> bool:
        return self.tok.kind == "name" and self.tok.value in values

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nests deeper than {MAX_DEPTH} levels")

    # grammar
    def parse(self) -> _Node:
        if not self.text.strip():
            raise ExpressionError("the expression is empty", self.text, 0)
        node = self.parse_or()
        if self.tok.kind != "end":
            if self.tok.kind == "op" and self.tok.value in _PATH_OPS:
                raise self.error(_PATH_MESSAGE.format(self.tok.value))
            raise self.error(f"unexpected {self.tok.value!r}")
        return node

    def parse_or(self) -> _Node:
        node = self.parse_and()
        while self.is_word("or"):
            self.advance()
            node = ("bin", "or", node, self.parse_and())
        return node

    def parse_and(self) -> _Node:
        node = self.parse_eq()
        while self.is_word("and"):
            self.advance()
            node = ("bin", "and", node, self.parse_eq())
        return node

    def parse_eq(self) -> _Node:
        node = self.parse_rel()
        while self.is_op("=", "!="):
            op = self.advance().value
            node = ("bin", op, node, self.parse_rel())
        return node

    def parse_rel(self) -> _Node:
        node = self.parse_add()
        while self.is_op("<", "<=", ">", ">="):
            op = self.advance().value
            node = ("bin", op, node, self.parse_add())
        return node

    def parse_add(self) -> _Node:
        node = self.parse_mul()
        while self.is_op("+", "-"):
            op = self.advance().value
            node = ("bin", op, node, self.parse_mul())
        return node

    def parse_mul(self) -> _Node:
        node = self.parse_unary()
        while self.is_op("*") or self.is_word("div", "mod"):
            op = self.advance().value
            node = ("bin", op, node, self.parse_unary())
        return node

    def parse_unary(self) -> _Node:
        if self.is_op("-"):
            self.advance()
            self.enter()
            try:
                return ("neg", self.parse_unary())
            finally:
                self.depth -= 1
        return self.parse_primary()

    def parse_primary(self) -> _Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return ("lit", float(tok.value))
        if tok.kind == "string":
            self.advance()
            return ("lit", tok.value)
        if tok.kind == "ref":
            self.advance()
            self.refs.add(tok.value)
            return ("ref", tok.value)
        if tok.kind == "op":
            if tok.value == "(":
                self.advance()
                self.enter()
                node = self.parse_or()
                self.depth -= 1
                if not self.is_op(")"):
                    raise self.error("missing ')'")
                self.advance()
                return node
            if tok.value == ".":
                self.advance()
                self.uses_self = True
                return ("self",)
            if tok.value in _PATH_OPS:
                raise self.error(_PATH_MESSAGE.format(tok.value))
            if tok.kind == "end":  # pragma: no cover
                raise self.error("the expression ends too early")
            raise self.error(f"unexpected {tok.value!r}")
        if tok.kind == "name":
            self.advance()
            if tok.value == "instance" and self.is_op("("):
                return self.parse_lookup(tok)
            if (
                tok.value == "position"
                and self.in_lookup
                and [t.value for t in self.tokens[self.index : self.index + 2]] == ["(", ")"]
            ):
                self.index += 2
                return ("lookup_position",)
            if self.is_op("("):
                return self.parse_call(tok)
            if tok.value in ("and", "or", "div", "mod"):
                raise self.error(f"{tok.value!r} needs something on its left", tok)
            if self.in_lookup:
                self.lookup_columns.add(tok.value)
            else:
                self.bare.add(tok.value)
            return ("bare", tok.value)
        raise self.error("the expression ends too early" if tok.kind == "end" else "unexpected")

    def _expect(self, kind: str, value: str | None, what: str) -> _Tok:
        tok = self.tok
        if tok.kind != kind or (value is not None and tok.value != value):
            raise self.error(f"{what} expected in instance('list')/root/item[...]/column")
        return self.advance()

    def parse_lookup(self, name_tok: _Tok) -> _Node:
        """``instance('list')/root/item[filter]...[n]/column``: a column of the first choice of
        ``list`` (on the choices sheet) that passes every filter; empty when none does. Inside
        a filter, bare names read the choice's columns and ``position()`` is its place."""
        self.advance()  # (
        list_name = self._expect("string", None, "a list name in quotes").value
        self._expect("op", ")", "')'")
        for part in ("root", "item"):
            self._expect("op", "/", "'/'")
            self._expect("name", part, f"'{part}'")
        filters: list[_Node] = []
        columns: set[str] = set()
        while self.is_op("["):
            self.advance()
            self.enter()
            self.in_lookup += 1
            outer, self.lookup_columns = self.lookup_columns, set()
            try:
                filters.append(self.parse_or())
                columns |= self.lookup_columns
            finally:
                self.lookup_columns = outer
                self.in_lookup -= 1
                self.depth -= 1
            self._expect("op", "]", "']'")
        self._expect("op", "/", "'/'")
        column = self._expect("name", None, "a column name").value
        for name in {column, *columns}:
            self.lookups.add((list_name, name))
        return ("lookup", list_name, tuple(filters), column)

    @staticmethod
    def _other_refs(args: list[Any], skip: _Node) -> list[Any]:
        return [a for a in args if a is not skip and a[0] == "ref"]

    def parse_call(self, name_tok: _Tok) -> _Node:
        name = name_tok.value
        if name == "position" and [t.value for t in self.tokens[self.index : self.index + 3]] == ["(", "..", ")"]:
            # XLSForm's number of the repeat instance being answered (1 outside repeats)
            self.index += 3
            return ("position",)
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name}(); supported: {', '.join(sorted(FUNCTIONS))}", name_tok)
        self.advance()  # (
        self.enter()
        args: list[_Node] = []
        if not self.is_op(")"):
            args.append(self.parse_or())
            while self.is_op(","):
                self.advance()
                args.append(self.parse_or())
        if not self.is_op(")"):
            raise self.error(f"missing ')' after the arguments of {name}()")
        self.advance()
        self.depth -= 1
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = str(low) if low == high else f"{low}..{high if high is not None else 'n'}"
            raise self.error(f"{name}() takes {expected} argument(s), got {len(args)}", name_tok)
        if name in ("sum", "count"):
            # over a repeat's instances: sum(${amount}), count(${name}) of the answered ones
            if args[0][0] != "ref":
                raise self.error(f"{name}() takes one ${{item}} asked in a repeat", name_tok)
            return ("aggregate", name, args[0][1])
        if name == "indexed-repeat":
            # indexed-repeat(${item}, ${repeat}, n[, ${inner repeat}, m]): the answer of one
            # instance; the repeats are named, not read, so they are no references
            if len(args) == 4 or args[0][0] != "ref" or any(a[0] != "ref" for a in args[1::2]):
                raise self.error(
                    "indexed-repeat() takes ${item}, ${repeat}, a number (and ${inner repeat}, a number)", name_tok
                )
            for repeat in args[1::2]:
                if not any(repeat[1] == other[1] for other in self._other_refs(args, repeat)):
                    self.refs.discard(repeat[1])
            return ("indexed", args[0][1], tuple(args[2::2]))
        if name == "regex" and args[1][0] == "lit":
            _compile_regex(str(args[1][1]), self.text)
        return ("call", name, tuple(args))


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; evaluate it with :meth:`evaluate`."""

    text: str
    tree: _Node = field(repr=False)
    references: frozenset[str] = frozenset()
    bare_names: frozenset[str] = frozenset()
    uses_self: bool = False
    #: (choice list, column) pairs read by ``instance('list')/root/item[...]/column`` look-ups
    lookups: frozenset[tuple[str, str]] = frozenset()

    def evaluate(
        self,
        answers: Mapping[str, Any],
        current: Any = None,
        choice: Mapping[str, Any] | None = None,
        choice_name: Callable[[str, str], str] | None = None,
        today: _dt.date | None = None,
        choice_lists: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> Any:
        """Evaluate against ``answers``.

        Parameters
        ----------
        answers : mapping
            Answer values by item name (plus optional context values such as
            ``_band``, ``_setting``).
        current : object
            The value ``.`` stands for (constraints).
        choice : mapping, optional
            The choice being filtered (``choice_filter``): bare names such as
            ``name`` or ``county`` read from it.
        choice_name : callable, optional
            ``choice_name(value, item_name) -> label`` for ``jr:choice-name``.
        today : date, optional
            The date ``today()`` returns (default: the real date).
        choice_lists : mapping, optional
            Choice list name -> its choices as mappings (``name``, ``label`` and the extra
            columns), read by ``instance('list')/root/item[...]/column`` look-ups (empty
            without it).
        """
        env = _Env(answers, current, choice, choice_name, today, choice_lists or {})
        return _eval(self.tree, env)

    def evaluate_bool(self, answers: Mapping[str, Any], **kwargs: Any) -> bool:
        """Evaluate and convert the result to a boolean (relevance, constraints)."""
        return to_boolean(self.evaluate(answers, **kwargs))


@lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse ``text`` into an :class:`Expression`.

    Raises
    ------
    ExpressionError
        For any syntax problem, unknown function, wrong argument count, too
        long or too deeply nested input. Nothing else is ever raised.

    Examples
    --------
    >>> parse("${a} >").text
    Traceback (most recent call last):
    ...
    instruments.errors.ExpressionError: the expression ends too early at character 7
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", "", 0)
    parser = _Parser(text)
    tree = parser.parse()
    return Expression(
        text=text,
        tree=tree,
        references=frozenset(parser.refs),
        bare_names=frozenset(parser.bare),
        uses_self=parser.uses_self,
        lookups=frozenset(parser.lookups),
    )


def evaluate(text: str, answers: Mapping[str, Any], **kwargs: Any) -> Any:
    """Parse (cached) and evaluate ``text``; see :meth:`Expression.evaluate`.

    >>> evaluate("3 div 2 + 7 mod 4", {})
    4.5
    """
    return parse(text).evaluate(answers, **kwargs)


def evaluate_bool(text: str | None, answers: Mapping[str, Any], **kwargs: Any) -> bool:
    """Evaluate as a boolean. An empty or ``None`` expression is true (always relevant).

    >>> evaluate_bool(None, {}), evaluate_bool("${x} = 'yes'", {"x": "no"})
    (True, False)
    """
    if text is None or not text.strip():
        return True
    return parse(text).evaluate_bool(answers, **kwargs)


def check(
    text: str,
    known_names: Iterable[str],
    *,
    allow_self: bool = False,
    allow_bare: bool = False,
) -> list[str]:
    """Static check; returns a list of problems (empty when fine).

    Reports syntax errors, references to unknown names (context names such as
    ``_band`` are always known), ``.`` outside constraints and bare names
    outside choice filters.

    Examples
    --------
    >>> check("${age} > 12 and ${nope} = 1", {"age"})
    ['unknown reference ${nope}']
    >>> check("${age} >", {"age"})
    ['the expression ends too early at character 9']
    """
    try:
        expr = parse(text)
    except ExpressionError as exc:
        return [str(exc)]
    known = set(known_names) | CONTEXT_NAMES
    problems = [f"unknown reference ${{{name}}}" for name in sorted(expr.references - known)]
    if expr.uses_self and not allow_self:
        problems.append("'.' (the current value) is only meaningful in a constraint")
    if expr.bare_names and not allow_bare:
        names = ", ".join(sorted(expr.bare_names))
        problems.append(f"bare name(s) {names}: write references as ${{name}}")
    return problems


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Env:
    answers: Mapping[str, Any]
    current: Any
    choice: Mapping[str, Any] | None
    choice_name: Callable[[str, str], str] | None
    today: _dt.date | None
    choice_lists: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    position: int = 0


def _normalise(value: Any) -> bool | str | float | list[str]:
    if value is None:
        return ""
    if isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return str(value)


def to_number(value: Any) -> float:
    """XPath ``number()``; reserved codes and unanswered values are NaN.

    >>> to_number("12"), math.isnan(to_number("_rns")), to_number(True)
    (12.0, True, 1.0)
    """
    value = _normalise(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else " ".join(value)
    if value in RESERVED_CODES or not _NUMBER_RE.match(value):
        return math.nan
    return float(value)


def to_string(raw: Any) -> str:
    """XPath ``string()``: ``3.0`` -> ``'3'``, lists joined by spaces.

    >>> to_string(3.0), to_string(["a", "b"]), to_string(None)
    ('3', 'a b', '')
    """
    value = _normalise(raw)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return " ".join(value)
    return value


def to_boolean(value: Any) -> bool:
    """XPath ``boolean()``: non-zero numbers, non-empty strings and lists are true.

    >>> to_boolean(""), to_boolean("0"), to_boolean(0.0), to_boolean(["a"])
    (False, True, False, True)
    """
    value = _normalise(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return len(value) > 0


def _selection(raw: Any) -> list[str]:
    value = _normalise(raw)
    if isinstance(value, list):
        return value
    if isinstance(value, bool | float):
        return [to_string(value)]
    return value.split()


# a group ending in a quantifier that is itself quantified, e.g. (a+)+ or (\d{1,3})*: the
# commonest shape behind catastrophic backtracking (ReDoS) on a child's typed answer. This is
# a heuristic, not a proof; input to regex() is also capped at MAX_REGEX_INPUT characters.
_NESTED_REPEAT_RE = re.compile(r"(?:[+*]|\})\??\)(?:[+*]|\{\d*,)")


def _compile_regex(pattern: str, text: str = "") -> re.Pattern[str]:
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ExpressionError(f"regex() patterns are limited to {MAX_REGEX_LENGTH} characters", text)
    if _NESTED_REPEAT_RE.search(pattern):
        raise ExpressionError(
            f"regex pattern {pattern!r} repeats a group that itself repeats; such patterns "
            "can take very long on some answers",
            text,
        )
    try:
        return _cached_regex(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise ExpressionError(f"invalid regex pattern {pattern!r}: {exc}", text) from None


@lru_cache(maxsize=256)
def _cached_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _normalise(left), _normalise(right)
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            result = to_boolean(left) == to_boolean(right)
        elif isinstance(left, float) or isinstance(right, float):
            result = to_number(left) == to_number(right)
        else:
            result = to_string(left) == to_string(right)
        return result if op == "=" else not result
    a, b = to_number(left), to_number(right)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _arith(op: str, left: Any, right: Any) -> float:
    a, b = to_number(left), to_number(right)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "div":
            if b == 0:
                if a == 0 or math.isnan(a):
                    return math.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        # mod: XPath truncating remainder
        if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
            return math.nan
        return math.fmod(a, b)
    except (OverflowError, ValueError):
        return math.nan


def _eval(node: _Node, env: _Env) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        return _normalise(env.answers.get(node[1]))
    if kind == "self":
        return _normalise(env.current)
    if kind == "position":
        return float(env.answers.get(POSITION) or 1)
    if kind == "aggregate":
        prefix = ".".join(str(n) for n in env.answers.get(INSTANCE_PATH) or ())
        values = []
        for key, value in env.answers.items():
            name, sep, where = str(key).partition("#")
            if sep and name == node[2] and (not prefix or where == prefix or where.startswith(prefix + ".")):
                values.append(_normalise(value))
        answered = [v for v in values if v not in ("", None) and v not in RESERVED_CODES]
        if node[1] == "count":
            return float(len(answered))
        numbers = [to_number(v) for v in answered]
        return float(sum(n for n in numbers if not math.isnan(n)))
    if kind == "indexed":
        numbers = [to_number(_eval(n, env)) for n in node[2]]
        if any(math.isnan(n) or math.isinf(n) or n < 1 for n in numbers):
            return ""
        key = f"{node[1]}#{'.'.join(str(int(n)) for n in numbers)}"
        return _normalise(env.answers.get(key))
    if kind == "lookup":
        return _lookup(node, env)
    if kind == "lookup_position":
        return float(env.position)
    if kind == "bare":
        if env.choice is None:
            return ""
        return _normalise(env.choice.get(node[1]))
    if kind == "neg":
        return -to_number(_eval(node[1], env))
    if kind == "bin":
        op = node[1]
        if op == "or":
            return to_boolean(_eval(node[2], env)) or to_boolean(_eval(node[3], env))
        if op == "and":
            return to_boolean(_eval(node[2], env)) and to_boolean(_eval(node[3], env))
        left, right = _eval(node[2], env), _eval(node[3], env)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(op, left, right)
        return _arith(op, left, right)
    return _call(node[1], node[2], env)


def _lookup(node: _Node, env: _Env) -> Any:
    """Evaluate ``instance('list')/root/item[...]/column`` (see :meth:`_Parser.parse_lookup`)."""
    _, list_name, filters, column = node
    rows = list(env.choice_lists.get(list_name, ()))
    for condition in filters:
        kept = []
        for position, row in enumerate(rows, start=1):
            value = _eval(condition, replace(env, choice=row, position=position))
            # XPath: a number as the whole filter means "the one at that place"
            passed = to_number(value) == position if isinstance(value, float) else to_boolean(value)
            if passed:
                kept.append(row)
        rows = kept
    return _normalise(rows[0].get(column)) if rows else ""


def _int(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    return float(math.trunc(value))


def _call(name: str, args: tuple[_Node, ...], env: _Env) -> Any:  # a flat dispatch table
    if name == "if":
        branch = args[1] if to_boolean(_eval(args[0], env)) else args[2]
        return _eval(branch, env)
    values = [_eval(a, env) for a in args]
    if name == "not":
        return not to_boolean(values[0])
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "selected":
        return to_string(values[1]).strip() in _selection(values[0])
    if name == "count-selected":
        return float(len([v for v in _selection(values[0]) if v not in RESERVED_CODES]))
    if name == "selected-at":
        chosen = _selection(values[0])
        index = to_number(values[1])
        if math.isnan(index) or math.isinf(index) or not 0 <= int(index) < len(chosen):
            return ""
        return chosen[int(index)]
    if name == "string-length":
        text = to_string(values[0] if values else env.current)
        return float(len(text))
    if name == "regex":
        text = to_string(values[0])[:MAX_REGEX_INPUT]
        return _compile_regex(to_string(values[1])).search(text) is not None
    if name == "coalesce":
        first = to_string(values[0])
        return values[0] if first != "" else values[1]
    if name == "int":
        return _int(to_number(values[0]))
    if name == "number":
        return to_number(values[0])
    if name == "string":
        return to_string(values[0])
    if name == "boolean":
        return to_boolean(values[0])
    if name == "round":
        number = to_number(values[0])
        places = 0 if len(values) == 1 else to_number(values[1])
        if math.isnan(number) or math.isinf(number) or math.isnan(places):
            return number
        places = int(max(-15, min(15, places)))
        return float(round(number, places))
    if name == "abs":
        return abs(to_number(values[0]))
    if name in ("min", "max"):
        numbers = [to_number(v) for v in values]
        if any(math.isnan(n) for n in numbers):
            return math.nan
        return min(numbers) if name == "min" else max(numbers)
    if name == "pow":
        try:
            result = math.pow(to_number(values[0]), to_number(values[1]))
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
        return result
    if name == "concat":
        return "".join(to_string(v) for v in values)[:MAX_STRING_LENGTH]
    if name == "contains":
        return to_string(values[1]) in to_string(values[0])
    if name == "starts-with":
        return to_string(values[0]).startswith(to_string(values[1]))
    if name == "ends-with":
        return to_string(values[0]).endswith(to_string(values[1]))
    if name == "substr":
        text = to_string(values[0])
        start = to_number(values[1])
        if math.isnan(start):
            return ""
        start_i = max(0, int(_int(max(min(start, 1e9), -1e9))))
        if len(values) == 3:
            length = to_number(values[2])
            if math.isnan(length):
                return ""
            end = start_i + max(0, int(_int(max(min(length, 1e9), -1e9))))
            return text[start_i:end]
        return text[start_i:]
    if name == "normalize-space":
        return " ".join(to_string(values[0]).split())
    if name == "today":
        return (env.today or _dt.date.today()).isoformat()
    if name == "once":
        return values[0]
    if name == "jr:choice-name":
        value = to_string(values[0])
        if env.choice_name is None:
            return value
        item = to_string(values[1]).strip()
        if item.startswith("${") and item.endswith("}"):
            item = item[2:-1]
        return env.choice_name(value, item)
    raise ExpressionError(f"unknown function {name}()")  # pragma: no cover - parse checks
