"""URL rules whose URL builders are compiled when first used.

Werkzeug compiles two Python functions per rule (building a URL with and without extra query
arguments) as the rule is added: with some 120 rules, about half of ``create_app``'s time, for
builders most apps (every test's) never call.  :class:`LazyBuildRule` compiles each one on its
first use instead; what it builds is werkzeug's own builder, so every URL is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A werkzeug :class:`~werkzeug.routing.Rule` that compiles its URL builders on first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_on_first_use(rule: LazyBuildRule, **values: Any) -> tuple[str, str]:
            # Rule.compile binds what this returns to the rule; the real builder replaces it.
            builder = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, attribute, builder)
            return builder(**values)

        return build_on_first_use


__all__ = ["LazyBuildRule"]
