"""Arbitrary input to every route in the URL map: never a 500, never an uncaught exception.

For each route and method, hypothesis draws SAUTI_FUZZ_EXAMPLES requests (default 25 for a quick
local run; CI sets 200, on SQLite and on PostgreSQL): path parameters (known ids, huge numbers, arbitrary text),
form data (the app's own field names with arbitrary values, participation codes, arbitrary
names), raw bodies under arbitrary content types, query strings and headers (cookies,
forwarded-for, languages, anything), each from one of four visitors (a child, an anonymous
visitor, an administrator, a facilitator).  Pass: 0 responses >= 500, 0 exceptions raised out of
the app, 0 ``got_request_exception`` signals, 0 log records at ERROR or above.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import time
import urllib.parse

import sqlalchemy as sa
from flask import got_request_exception
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, PathConverter

from tests.conftest import sign_in

EXAMPLES = int(os.environ.get("SAUTI_FUZZ_EXAMPLES", "25"))
VISITORS = ("child", "anonymous", "admin", "facilitator")
FIELD_NAMES = [
    "code",
    "seat",
    "age",
    "decision",
    "check_0",
    "check_1",
    "explained",
    "nav",
    "page_token",
    "q_who",
    "q_feel",
    "q_ways",
    "q_grid__safe",
    "q_order__1",
    "rns_ideas",
    "choice",
    "username",
    "password",
    "roles",
    "display_name",
    "active",
    "count",
    "card",
    "action",
    "status",
    "to",
    "title",
    "instrument",
    "languages",
    "age_bands",
    "country_profile",
    "feedback_due",
    "csrf_token",
    "pin",
    "checklist",
    "trained_on",
    "file",
    "text",
    "note",
    "date",
    "band",
    "language",
    "next",
    "reason",
    "confirm",
    "state",
    "withdrawal_code",
    "receipt",
    "summary",
    "response",
]
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz-_ ILOU"
# Where a route takes a string, a value that matches real data, so that the fuzz reaches past the
# "no such thing" answer too.
KNOWN_TEXT = {
    "fmt": ["html", "pdf", "xlsx", "csv", "sav", "parquet", "json"],
    "band": ["A", "B", "C"],
    "language": ["en", "fr", "ar"],
    "profile_id": ["generic", "example-uk"],
    "text_id": ["child_information/en/A/v1"],
    "filename": ["css/sauti.css", "../../etc/passwd"],
    "kind": ["safe-space", "debrief", "before", "after"],
}

# Fixed alphabets draw much faster than st.characters(); they still hold controls, NUL, RTL,
# combining marks, emoji and quotes.
UNICODE = (
    "abcAZ09 _-./\\%&?=#<>\"'`;:!@+*~^$()[]{}|,\x00\x01\t\n\r\x7f\x85\xa0é\u0301\u200b\u200e\u202e"
    "\u0627\u0644\u05d0\u4e2d\ufeff\ufffd\U0001f600"
)
text = st.text(alphabet=UNICODE, max_size=40) | st.sampled_from(["", " ", "a" * 5000, "\U0001f600" * 300])
latin = st.text(alphabet="".join(chr(c) for c in range(0x20, 0x100) if c != 0x7F), max_size=60)
codes = st.text(alphabet=CODE_ALPHABET, min_size=0, max_size=16)
values = (
    text
    | codes
    | st.sampled_from(
        [
            "",
            "0",
            "-1",
            "99999999999999999999999",
            "yes",
            "no",
            "next",
            "back",
            "on",
            "A",
            "en",
            "1e308",
            "NaN",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\x00",
            "../../etc/passwd",
            '=HYPERLINK("x")',
        ]
    )
)
form_data = st.dictionaries(st.sampled_from(FIELD_NAMES) | text, values | st.lists(values, max_size=3), max_size=8)
raw_bodies = st.tuples(
    st.sampled_from(
        [
            "application/json",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/xml",
            "application/octet-stream",
        ]
    )
    | latin,
    st.binary(max_size=300),
)
queries = st.dictionaries(
    st.sampled_from(["code", "lang", "next", "kept", "shared", "deleted", "page", "action", "band", "language", "q"])
    | text,
    values,
    max_size=3,
)
header_names = st.sampled_from(
    [
        "Accept-Language",
        "X-Forwarded-For",
        "X-Real-IP",
        "Cookie",
        "Referer",
        "Origin",
        "User-Agent",
        "Accept",
        "If-Modified-Since",
        "Range",
        "X-Requested-With",
        "Forwarded",
        "Content-Language",
    ]
) | st.text(alphabet="ABCXYZabcxyz-", min_size=1, max_size=12)
headers = st.dictionaries(header_names, latin, max_size=4)


def _argument_strategy(name: str, converter: object, ids: list[int]):
    if isinstance(converter, IntegerConverter):
        return st.sampled_from(ids) | st.integers(0, 2**70)
    known = KNOWN_TEXT.get(name, [])
    return (st.sampled_from(known) | text) if known else text


def _routes(app, ids: list[int]) -> list[tuple[str, str, object]]:
    """(endpoint, method, a strategy for its concrete path) for every rule in the URL map."""
    routes = []
    for rule in app.url_map.iter_rules():
        parts = {name: _argument_strategy(name, conv, ids) for name, conv in rule._converters.items()}
        path_like = {name for name, conv in rule._converters.items() if isinstance(conv, PathConverter)}
        template = rule.rule

        def build(arguments: dict, template: str = template, path_like: set = frozenset(path_like)) -> str:
            def fill(match: re.Match) -> str:
                name = match.group(1).split(":")[-1]
                return urllib.parse.quote(str(arguments[name]), safe="/" if name in path_like else "")

            return re.sub(r"<([^>]+)>", fill, template)

        paths = st.fixed_dictionaries(parts).map(build) if parts else st.just(template)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, paths))
    # Routes that end sessions, accounts or the consultation run last, so they do not blunt the rest.
    last = ("auth.sign_out", "participate.leave", "admin.edit_user", "facilitate.change_state")
    return sorted(routes, key=lambda r: (r[0] in last, r[0], r[1]))


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


def _refresh_visitors(app, world, issue_codes) -> dict:
    """Fresh clients: staff signed in again (accounts re-enabled), the child on a new code."""
    from survey.extensions import db
    from survey.models import User

    with app.app_context():
        db.session.execute(sa.update(User).values(active=True))
        db.session.commit()
    clients = {name: app.test_client() for name in VISITORS}
    for visitor, username in (("admin", "ada"), ("facilitator", "fiona")):
        sign_in(clients[visitor], username)
    try:
        clients["child"].post("/", data={"code": issue_codes(world.consultation, 1)[0]})
    except Exception:  # noqa: BLE001 - the fuzz may have closed the consultation: the child stays anonymous
        pass
    return clients


def _fuzz_one_route(endpoint: str, method: str, paths, clients: dict, problems: list) -> int:
    sent = 0
    bodies = st.just(None) if method == "GET" else (form_data.map(lambda d: (None, d)) | raw_bodies)

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(path=paths, visitor=st.sampled_from(VISITORS), body=bodies, query=queries, extra_headers=headers)
    def probe(path, visitor, body, query, extra_headers) -> None:
        nonlocal sent
        request = {"method": method, "query_string": query, "headers": extra_headers}
        if body is not None:
            content_type, request["data"] = body
            if content_type is not None:
                request["headers"] = {**extra_headers, "Content-Type": content_type}
        sent += 1
        try:
            response = clients[visitor].open(path, **request)
        except Exception as error:  # noqa: BLE001 - an exception out of the app is what we look for
            problems.append((endpoint, method, path, visitor, repr(error)[:200]))
            return
        response.close()
        if response.status_code >= 500:
            problems.append((endpoint, method, path, visitor, response.status_code))

    probe()
    return sent


def _fuzz(app, world, issue_codes, routes: list) -> dict:
    """Fuzz ``routes``; report what went wrong, how many requests were sent and how long it took."""
    problems: list[tuple] = []
    raised: list[str] = []
    handler = _Errors()
    loggers = [logging.getLogger(), logging.getLogger("sauti"), app.logger]
    for logger in loggers:
        logger.addHandler(handler)
    request_log = logging.getLogger("sauti.request")
    level = request_log.level
    request_log.setLevel(logging.WARNING)  # fuzzed requests are refused (4xx), each logged at INFO

    def on_exception(sender, exception, **extra) -> None:
        raised.append(repr(exception)[:200])

    got_request_exception.connect(on_exception, app)
    sent = 0
    started = time.monotonic()
    try:
        for endpoint, method, paths in routes:
            clients = _refresh_visitors(app, world, issue_codes)
            sent += _fuzz_one_route(endpoint, method, paths, clients, problems)
    finally:
        got_request_exception.disconnect(on_exception, app)
        for logger in loggers:
            logger.removeHandler(handler)
        request_log.setLevel(level)
    return {
        "problems": [repr(p) for p in problems],
        "raised": raised,
        "logged": sorted(set(handler.records)),
        "sent": sent,
        "seconds": time.monotonic() - started,
    }


def _fuzz_in_child(app, world, issue_codes, routes: list, results) -> None:
    from survey.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
    try:
        results.put(_fuzz(app, world, issue_codes, routes))
    except BaseException as error:  # noqa: BLE001 - reported to the parent as a failure
        results.put(
            {
                "problems": [f"the fuzzing process failed: {error!r}"],
                "raised": [],
                "logged": [],
                "sent": 0,
                "seconds": 0,
            }
        )


def test_no_route_answers_500_to_arbitrary_input(app, world, issue_codes) -> None:
    ids = sorted({world.consultation, world.other_consultation, *world.user_ids.values(), 0, 1, 2, 3})
    routes = _routes(app, ids)
    # Two processes (the machine has two cores): this one takes every other route, a forked child
    # the rest, on the same database.
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_fuzz_in_child, args=(app, world, issue_codes, routes[1::2], results))
    child.start()
    try:
        mine = _fuzz(app, world, issue_codes, routes[0::2])
        theirs = results.get(timeout=3600)
    finally:
        child.join(60)
        if child.is_alive():
            child.kill()
    sent = mine["sent"] + theirs["sent"]
    print(
        f"fuzz: {len(routes)} routes x {EXAMPLES} examples = {sent} requests in "
        f"{max(mine['seconds'], theirs['seconds']):.0f} s (two processes)"
    )
    assert mine["problems"] + theirs["problems"] == []
    assert mine["raised"] + theirs["raised"] == []
    assert mine["logged"] + theirs["logged"] == []
    assert sent >= len(routes) * EXAMPLES * 0.95


def test_a_nul_in_any_text_url_argument_names_nothing(app, world) -> None:
    """Every route with a text argument, given one holding a NUL, as an administrator: a 404.

    PostgreSQL refuses NUL in a query (SQLite does not), so the random run above found it only
    now and then, on PostgreSQL: here every such route gets one on every run, on both databases.
    """
    admin = world.clients["admin"]
    checked = []
    for rule in app.url_map.iter_rules():
        texts = [name for name, conv in rule._converters.items() if not isinstance(conv, IntegerConverter)]
        if not texts or rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        arguments = {name: "x\x00y" if name in texts else world.consultation for name in rule.arguments}
        path = rule.rule
        for name, value in arguments.items():
            path = re.sub(rf"<(?:[^>:]+:)?{name}>", urllib.parse.quote(str(value), safe=""), path)
        response = admin.get(path)
        response.close()
        checked.append((rule.endpoint, response.status_code))
    assert len(checked) >= 10
    assert [(endpoint, status) for endpoint, status in checked if status >= 500] == []
