"""Alembic environment for Sauti (run through Flask-Migrate: `sauti db upgrade`)."""

import logging

from alembic import context
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
# No fileConfig here: the app has already configured logging, and fileConfig would replace it.

database = current_app.extensions["migrate"].db


def _metadata():
    return database.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=str(database.engine.url), target_metadata=_metadata(), literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        # `sauti db migrate` with no model changes should not write an empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table by copying it and dropping the old one; with
            # foreign keys on, that drop would delete every row that points at it (ON DELETE
            # CASCADE: a consultation's team, children, answers).  SQLite ignores the pragma inside
            # a transaction, so it is set on the driver's connection before the migration begins
            # one, and set back after.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            context.configure(connection=connection, target_metadata=_metadata(), **conf_args)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.commit()
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
