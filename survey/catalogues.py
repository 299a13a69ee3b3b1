"""Where the interface's message catalogues live, and the pybabel runs that make them.

Used by the ``sauti translate`` commands (:mod:`survey.cli`) and by the catalogue check
(:mod:`survey.translations_check`), which therefore do not import each other.
"""

from __future__ import annotations

import os

import click


def babel(*args: str) -> int:
    """Run a pybabel command; its exit status (Babel signals some failures by raising)."""
    from babel.messages.frontend import BaseError, CommandLineInterface

    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except BaseError:
        return 1
    return 0


def paths() -> tuple[str, str, str]:
    """babel.cfg, the translations folder and its messages.pot."""
    package = os.path.dirname(__file__)
    root = os.path.dirname(package)
    return (
        os.path.join(root, "babel.cfg"),
        os.path.join(package, "translations"),
        os.path.join(package, "translations", "messages.pot"),
    )


def extract(pot: str) -> None:
    """Write the template of every translatable string of the code and templates to ``pot``."""
    cfg, _, _ = paths()
    root = os.path.dirname(cfg)
    code = babel(
        "extract",
        "-F",
        cfg,
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        pot,
        os.path.join(root, "survey"),
    )
    if code:
        raise click.ClickException("Extraction failed.")
