"""``sauti users``: staff accounts (create, list, set a password, unlock, sign out everywhere)."""

from __future__ import annotations

import secrets
import sys
from typing import TYPE_CHECKING

import click

from survey.cli.base import with_appcontext

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- users
@click.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["admin", "facilitator", "analyst"]),
    help="Repeat for several roles.",
)
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it once.")
@with_appcontext
def users_create(
    username: str, roles: tuple[str, ...], display_name: str, password_stdin: bool, generate_password: bool
) -> None:
    """Create a staff account with one or more roles."""
    from survey.services import accounts

    if generate_password:
        password = secrets.token_urlsafe(12)
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_user(username, password, list(roles), display_name=display_name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {accounts.normalise_username(username)} ({' '.join(roles)}).")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List staff accounts and their roles."""
    from survey.services import accounts

    for user in accounts.list_users():
        click.echo(f"{user.username}\t{user.roles}\t{'active' if user.active else 'inactive'}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@with_appcontext
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a new password (and end the account's open sessions)."""
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import User
    from survey.services import accounts

    user = db.session.scalar(sa.select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"No account named {username!r}.")
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("New password", hide_input=True, confirmation_prompt=True)
    )
    try:
        accounts.update_user(user, password=password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Password changed for {user.username}.")


def _user_named(username: str):  # a User
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import User
    from survey.services import accounts

    user = db.session.scalar(sa.select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"No account named {username!r}.")
    return user


@users.command("unlock")
@click.argument("username")
@with_appcontext
def users_unlock(username: str) -> None:
    """End the wait after failed sign-ins, for every device."""
    from survey.services import accounts

    user = _user_named(username)
    accounts.unlock(user)
    click.echo(f"{user.username} can sign in again at once.")


@users.command("sign-out")
@click.argument("username")
@with_appcontext
def users_sign_out(username: str) -> None:
    """End the account's sessions on every device."""
    from survey.services import accounts

    user = _user_named(username)
    ended = accounts.sign_out_everywhere(user)
    click.echo(f"Ended {ended} session(s) of {user.username}.")
