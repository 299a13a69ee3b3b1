"""The ``sauti`` group itself: Flask's commands looked up only when asked for, and
:func:`with_appcontext`, which builds the application only when a command that needs it runs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask


def _make_app() -> Flask:
    from survey import create_app
    from survey.instance import default_instance_path, ensure_secret_key

    written = ensure_secret_key(default_instance_path())
    if written is not None:
        click.echo(f"Wrote a new secret key to {written}", err=True)
    return create_app()


def with_appcontext(f):  # a click callback decorator
    """Run the command inside the application, building it only now (Flask's own
    ``with_appcontext``, but Flask is imported when the command runs, not when it loads)."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args, **kwargs):
        from flask import current_app
        from flask.cli import ScriptInfo

        if not current_app:
            info = ctx.find_object(ScriptInfo) or ScriptInfo(create_app=_make_app, set_debug_flag=False)
            ctx.with_resource(info.load_app().app_context())
        return ctx.invoke(f, *args, **kwargs)

    return functools.update_wrapper(decorator, f)


#: Commands that Flask and Flask-Migrate add to the application, with their help line.
_FLASK_COMMANDS = {
    "db": "Database migrations (Flask-Migrate): upgrade, downgrade, current, history.",
    "routes": "Show the routes for the app.",
    "run": "Run a development server.",
    "shell": "Run a shell in the app context.",
}


class _SautiGroup(click.Group):
    """Sauti's commands without the application; Flask's commands through it, on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_FLASK_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _FLASK_COMMANDS:
            return command
        from flask.cli import FlaskGroup, ScriptInfo

        if not isinstance(ctx.obj, ScriptInfo):
            ctx.obj = ScriptInfo(create_app=_make_app, set_debug_flag=False)
        return FlaskGroup(create_app=_make_app, load_dotenv=False, set_debug_flag=False).get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            elif command is None:
                rows.append((name, _FLASK_COMMANDS[name]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_SautiGroup)
def main() -> None:
    """Sauti: consult children safely.  Run `sauti demo` to try it on this computer."""
