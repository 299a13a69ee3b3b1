"""Flask extensions, created unbound here and bound to an app in :func:`survey.create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

# Stable constraint names so Alembic migrations render the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _client_key() -> str:
    # The limiter keys on the client address only in memory or Redis, never in the database
    # or the logs; hashing keeps even the limiter's keys free of raw addresses.
    import hashlib

    return hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:32]


db = SQLAlchemy(model_class=Base)
if TYPE_CHECKING:
    # What ``db.Model`` is to a type checker (mypy cannot use an attribute as a base class):
    # models subclass ``Model``.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
