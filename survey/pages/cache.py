"""Rendered question pages, kept per process for the common case: a page nobody has answered yet.

Drawing a question page (the form class, its fields and the templates around them) was about
half of a busy server's work per page.  Children in one consultation see the same page, in
the same language, with the same progress, so a page that shows no stored answer, no error and
no message is drawn once and then reused.  What differs per child and per request, the CSRF
token and the page token, is put in on the way out.

Only untouched pages are kept: a page showing an earlier answer, an error or a note, or whose
choices depend on earlier answers (``choice_filter``), is drawn every time.  Each entry keeps
the instrument view and country profile it was drawn from and is used only while they are the
very same objects, so a new instrument version or an uploaded profile never shows a stale page.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping

from markupsafe import Markup

from instruments.model import Item

#: Stand-ins for the per-request values in a kept page.  Neither can appear in a page otherwise:
#: templates escape every "<" that comes from data (so the page token's stand-in is passed to
#: the template as markup).
CSRF_SLOT = "<csrf-token>"
PAGE_TOKEN_SLOT = Markup("<page-token>")

#: Pages kept per process (about 20 KB each): every page of a 40-page consultation in five
#: languages and three age bands, with room to spare.
MAX_PAGES = 1024


@dataclasses.dataclass(frozen=True)
class KeptPage:
    html: str
    sources: tuple[object, ...]  # the objects it was drawn from; reused only while they are current


class RenderedPages:
    """A bounded, thread-safe map from a page's description to its drawn HTML.

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
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, KeptPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, *, sources: tuple[object, ...], csrf: str, page_token: str) -> str | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None:
                return None
            if len(kept.sources) != len(sources) or any(a is not b for a, b in zip(kept.sources, sources, strict=True)):
                del self._pages[key]  # drawn from an older instrument or profile
                return None
            self._pages.move_to_end(key)
        return kept.html.replace(CSRF_SLOT, csrf).replace(PAGE_TOKEN_SLOT, page_token)

    def keep(self, key: Hashable, html: str, *, sources: tuple[object, ...], csrf: str) -> None:
        """Keep ``html``, drawn with ``PAGE_TOKEN_SLOT`` as its page token and ``csrf`` as its token."""
        kept = KeptPage(html.replace(csrf, CSRF_SLOT) if csrf else html, sources)
        with self._lock:
            self._pages[key] = kept
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def untouched(items: Iterable[Item], stored: Mapping[str, str]) -> bool:
    """Whether a page of ``items`` can come from the kept pages: none answered, none filtered.

    Examples
    --------
    >>> from instruments.model import Item, Text
    >>> q = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    >>> untouched([q], {}), untouched([q], {"q1": "yes"})
    (True, False)
    """
    return not any(item.name in stored or item.choice_filter for item in items)


#: The pages this process keeps.
rendered_pages = RenderedPages()
