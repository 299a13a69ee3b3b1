"""The ``sauti`` command (its commands also join ``app.cli``, so ``flask --app survey ...`` works too).

The command line answers at once: these modules import only click at load time. Each
command imports what it uses, and only commands marked :func:`with_appcontext` build
the Flask application (``sauti --help`` or ``sauti instruments validate`` never do).
Flask's own commands (``db`` from Flask-Migrate, ``run``, ``shell``, ``routes``) are
looked up in the application only when one of them is asked for.

One module per command group: :mod:`~survey.cli.base` (the ``sauti`` group and
:func:`with_appcontext`), :mod:`~survey.cli.user_commands` (``users``),
:mod:`~survey.cli.instrument_commands` (``instruments``), :mod:`~survey.cli.retention_commands`,
:mod:`~survey.cli.report_commands` (``report``, ``release``, ``export``),
:mod:`~survey.cli.backup_commands` (``backup``, ``restore``), :mod:`~survey.cli.translate_commands`
(``translate``) and :mod:`~survey.cli.serving` (``serve`` and ``demo``: Granian's worker processes
or waitress, the LAN address and the quick exit without internet).  ``sauti texts`` and the
``instruments`` language commands are in :mod:`survey.cli_translations`, ``sauti instruments
audio`` in :mod:`survey.cli_audio`, ``sauti sync`` in :mod:`survey.sync.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from survey.cli.backup_commands import backup_command as backup_command
from survey.cli.backup_commands import restore_command as restore_command
from survey.cli.base import main as main
from survey.cli.base import with_appcontext as with_appcontext
from survey.cli.instrument_commands import instruments_export as instruments_export
from survey.cli.instrument_commands import instruments_group as instruments_group
from survey.cli.instrument_commands import instruments_import as instruments_import
from survey.cli.instrument_commands import instruments_preview as instruments_preview
from survey.cli.instrument_commands import instruments_validate as instruments_validate
from survey.cli.report_commands import export_command as export_command
from survey.cli.report_commands import release_group as release_group
from survey.cli.report_commands import release_list as release_list
from survey.cli.report_commands import release_make as release_make
from survey.cli.report_commands import report_command as report_command
from survey.cli.retention_commands import retention as retention
from survey.cli.retention_commands import retention_run as retention_run
from survey.cli.serving import CONNECTIONS_PER_WORKER as CONNECTIONS_PER_WORKER
from survey.cli.serving import DEFAULT_THREADS as DEFAULT_THREADS
from survey.cli.serving import REACH_TIMEOUT_S as REACH_TIMEOUT_S
from survey.cli.serving import WORKERS_KILL_TIMEOUT_S as WORKERS_KILL_TIMEOUT_S
from survey.cli.serving import default_workers as default_workers
from survey.cli.serving import demo as demo
from survey.cli.serving import lan_address as lan_address
from survey.cli.serving import outside_reachable as outside_reachable
from survey.cli.serving import serve as serve
from survey.cli.translate_commands import translate as translate
from survey.cli.translate_commands import translate_check as translate_check
from survey.cli.translate_commands import translate_compile as translate_compile
from survey.cli.translate_commands import translate_extract as translate_extract
from survey.cli.translate_commands import translate_init as translate_init
from survey.cli.translate_commands import translate_update as translate_update
from survey.cli.user_commands import users as users
from survey.cli.user_commands import users_create as users_create
from survey.cli.user_commands import users_list as users_list
from survey.cli.user_commands import users_set_password as users_set_password
from survey.cli.user_commands import users_sign_out as users_sign_out
from survey.cli.user_commands import users_unlock as users_unlock

# These two import `instruments_group` and `with_appcontext` from this package, so they come last.
from survey.cli_translations import texts_group
from survey.sync.cli import sync_group

if TYPE_CHECKING:
    from flask import Flask

_COMMANDS = (
    users,
    instruments_group,
    retention,
    backup_command,
    report_command,
    release_group,
    export_command,
    restore_command,
    translate,
    serve,
    demo,
    texts_group,
    sync_group,
)
for _command in _COMMANDS:
    main.add_command(_command)


def register(app: Flask) -> None:
    """Attach Sauti's commands to ``app.cli`` (``flask db`` comes from Flask-Migrate)."""
    for command in _COMMANDS:
        app.cli.add_command(command)
