"""Logs from child-facing routes hold no address, user agent, code or answer."""

from __future__ import annotations

import io
import logging
import re
import uuid
from html.parser import HTMLParser

from pythonjsonlogger.json import JsonFormatter

from survey.access import is_child_facing, rule_for
from tests.conftest import World


class _Fields(HTMLParser):
    """Every form on a page, with the names of the fields a child can fill in."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append((attributes.get("action") or "", (attributes.get("method") or "get").lower(), []))
        elif tag in ("input", "textarea", "select") and self.forms and attributes.get("name"):
            if attributes.get("type") not in ("hidden", "submit"):
                self.forms[-1][2].append(attributes["name"])


def _capture_all_logs() -> tuple[io.StringIO, logging.Handler, list[logging.Logger]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        logger.addHandler(handler)
    return stream, handler, loggers


def test_markers_typed_into_child_facing_fields_never_reach_the_logs(app, world: World) -> None:
    marker = f"MARKER{uuid.uuid4().hex[:10]}"
    stream, handler, loggers = _capture_all_logs()
    previous = logging.getLogger("sauti").level
    logging.getLogger("sauti").setLevel(logging.DEBUG)
    posted = 0
    try:
        child_paths = []
        for url_rule in app.url_map.iter_rules():
            rule = rule_for(app, url_rule.endpoint)
            if is_child_facing(rule) and "GET" in url_rule.methods and not url_rule.arguments:
                child_paths.append(url_rule.rule)
        assert "/" in child_paths
        for client in (world.clients["child"], world.clients["anonymous"]):
            for path in child_paths:
                headers = {
                    "User-Agent": f"UA-{marker}",
                    "X-Forwarded-For": "203.0.113.99",
                    "Referer": f"http://example.invalid/{marker}",
                }
                page = client.get(f"{path}?code={marker}&q={marker}", headers=headers)
                parser = _Fields()
                parser.feed(page.get_data(as_text=True))
                for action, method, fields in parser.forms:
                    if method != "post" or not fields:
                        continue
                    data = {name: f"{marker}-{name}" for name in fields}
                    client.post(
                        action or path, data=data, headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.23"}
                    )
                    posted += 1
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        logging.getLogger("sauti").setLevel(previous)
    assert posted >= 1, "no child-facing form was exercised"
    logs = stream.getvalue()
    assert "request" in logs  # the request log did run
    assert marker not in logs
    assert not re.search(r"\b(198\.51\.100\.23|203\.0\.113\.99|127\.0\.0\.1)\b", logs)


def test_the_request_log_keeps_refused_failed_and_slow_requests_and_every_request_at_debug(app, caplog) -> None:
    from survey import log_config

    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="sauti.request"):
        assert client.get("/").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    lines = [(r.levelname, r.status) for r in caplog.records if r.name == "sauti.request"]
    assert lines == [("INFO", 404)]  # a page opened as it should is not worth a line

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="sauti.request"):
        assert client.get("/").status_code == 200
    assert [(r.levelname, r.status, r.endpoint) for r in caplog.records if r.name == "sauti.request"] == [
        ("DEBUG", 200, "participate.start")
    ]

    caplog.clear()
    previous = log_config.SLOW_REQUEST_MS
    log_config.SLOW_REQUEST_MS = 0  # every request now counts as slow
    try:
        with caplog.at_level(logging.INFO, logger="sauti.request"):
            assert client.get("/").status_code == 200
    finally:
        log_config.SLOW_REQUEST_MS = previous
    assert [(r.levelname, r.status) for r in caplog.records if r.name == "sauti.request"] == [("INFO", 200)]
