"""Evaluating a parsed expression: values, comparisons, arithmetic, look-ups and functions."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from instruments.errors import ExpressionError
from instruments.expressions.common import (
    _NUMBER_RE,
    INSTANCE_PATH,
    MAX_REGEX_INPUT,
    MAX_STRING_LENGTH,
    POSITION,
    _compile_regex,
    _Node,
)
from instruments.model import RESERVED_CODES

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
