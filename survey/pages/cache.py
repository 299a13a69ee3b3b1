"""Rendered question pages, kept per process for the common case: a page nobody has answered yet.

Drawing a question page (the form class, its fields and the templates around them) was about
half of a busy server's work per page.  Children in one consultation see the same page, in
the same language, with the same progress, so a page that shows no stored answer, no error and
no message is drawn once and then reused.  What differs per child and per request, the CSRF
token and the page token, is put in on the way out.

Only untouched pages are kept: a page showing an earlier answer, an error or a note, or whose
choices depend on earlier answers (``choice_filter``, or choices made of them), is drawn every time.  The page's form
class (which holds no answers) is kept the same way for every page without a choice filter.
Each entry keeps the instrument view and country profile it was drawn from and is used only
while they are the very same objects, so a new instrument version or an uploaded profile never
shows a stale page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from markupsafe import Markup

from instruments.model import Item
from instruments.references import has_answer_references

#: Stand-ins for the per-request values in a kept page.  Neither can appear in a page otherwise:
#: templates escape every "<" that comes from data (so the page token's stand-in is passed to
#: the template as markup).
CSRF_SLOT = "<csrf-token>"
PAGE_TOKEN_SLOT = Markup("<page-token>")

#: Pages kept per process (about 20 KB each): every page of a 40-page consultation in five
#: languages and three age bands, with room to spare.
MAX_PAGES = 1024

T = TypeVar("T")


class _Kept:
    """A bounded, thread-safe map whose entries are valid only while their source objects are.

    Each entry keeps the objects it was made from (an instrument view, a country profile); it
    is used only while the caller passes the very same objects, so a new instrument version or
    an uploaded profile never brings back something made from the old one.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[tuple[object, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: Hashable, sources: tuple[object, ...]) -> Any:  # whatever was kept
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            kept_sources, value = entry
            if len(kept_sources) != len(sources) or any(a is not b for a, b in zip(kept_sources, sources, strict=True)):
                del self._entries[key]  # made from an older instrument or profile
                return None
            self._entries.move_to_end(key)
            return value

    def _keep(self, key: Hashable, value: Any, sources: tuple[object, ...]) -> None:
        with self._lock:
            self._entries[key] = (sources, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class RenderedPages(_Kept):
    """Drawn question pages, with stand-ins for the tokens.

    Examples
    --------
    >>> pages = RenderedPages(max_pages=2)
    >>> view = object()
    >>> pages.keep(("p", 1), "<input value='TOKEN'> <page-token>", sources=(view,), csrf="TOKEN")
    >>> pages.get(("p", 1), sources=(view,), csrf="new", page_token="abc")
    "<input value='new'> abc"
    >>> pages.get(("p", 1), sources=(object(),), csrf="new", page_token="abc") is None
    True
    """

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        super().__init__(max_pages)

    def get(self, key: Hashable, *, sources: tuple[object, ...], csrf: str, page_token: str) -> str | None:
        html = self._get(key, sources)
        if html is None:
            return None
        return html.replace(CSRF_SLOT, csrf).replace(PAGE_TOKEN_SLOT, page_token)

    def keep(self, key: Hashable, html: str, *, sources: tuple[object, ...], csrf: str) -> None:
        """Keep ``html``, drawn with ``PAGE_TOKEN_SLOT`` as its page token and ``csrf`` as its token."""
        self._keep(key, html.replace(csrf, CSRF_SLOT) if csrf else html, sources)


class BuiltForms(_Kept):
    """Page form classes and their field specs, built once per page, language and band.

    A form class holds no answers (each request makes its own instance), so pages whose
    choices do not depend on earlier answers share one.

    Examples
    --------
    >>> forms = BuiltForms(max_forms=4)
    >>> view = object()
    >>> forms.get_or_build(("p", 1), sources=(view,), build=lambda: "built")
    'built'
    >>> forms.get_or_build(("p", 1), sources=(view,), build=lambda: "built again")
    'built'
    """

    def __init__(self, max_forms: int = MAX_PAGES) -> None:
        super().__init__(max_forms)

    def get_or_build(self, key: Hashable, *, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        value = self._get(key, sources)
        if value is None:
            value = build()
            self._keep(key, value, sources)
        return value


def fixed_choices(items: Iterable[Item]) -> bool:
    """Whether ``items`` look the same whatever was answered before: no choice filter, no
    choices made of earlier answers (``select_one ${name}``), and no earlier answer shown in
    their words (``${name}``, which is one child's own)."""
    return not any(item.choice_filter or item.answers_as_choices or _shows_answers(item) for item in items)


def _shows_answers(item: Item) -> bool:
    texts = [*item.label.values(), *item.hint.values()]
    for variants in (item.label_bands, item.hint_bands):
        for text in variants.values():
            texts += text.values()
    return any(has_answer_references(t) for t in texts)


def untouched(items: Sequence[Item], stored: Mapping[str, str]) -> bool:
    """Whether a page of ``items`` can come from the kept pages: none answered, none filtered.

    Examples
    --------
    >>> from instruments.model import Item, Text
    >>> q = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    >>> untouched([q], {}), untouched([q], {"q1": "yes"})
    (True, False)
    """
    return fixed_choices(items) and not any(item.name in stored for item in items)


#: The pages and page forms this process keeps.
rendered_pages = RenderedPages()
built_forms = BuiltForms()
