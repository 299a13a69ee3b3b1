"""Which routes take a file, and one hook that refuses a file anywhere else.

A form posted as ``multipart/form-data`` may carry a file under any field name.  Flask-WTF
then reads files and fields together, so a file sent as the child's code, a seat label, a
username or an answer reached the validators as a ``FileStorage`` and gave a 500.  Only the
few upload views declare :func:`accepts_files`; a request that sends a file to any other
route, or under another field name, is refused with a 400 before the view runs, so nothing
is read from it and nothing already saved changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

F = TypeVar("F", bound=Callable[..., Any])


def accepts_files(*names: str) -> Callable[[F], F]:
    """The view takes an uploaded file in each of the form fields ``names`` (and nowhere else)."""

    def decorate(view: F) -> F:
        view.__sauti_files__ = frozenset(names)  # type: ignore[attr-defined]
        return view

    return decorate


def _refuse_stray_files() -> None:
    asked = request._get_current_object()  # type: ignore[attr-defined]
    if asked.mimetype != "multipart/form-data" or asked.endpoint is None:
        return  # the ordinary (urlencoded) form of every child's page: nothing is parsed here
    taken: frozenset[str] = getattr(current_app.view_functions.get(asked.endpoint), "__sauti_files__", frozenset())
    if any(name not in taken for name in asked.files):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_stray_files)
