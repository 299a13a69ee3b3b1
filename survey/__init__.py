"""Sauti's survey engine: the Flask application (the only package that knows Flask)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from survey.config import DEV_SECRET_KEY, DefaultConfig, environment_overrides

if TYPE_CHECKING:  # the command line imports this package: Flask loads with create_app
    from flask import Flask

__all__ = ["create_app"]


class InsecureConfiguration(RuntimeError):
    """The app would run with a setting that is only safe on a developer's machine."""


def create_app(config: Mapping[str, Any] | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the application.

    :param config: overrides applied last (tests pass ``{"TESTING": True, ...}``).
    :param instance_path: the folder holding ``config.py`` and the SQLite file; defaults to
        ``$SAUTI_INSTANCE_PATH`` or ``./instance``.
    """
    from survey.child_cache import SautiFlask
    from survey.log_config import configure_logging

    instance_path = instance_path or os.environ.get("SAUTI_INSTANCE_PATH") or os.path.abspath("instance")
    app = SautiFlask(__name__, instance_path=instance_path, instance_relative_config=True)
    # Block tags leave no blank lines or indentation behind: about 1 KB less on a child's phone per page.
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(environment_overrides())
    if config:
        app.config.from_mapping(config)
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])

    if app.config["SECRET_KEY"] == DEV_SECRET_KEY and not (app.debug or app.testing):
        raise InsecureConfiguration(
            "Sauti refuses to start with the development secret key. Set SAUTI_SECRET_KEY, or run "
            "`sauti init` once to write a random key into the instance folder."
        )
    from survey.instance import make_private_folder

    make_private_folder(app.instance_path)
    # The release rules (analysis.release_rules) are read once: a threshold below its minimum
    # stops the app here with a plain message, never silently raised (issue 15).
    from analysis.release_rules import rules_from_config

    app.extensions["sauti_release_rules"] = rules_from_config(app.config)
    _configure_database(app)
    _register_extensions(app)
    _register_blueprints(app)

    from survey import cli

    cli.register(app)
    return app


def _configure_database(app: Flask) -> None:
    from survey.database import is_sqlite, sqlite_engine_options

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "sauti.sqlite")
    options = {"hide_parameters": True, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        options = {**sqlite_engine_options(app), **options}
    else:
        options.setdefault("pool_pre_ping", True)
    # A child's request can hold two connections at once (its own Core connection and the ORM
    # session's, survey/child_connection.py): two in the pool for each thread serving requests.
    # (An in-memory SQLite database has one connection, shared: no pool to size.)
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        threads = int(os.environ.get("SAUTI_SERVE_THREADS", "2") or 2)
        options.setdefault("pool_size", max(5, 2 * threads))
    # Error messages would otherwise quote SQL parameters, that is, children's answers.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _register_extensions(app: Flask) -> None:
    from survey import access, child_connection, errors, headers, log_config, serving, throttle, uploads
    from survey.child_cache import SignedCookieSessions, install_template_gettext
    from survey.database import configure_engine
    from survey.extensions import babel, csrf, db, login_manager, migrate
    from survey.i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_engine(app)
    child_connection.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    app.session_interface = SignedCookieSessions()
    throttle.init_app(app)
    _configure_login(app, login_manager)
    log_config.init_app(app)
    access.init_app(app)
    uploads.init_app(app)  # after the access check: a stranger's post is refused for who, not what
    headers.init_app(app)
    serving.init_app(app)
    errors.init_app(app)

    from survey.templating import init_app as init_templating

    init_templating(app)
    from survey.services import audio

    audio.init_app(app)


def _configure_login(app: Flask, login_manager) -> None:
    from flask_babel import lazy_gettext as _l

    from survey.services.accounts import load_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = None  # sessions are server-side; see accounts.load_session
    login_manager.user_loader(load_session)


def _register_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    from survey.views import blueprints

    class DatabaseInteger(IntegerConverter):
        """``<int:...>`` that no database integer can overflow: a larger number is simply no match (404)."""

        def __init__(self, map, *args, **kwargs) -> None:  # werkzeug's signature
            kwargs.setdefault("max", 2**31 - 1)  # INTEGER on PostgreSQL
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseInteger
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    from survey import api

    api.init_app(app)  # /api/v1/: released results for dashboards (issue 23)
