"""Error pages: a clear message and the right 4xx, never a stack trace."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey import child_connection
from survey.database import is_storage_full
from survey.extensions import db


def init_app(app: Flask) -> None:
    from survey.api import problems

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if problems.is_api_request():  # the API answers in problem details (RFC 9457)
            return problems.from_http_exception(error)
        messages = {
            400: _("Something in that request was not right. Please go back and try again."),
            403: _("You do not have access to this page."),
            404: _("There is no page here."),
            405: _("That action is not possible on this page."),
            413: _("That file is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        message = messages.get(error.code or 500, _("Something went wrong. Please try again."))
        return render_template("errors/error.html", code=error.code, message=message), error.code

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        if problems.is_api_request():
            return problems.problem(400)
        message = _("This form was open too long or was sent twice. Please go back and try again.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        db.session.rollback()
        child_connection.release()  # with the session's, so the error page can read what it shows
        if is_storage_full(error) or isinstance(error, sa.exc.TimeoutError):
            # Nothing was written; the same step works once there is space (or a free database
            # connection: every one in the pool was in use for the pool's whole timeout) again.
            app.logger.error("storage full or no database connection free: a request was refused")
            if problems.is_api_request():
                return problems.problem(503, headers={"Retry-After": "60"})
            message = _("The server is busy for a moment. Please go back and try again in a minute.")
            try:
                body = render_template("errors/error.html", code=503, message=message)
            except sa.exc.TimeoutError:  # not even a connection for the page's help box: the words alone
                body = message
            return body, 503, {"Retry-After": "60"}
        app.logger.exception("unhandled error")
        if problems.is_api_request():
            return problems.problem(500)
        message = _("Something went wrong on our side. Nothing you saved has been lost.")
        return render_template("errors/error.html", code=500, message=message), 500
