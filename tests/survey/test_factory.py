"""Configuration layering and the refusal to run with the development key."""

from __future__ import annotations

import pytest

from survey import InsecureConfiguration, create_app
from survey.config import DEV_SECRET_KEY, environment_overrides, normalise_database_url


def test_development_key_is_refused_outside_debug_and_testing(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SAUTI_SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration, match="development secret key"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert (
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path)).config[
            "SECRET_KEY"
        ]
        == DEV_SECRET_KEY
    )


def test_instance_file_then_environment_then_argument(tmp_path, monkeypatch) -> None:
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-instance'\nLOG_LEVEL = 'WARNING'\n")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-instance"
    monkeypatch.setenv("SAUTI_SECRET_KEY", "from-environment")
    monkeypatch.setenv("SAUTI_SIGNIN_MAX_FAILURES", "3")
    monkeypatch.setenv("SAUTI_WTF_CSRF_ENABLED", "true")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-environment"
    assert app.config["SIGNIN_MAX_FAILURES"] == 3
    assert app.config["WTF_CSRF_ENABLED"] is True
    app = create_app(
        {"SECRET_KEY": "from-argument", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path)
    )
    assert app.config["SECRET_KEY"] == "from-argument"


def test_database_url_chooses_the_database(tmp_path) -> None:
    values = environment_overrides({"DATABASE_URL": "postgres://u@127.0.0.1/db"})
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/db"
    assert normalise_database_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert (
        environment_overrides({"SAUTI_REDIS_URL": "redis://127.0.0.1:6379/0"})["RATELIMIT_STORAGE_URI"]
        == "redis://127.0.0.1:6379/0"
    )


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'sauti.sqlite'}"


def test_sql_parameters_are_hidden_from_error_messages(app) -> None:
    from survey.extensions import db

    with app.app_context():
        assert db.engine.hide_parameters is True
