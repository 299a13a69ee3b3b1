"""Tokens, the recursive-descent parser, :class:`Expression`, :func:`parse` and :func:`check`."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from instruments.errors import ExpressionError
from instruments.expressions.common import (
    _REF_NAME_RE,
    _TOKEN_RE,
    CONTEXT_NAMES,
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    _compile_regex,
    _Node,
)
from instruments.expressions.evaluation import _Env, _eval, to_boolean


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
