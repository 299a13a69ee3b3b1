"""Limits, the functions the language knows, and regular expressions made safe to run."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from instruments.errors import ExpressionError

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


# AST nodes are tuples: (kind, ...). kinds: lit, ref, self, bare, neg, bin, call
_Node = tuple[Any, ...]


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
