"""Structured logging to stderr, with nothing that could identify a child.

Request records carry the endpoint, method, status and duration of a request: never the client
address, user agent, query string, form data, a code or an answer.  Werkzeug's own access log
(which prints addresses) is silenced, and so are the servers' own: ``sauti serve`` runs Granian
with its access log off (and its loggers at WARNING even if someone turns the access log on), or
waitress, which writes no access log.  Granian's workers apply :func:`logging_config` too.
"""

from __future__ import annotations

import logging
import logging.config
import time

from flask import Flask, request

_configured = False


def logging_config(level: str = "INFO", json: bool = True) -> dict:
    """The ``logging.config.dictConfig`` mapping: JSON lines to stderr, servers' loggers quiet."""
    formatter = (
        {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"}
        if json
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    quiet = {"level": "WARNING", "handlers": ["stderr"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "default"}
        },
        "loggers": {
            # Our loggers write once, to stderr, whatever a server adds to the root logger.
            "sauti": {"level": level, "handlers": ["stderr"], "propagate": False},
            "survey": {"level": level, "handlers": ["stderr"], "propagate": False},
            # The development server's access log writes the client address: keep it quiet.
            "werkzeug": {"level": "WARNING"},
            "waitress": dict(quiet),
            # Granian: "_granian" is its server log (Python and Rust; startup chatter at INFO),
            # "granian.access" its access log, which writes the client address.
            "_granian": dict(quiet),
            "granian.access": dict(quiet),
        },
    }


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Apply the logging configuration once per process, before any app is created."""
    global _configured
    if _configured:
        return
    logging.config.dictConfig(logging_config(level, json))
    _configured = True


request_log = logging.getLogger("sauti.request")

#: A successful request slower than this (milliseconds) is logged at INFO, like a refused or failed one.
SLOW_REQUEST_MS = 1000


def init_app(app: Flask) -> None:
    @app.after_request
    def _log_request(response):  # Flask response
        """One line for each request refused, failed or slow (INFO); for every request at DEBUG.

        As Django's request logger does: a line for every page a child opens would flood a
        facilitator's terminal (hundreds a second in a busy session) and cost a server about 4 %
        of its work for nothing an operator reads.  ``SAUTI_LOG_LEVEL=DEBUG`` shows every request.
        """
        # When the request object was made (SautiRequest.started): no hook of its own to start a timer.
        started = getattr(request._get_current_object(), "started", None)  # type: ignore[attr-defined]
        ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        level = logging.INFO if response.status_code >= 400 or (ms or 0) >= SLOW_REQUEST_MS else logging.DEBUG
        if request_log.isEnabledFor(level):
            request_log.log(
                level,
                "request",
                extra={
                    # The endpoint names the route without its arguments (a code in a path or a
                    # query string would otherwise reach the log).
                    "endpoint": request.endpoint or "not_found",
                    "method": request.method,
                    "status": response.status_code,
                    "ms": ms,
                },
            )
        return response
