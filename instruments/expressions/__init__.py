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

from instruments.errors import ExpressionError
from instruments.expressions.common import CONTEXT_NAMES, FUNCTIONS
from instruments.expressions.common import INSTANCE_PATH as INSTANCE_PATH
from instruments.expressions.common import MAX_DEPTH as MAX_DEPTH
from instruments.expressions.common import MAX_LENGTH as MAX_LENGTH
from instruments.expressions.common import POSITION as POSITION
from instruments.expressions.evaluation import to_boolean, to_number, to_string
from instruments.expressions.parsing import Expression, check, evaluate, evaluate_bool, parse

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
