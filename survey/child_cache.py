"""What a child's request does not work out again: every cache of the child's path, in one place.

Only things that never change once made are kept, each for as long as the objects it was made
from are the very same ones:

- :data:`rendered_pages`: question pages nobody has answered yet, drawn once per process and
  reused with fresh tokens (:class:`RenderedPages`);
- :data:`answered_pages`: question pages showing only earlier answers picked from the page's
  own choices, kept by those choices (:func:`shown_choices`);
- :data:`built_forms`: page form classes and their field specs (:class:`BuiltForms`);
- :data:`kept_screens`: the child's other screens that look the same for every child at that
  point (age, information, end, thank-you), kept by what they show (:func:`kept_screen`);
- :data:`instrument_figures`: an instrument's pages and minutes for a band, as the consent texts
  say them (:class:`KeptValues`);
- :func:`fixed_choices`: whether an item looks the same whatever was answered before, per item
  object;
- :data:`addresses`: the question pages' addresses built by ``url_for``, per app, application
  root and arguments (:class:`KeptAddresses`);
- :func:`wtforms_translations`: WTForms' own messages, read from disk once per language;
- :func:`install_template_gettext`: the request's translations looked up once per request and
  locale for the templates' ``_()``, through Flask-Babel's public API only;
- :class:`SignedCookieSessions`: the session cookie's signer made once per secret key, with the
  C implementation of the same HMAC-SHA1 signature Flask uses (cookies stay valid across builds),
  and a cookie already checked read again without checking its signature again (its age still is);
  a session the request did not change saved without working out the cookie's settings;
- :data:`form_tokens`: a session's signed form (CSRF) token, made by Flask-WTF and reused on
  the question pages for up to a minute, and recognised when it comes back (:class:`FormTokens`);
- :class:`SautiFlask`: Flask, with the check that a hook or view is not a coroutine made once
  per function instead of once per call (about a dozen per request), and requests whose
  ``Cookie`` header is parsed once per process, not once per request (:class:`SautiRequest`);
- :func:`settle_startup_objects`: what a server worker built at start-up (the app, its models,
  instruments, catalogues) is left out of the garbage collector's full passes.

Pages: drawing a question page (the form class, its fields and the templates around them) was
about half of a busy server's work per page.  Children in one consultation see the same page, in
the same language, with the same progress, so a page that shows no stored answer, no error and
no message is drawn once and then reused.  What differs per child and per request, the CSRF
token and the page token, is put in on the way out.  A page showing earlier answers that are
all picks among its own fixed choices (a single or multiple choice: the same few values for
everyone) is kept too, apart, by those picks (:data:`answered_pages`).  A page showing any other
earlier answer (words or numbers the child gave), an error or a note, or whose choices depend on
earlier answers (``choice_filter``, or choices made of them), is drawn every time.  Each entry
keeps the instrument view and country profile it was drawn from and is used only while they are
the very same objects, so a new instrument version or an uploaded profile never shows a stale
page.

Kept elsewhere, with the objects they belong to: the band's view of an instrument and its page
plans (:mod:`survey.services.instrument_store`), the instrument with the country profile's
helplines filled in (:mod:`survey.services.placeholders`).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, session
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from flask_babel import get_locale, get_translations
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.http import parse_cookie
from werkzeug.utils import cached_property
from wtforms import ValidationError
from wtforms.i18n import messages_path

from instruments.model import RESERVED_CODES, Instrument, Item, ItemType
from instruments.references import has_answer_references

#: Stand-ins for the per-request values in a kept page.  Neither can appear in a page otherwise:
#: templates escape every "<" that comes from data (so the page token's stand-in is passed to
#: the template as markup).
CSRF_SLOT = "<csrf-token>"
PAGE_TOKEN_SLOT = Markup("<page-token>")
#: What a page token sent back may be (the pages make 32 hex digits): printable ASCII, so that a
#: NUL or other control character never reaches the database (PostgreSQL refused it with a 500).
_PAGE_TOKEN = re.compile(r"[!-~]{1,64}")


def posted_page_token(form: Mapping[str, str]) -> str:
    """The page token a child's form sent back (a double click's twin carries the same), or a
    fresh one when none or a malformed one came."""
    posted = form.get("page_token", "")
    return posted if _PAGE_TOKEN.fullmatch(posted) else secrets.token_hex(16)


#: A permanent session's cookie is re-issued (new expiry) when it is this old, not on every
#: response: signing the cookie again on every request cost about 3 % of a busy server's time
#: (``SESSION_REFRESH_EACH_REQUEST`` is off; :meth:`SignedCookieSessions.open_session`).
SESSION_REFRESH_AFTER_S = 600
#: The session key holding when the cookie was last re-issued (seconds since the epoch).
REFRESHED_KEY = "refreshed"

#: Session cookies kept checked per process (a few hundred bytes each; about one per child).
OPENED_COOKIES_KEPT = 4096

#: Pages kept per process (about 20 KB each): every page of a 40-page consultation in five
#: languages and three age bands, with room to spare.
MAX_PAGES = 1024

T = TypeVar("T")


class KeptBySource:
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


class RenderedPages(KeptBySource):
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


class KeptValues(KeptBySource):
    """Values worked out from an instrument (or other immutable sources), kept while those are
    the very same objects.

    Examples
    --------
    >>> kept = KeptValues(max_entries=4)
    >>> view = object()
    >>> kept.get_or_build(("minutes", "B"), sources=(view,), build=lambda: 12)
    12
    >>> kept.get_or_build(("minutes", "B"), sources=(view,), build=lambda: 13)
    12
    """

    def get_or_build(self, key: Hashable, *, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        value = self._get(key, sources)
        if value is None:
            value = build()
            self._keep(key, value, sources)
        return value


class BuiltForms(KeptValues):
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


#: Whether each item looks the same whatever was answered before, by the item's identity (the
#: item is kept with its answer, so a new object never takes an old one's): the question pages
#: ask it of their items twice a request, and it reads every text of the item.
_fixed_items: dict[int, tuple[Item, bool]] = {}
FIXED_ITEMS_KEPT = 8192


def fixed_choices(items: Iterable[Item]) -> bool:
    """Whether ``items`` look the same whatever was answered before: no choice filter, no
    choices made of earlier answers (``select_one ${name}``), and no earlier answer shown in
    their words (``${name}``, which is one child's own)."""
    for item in items:
        kept = _fixed_items.get(id(item))
        if kept is None or kept[0] is not item:
            kept = (item, not (item.choice_filter or item.answers_as_choices or _shows_answers(item)))
            if len(_fixed_items) >= FIXED_ITEMS_KEPT:
                _fixed_items.clear()  # rarely: many instrument versions in one process
            _fixed_items[id(item)] = kept
        if not kept[1]:
            return False
    return True


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


#: The longest stored answer a kept page may show (a multiple choice's JSON list of choice names).
SHOWN_CHOICES_MAX_LENGTH = 400


def shown_choices(instrument: Instrument, items: Sequence[Item], stored: Mapping[str, object]) -> tuple | None:
    """What the earlier answers on a page of ``items`` show, when each is a pick among the item's
    own choices (a single or multiple choice, a scale): ``(name, stored value)`` for each
    answered item, ``()`` for an untouched page; ``None`` when any answer is something else
    (words, a number, a ranking, a grid), so the page is drawn every time.  Ask only for
    ``items`` that pass :func:`fixed_choices`.

    Examples
    --------
    >>> from instruments.model import Choice, Instrument, Item, Page, Section, Text
    >>> q = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    >>> many = Item(name="q2", type="select_multiple", label=Text(en="Pick"), choices="yn")
    >>> words = Item(name="q3", type="text", label=Text(en="Say"))
    >>> yn = (Choice("yes", Text(en="Yes")), Choice("no", Text(en="No")))
    >>> instrument = Instrument(
    ...     id="i", version="1", sections=(Section("s", (Page("p", (q, many, words)),)),), choice_lists={"yn": yn}
    ... )
    >>> shown_choices(instrument, [q, many], {"q1": "yes", "q2": '["no", "yes"]'})
    (('q1', 'yes'), ('q2', '["no", "yes"]'))
    >>> shown_choices(instrument, [q], {"q1": "maybe"}) is None, shown_choices(instrument, [q, words], {"q3": "hi"})
    (True, None)
    >>> shown_choices(instrument, [q, words], {})
    ()
    """
    shown = []
    for item in items:
        value = stored.get(item.name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > SHOWN_CHOICES_MAX_LENGTH:
            return None
        if item.type in (ItemType.SELECT_ONE, ItemType.LIKERT):
            picked: object = [value]
        elif item.type is ItemType.SELECT_MULTIPLE:
            try:
                picked = [value] if value in RESERVED_CODES else json.loads(value)
            except ValueError:
                return None
        else:
            return None
        lists = {item.choices, *item.band_choices.values()}
        names = {choice.name for name in lists for choice in instrument.choice_lists.get(name or "", ())}
        names |= RESERVED_CODES
        if not isinstance(picked, list) or not all(isinstance(name, str) and name in names for name in picked):
            return None
        shown.append((item.name, value))
    return tuple(shown)


#: The pages and page forms this process keeps.
rendered_pages = RenderedPages()
#: Question pages showing earlier answers picked among their own choices (:func:`shown_choices`),
#: apart from the untouched pages so that many combinations of answers never push those out.
answered_pages = RenderedPages()
#: The child's other screens (age, information, end, thank-you), kept by what they show
#: (:func:`kept_screen`).
kept_screens = RenderedPages()
built_forms = BuiltForms()
#: What the information and end pages say of an instrument for a band (its pages and the
#: minutes it takes, :func:`survey.services.consent_rules.text_values`): estimating the minutes
#: reads every text of the instrument, several milliseconds, three times a child.
instrument_figures = KeptValues(max_entries=256)


# ----------------------------------------------------------------------------- other screens
#: Template values that belong to the request, not to what a page shows: never part of a key.
_REQUEST_VALUES = frozenset({"request", "session", "g", "config", "current_user"})


def _frozen(value: Any) -> Hashable:
    """``value`` as a key part (lists as tuples); a value that cannot be one raises TypeError."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    hash(value)
    return value


def kept_screen(template: str, key: Hashable, **context: Any) -> str:
    """``render_template(template, **context)``, drawn once and reused while it shows the same.

    For the child's screens that are the same for every child at the same point (the age
    question, the information, the end question, the thank-you page).  ``key`` is the caller's
    statement of everything in ``context`` the page shows (the values themselves, compared by
    value); the rest of the key is made here from what the context processors give the page
    (language, offered languages, helplines, quick exit, whether a child session is on: every
    value, so that one added later counts too) and the application root.  A page with a
    message to flash, or whose frame values cannot be compared, is drawn every time.  The
    form (CSRF) token is put in on the way out (:data:`form_tokens`), as on a kept question page.
    """
    from flask import render_template, request

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    kept_session = session._get_current_object()  # type: ignore[attr-defined]
    if "_flashes" in kept_session:
        return render_template(template, **context)
    frame: dict[str, Any] = {}
    app.update_template_context(frame)
    try:
        shown = tuple(
            sorted(
                (name, _frozen(value))
                for name, value in frame.items()
                if name not in _REQUEST_VALUES and not callable(value)
            )
        )
        # The app itself is a source (its settings draw the forms: whether they carry a token).
        root = request._get_current_object().script_root  # type: ignore[attr-defined]
        full_key = (template, root, app.config["WTF_CSRF_ENABLED"], _frozen(key), shown)
        hash(full_key)
    except TypeError:
        return render_template(template, **context)
    html = kept_screens._get(full_key, (app,))
    if html is not None:
        return html.replace(CSRF_SLOT, form_tokens.token()) if CSRF_SLOT in html else html
    html = render_template(template, **context)
    # The token the page was drawn with, if it drew one (a page that drew none made no session
    # token, and asking for one here would add it to the cookie).
    field = app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    token = generate_csrf() if kept_session.get(field) else ""
    kept_screens.keep(full_key, html, sources=(app,), csrf=token)
    return html


# ----------------------------------------------------------------------------- addresses
#: Addresses kept per process: a consultation's question pages, repeat instances and "add
#: another" screens under each application root (a few hundred), with room to spare.
ADDRESSES_KEPT = 4096


class KeptAddresses:
    """Addresses of the child's screens, built by Flask's ``url_for`` once and then kept.

    After each of a child's saves the app answers with the address of the next screen; building
    it walks Werkzeug's URL rules every time, for the same few hundred addresses.  A relative
    address depends only on the app's URL map, the application root and the arguments, so it is
    kept by those (per app).  Where the app adds URL defaults or matches hosts it is built every
    time.

    Examples
    --------
    >>> app = Flask("example")
    >>> app.add_url_rule("/p/q/<int:index>", "page", lambda index: "")
    >>> addresses = KeptAddresses()
    >>> with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/sauti"}):
    ...     addresses.url_for("page", index=3), addresses.url_for("page", index=3)
    ('/sauti/p/q/3', '/sauti/p/q/3')
    >>> len(addresses)
    1
    """

    def __init__(self, max_entries: int = ADDRESSES_KEPT) -> None:
        self.max_entries = max_entries
        self._kept: dict[tuple[Any, ...], tuple[Flask, str]] = {}

    def url_for(self, endpoint: str, **values: Any) -> str:
        """``flask.url_for(endpoint, **values)`` (a relative address, inside a request)."""
        from flask import request, url_for

        app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
        if app.url_default_functions or app.url_map.host_matching:
            return url_for(endpoint, **values)
        root = request._get_current_object().script_root  # type: ignore[attr-defined]
        key = (id(app), root, endpoint, *sorted(values.items()))
        kept = self._kept.get(key)
        if kept is not None and kept[0] is app:
            return kept[1]
        address = url_for(endpoint, **values)
        if len(self._kept) >= self.max_entries:
            self._kept.clear()  # rarely: many consultations' pages under many roots
        self._kept[key] = (app, address)
        return address

    def __len__(self) -> int:
        return len(self._kept)


#: The question pages' addresses (:func:`survey.views.question_pages.step_url`).
addresses = KeptAddresses()


# ----------------------------------------------------------------------------- translations
@functools.lru_cache(maxsize=16)
def wtforms_translations(locale: str) -> NullTranslations:
    """WTForms' own messages in ``locale`` (Flask-WTF would read the catalogue from disk on every
    request; it never changes while the server runs)."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


def _request_translations() -> NullTranslations:
    """This request's translations, looked up once per request and locale.

    Flask-Babel resolves the context, domain, locale and catalogue on every ``_()`` in a
    template (a third of a question page's rendering).  The translations are kept in ``g`` with
    the locale object they were looked up for, and looked up again when ``get_locale()`` gives
    another one (``force_locale``: feedback sheets in another language).
    """
    locale = get_locale()
    here = g._get_current_object()
    kept = here.get("_sauti_translations")
    if kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    here._sauti_translations = (locale, translations)
    return translations


def install_template_gettext(app: Flask) -> None:
    """The templates' ``_()`` and friends through :func:`_request_translations` (Jinja's own
    ``install_gettext_callables``; same behaviour as Flask-Babel's, one look-up per request)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # the i18n extension's
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )


# ----------------------------------------------------------------------------- the session cookie
class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per secret key.

    Flask makes a new signer for every request (and itsdangerous serialises an empty dict to
    check each new one), and signs with a Python-level SHA-1, which takes HMAC's slow path.  The
    signature is the same (HMAC-SHA1, Flask's salt and key derivation), so cookies issued by
    either stay valid; only the hash is the C one.  Set as ``app.session_interface``.
    """

    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}
        self._opened: dict[str, tuple[URLSafeTimedSerializer, int, Any]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:  # Flask's hook
        """The session in the request's cookie, as Flask's own ``open_session`` reads it.

        A cookie is re-signed only every few minutes, so a child's phone sends the same one on
        many requests in a row.  Its signature is checked (and its payload decoded) the first
        time; after that the decoded payload is taken from :data:`OPENED_COOKIES_KEPT` kept
        cookies, for the same signer only, and the cookie's age is checked on every request as
        itsdangerous does (an expired cookie opens an empty session, as in Flask).  Each request
        gets its own copy of the payload.  A permanent session last re-issued
        :data:`SESSION_REFRESH_AFTER_S` or more ago is marked changed, so that its cookie goes
        out again with a new expiry (:meth:`_refreshed`).
        """
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        now = int(time.time())
        if not value:
            return self._refreshed(self.session_class(), now)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        kept = self._opened.get(value)
        if kept is None or kept[0] is not signer:
            try:
                data, signed_at = signer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self._refreshed(self.session_class(), now)
            kept = (signer, int(signed_at.timestamp()), data)
            if len(self._opened) >= OPENED_COOKIES_KEPT:
                self._opened.clear()  # rarely: a worker sees about one cookie a child
            self._opened[value] = kept
        age = now - kept[1]
        if age > max_age or age < 0:
            return self._refreshed(
                self.session_class(), now
            )  # expired: itsdangerous's SignatureExpired, as Flask answers it
        return self._refreshed(self.session_class(_copy_json(kept[2])), now)

    @staticmethod
    def _refreshed(session: SecureCookieSession, now: int) -> SecureCookieSession:
        """``session``, marked changed if it is permanent and was last re-issued
        :data:`SESSION_REFRESH_AFTER_S` or more ago (a session marked permanent during a request
        is re-issued by that request anyway).  It is marked accessed, as the request hook that
        did this before (through the ``session`` proxy) left every session: every response
        varies by ``Cookie``, as before."""
        session.accessed = True
        if session.permanent and now - session.get(REFRESHED_KEY, 0) >= SESSION_REFRESH_AFTER_S:
            session[REFRESHED_KEY] = now  # marks the session modified: the cookie goes out again
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:  # Flask's hook
        """Flask's own ``save_session``, with its usual outcome on most responses done directly:
        a session not changed by the request (and not to be re-sent on every response) only adds
        ``Vary: Cookie`` if it was read, as Flask does, without first working out the seven
        cookie settings and parsing the ``Vary`` header that a response then does not use."""
        if session.modified or (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            super().save_session(app, session, response)
        elif session.accessed:
            if response.headers.getlist("Vary"):  # as ``in``, without raising and catching a KeyError
                response.vary.add("Cookie")
            else:
                response.headers["Vary"] = "Cookie"  # what ``vary.add`` writes to a response without one

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:  # Flask's hook
        if not app.secret_key:
            return None
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signer = self._signers.get(key)
        if signer is None:
            signer = super().get_signing_serializer(app)
            if signer is not None:
                self._signers = {key: signer}  # a new secret key replaces the old signer
        return signer


def _copy_json(value: Any) -> Any:
    """``value`` with its dicts and lists copied (a session's payload: the rest is immutable)."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


# ----------------------------------------------------------------------------- form tokens
#: A question page's signed form token is reused for the same session this long (seconds).
FORM_TOKEN_REUSE_S = 60


class FormTokens:
    """The signed form (CSRF) tokens of the question pages, made by Flask-WTF and reused.

    Flask-WTF signs the session's raw token afresh for every page (an HMAC and a timestamp),
    and checks the signature of every token posted back.  A kept question page takes the
    session's signed token made within the last :data:`FORM_TOKEN_REUSE_S` seconds instead (as
    if the page had been drawn that much earlier), and a posted token that is exactly the one
    kept for this session's raw token and secret is accepted without verifying its signature
    again, its age still checked against ``WTF_CSRF_TIME_LIMIT``; any other token goes to
    Flask-WTF's :func:`~flask_wtf.csrf.validate_csrf`.  Tokens are kept per raw token (one per
    child session), at most :data:`OPENED_COOKIES_KEPT`.
    """

    def __init__(self) -> None:
        self._kept: dict[tuple[str, Any], tuple[str, float]] = {}

    @staticmethod
    def _key() -> tuple[str, Any] | None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
        raw = session._get_current_object().get(app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token")  # type: ignore[attr-defined]
        if not isinstance(raw, str):
            return None
        return raw, app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key

    def token(self) -> str:
        """A signed token for this session's forms (Flask-WTF's :func:`~flask_wtf.csrf.generate_csrf`)."""
        key = self._key()
        kept = self._kept.get(key) if key is not None else None
        now = time.time()
        if kept is not None and 0 <= now - kept[1] < FORM_TOKEN_REUSE_S:
            return kept[0]
        signed = generate_csrf()
        key = self._key()  # generate_csrf makes the session's raw token if there was none
        if key is not None:
            if len(self._kept) >= OPENED_COOKIES_KEPT:
                self._kept.clear()
            self._kept[key] = (signed, now)
        return signed

    def accepted(self, posted: object) -> bool:
        """Whether ``posted`` is a valid form token for this session (as ``validate_csrf`` says)."""
        key = self._key()
        kept = self._kept.get(key) if key is not None else None
        if kept is not None and isinstance(posted, str) and hmac.compare_digest(posted.encode(), kept[0].encode()):
            limit = current_app._get_current_object().config.get("WTF_CSRF_TIME_LIMIT", 3600)  # type: ignore[attr-defined]
            return limit is None or 0 <= time.time() - kept[1] <= limit
        try:
            validate_csrf(posted)
        except (ValidationError, CSRFError):
            return False
        return True

    def clear(self) -> None:
        self._kept.clear()


form_tokens = FormTokens()


def form_token_accepted(form: Mapping[str, str]) -> bool:
    """Whether a child's form came back with a valid form token (or the app checks none)."""
    config = current_app._get_current_object().config  # type: ignore[attr-defined]
    return not config["WTF_CSRF_ENABLED"] or form_tokens.accepted(form.get("csrf_token"))


# ----------------------------------------------------------------------------- the start-up heap
def settle_startup_objects() -> None:
    """Leave the objects a worker made at start-up out of the garbage collector's full passes.

    A served worker holds some 270,000 objects once the app is built (SQLAlchemy's mappers, the
    instruments, the catalogues, the compiled templates), none of which ever becomes garbage.
    Python's collector walks all of them in every full pass, one every few hundred requests,
    about 75 ms each on a busy laptop: several per cent of a child's request.  ``gc.freeze()``
    (the standard library's documented call for a server's start-up state) moves them to a
    permanent generation; objects made later, by requests, are collected as before.  Called
    once by :func:`survey.wsgi.create_served_app`, after the app is built.
    """
    gc.collect()
    gc.freeze()


# ----------------------------------------------------------------------------- the app class
#: Cookie headers kept parsed per process (a few hundred bytes each; about one per child).
COOKIE_HEADERS_KEPT = 4096
#: A longer Cookie header (never one of Sauti's: its session cookie is a few hundred bytes) is
#: parsed every time and not kept.
COOKIE_HEADER_KEPT_LENGTH = 2048


class SautiRequest(Request):
    """Flask's request, with its cookies parsed once per ``Cookie`` header and process.

    A child's phone sends the same ``Cookie`` header on many requests in a row (the session
    cookie is re-signed every few minutes), and Werkzeug parses it afresh on each (a regular
    expression and an unquote per cookie: about a twentieth of a question page's request
    cycle).  The parsed cookies are an ``ImmutableMultiDict``, which nobody can change, so
    the same one is handed to every request that sends the same header.

    ``started`` is when the request object was made (``time.perf_counter()``), which the
    request log's milliseconds count from (:mod:`survey.log_config`, without a hook of its own).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = time.perf_counter()

    _parsed_cookies: dict[str, ImmutableMultiDict[str, str]] = {}

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:  # Werkzeug's property, the same value
        # ``";".join(self.headers.getlist("Cookie"))`` as Werkzeug writes it: a WSGI request has
        # at most the one, which ``getlist`` finds by going through every header of the request.
        header = self.environ.get("HTTP_COOKIE", "")
        kept = SautiRequest._parsed_cookies
        found = kept.get(header)
        if found is not None:
            return found
        parsed: Any = parse_cookie(header, cls=self.dict_storage_class)
        if len(header) <= COOKIE_HEADER_KEPT_LENGTH and type(parsed) is ImmutableMultiDict:
            if len(kept) >= COOKIE_HEADERS_KEPT:
                kept.clear()  # rarely: a worker sees about one header a child
            kept[header] = parsed
        return parsed


class SautiFlask(Flask):
    """Flask, with :meth:`ensure_sync` answered once per plain function or method.

    Flask asks ``inspect.iscoroutinefunction`` of every ``before_request``, ``after_request``
    and teardown hook and of the view, on every request (a dozen times each).  A plain
    function's answer never changes, nor does a method's bound to a plain function (the hooks
    Flask-Login and Flask-SQLAlchemy register are such methods, the same object on every
    request), so it is kept, for at most :data:`ENSURED_KEPT` of them; anything else (a
    partial, a callable object) is asked every time, as Flask does.  ``ensure_sync`` is
    Flask's documented override point for how views and hooks are run; async views, if one is
    ever added, are still wrapped.  Its requests are :class:`SautiRequest` (``request_class``,
    Flask's documented attribute).

    Each request is given the app's form limits (``MAX_CONTENT_LENGTH``, ``MAX_FORM_MEMORY_SIZE``,
    ``MAX_FORM_PARTS``) through Flask's own per-request setters when its context is made, read
    from the app's configuration as Flask would read them: otherwise each reading asks
    ``current_app`` through Werkzeug's proxy (about six of them a saved page).
    """

    request_class = SautiRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ensured: dict[Callable[..., Any], Callable[..., Any]] = {}

    def request_context(self, environ: dict[str, Any]) -> RequestContext:  # Flask's hook
        context = super().request_context(environ)
        asked, config = context.request, self.config
        asked.max_content_length = config.get("MAX_CONTENT_LENGTH")
        asked.max_form_memory_size = config.get("MAX_FORM_MEMORY_SIZE")
        asked.max_form_parts = config.get("MAX_FORM_PARTS")
        return context

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:  # Flask's hook
        kind = type(func)
        keep = kind is types.FunctionType or (
            kind is types.MethodType and type(func.__func__) is types.FunctionType  # type: ignore[attr-defined]
        )
        ensured = None
        if keep:
            try:
                ensured = self._ensured.get(func)
            except TypeError:  # a method of an object that cannot be hashed
                keep = False
        if ensured is None:
            ensured = super().ensure_sync(func)
            if keep and len(self._ensured) < ENSURED_KEPT:
                self._ensured[func] = ensured
        return ensured


#: Views and hooks whose ``ensure_sync`` answer is kept per app (an app has a few hundred views).
ENSURED_KEPT = 4096
