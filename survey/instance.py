"""The instance folder: a laptop's own settings, written once on first run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

CONFIG_NAME = "config.py"


def default_instance_path() -> str:
    return os.environ.get("SAUTI_INSTANCE_PATH") or os.path.abspath("instance")


def make_private_folder(path: str | os.PathLike) -> Path:
    """Create the instance folder readable by this user only (0700), or tighten it to that.

    It holds the secret key, the SQLite database with every child's answers, and its WAL and
    shared-memory files: no other account on a shared laptop or server may list or read them.
    """
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and folder.stat().st_mode & 0o077:
        try:
            os.chmod(folder, 0o700)
        except PermissionError:  # someone else's folder: the files inside are still 0600
            pass
    return folder


def make_private_file(path: str | os.PathLike) -> None:
    """Create ``path`` empty with mode 0600 if missing; tighten an existing one to 0600."""
    if os.name != "posix":
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            try:
                os.chmod(path, 0o600)
            except PermissionError:
                pass


def ensure_secret_key(instance_path: str | None = None) -> Path | None:
    """Write a random SECRET_KEY into ``<instance>/config.py`` unless one is configured.

    The ``sauti`` command calls this before building the app, so a laptop gets a strong key
    without anyone typing one; servers set ``SAUTI_SECRET_KEY`` and never reach this.
    Returns the path written, or None when nothing was needed.
    """
    if os.environ.get("SAUTI_SECRET_KEY"):
        return None
    folder = Path(instance_path or default_instance_path())
    config = folder / CONFIG_NAME
    if config.exists() and "SECRET_KEY" in config.read_text(encoding="utf-8"):
        return None
    make_private_folder(folder)
    line = f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n"
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("# Written by `sauti` on first run. Keep this file private.\n" + line)
    os.chmod(config, 0o600)
    return config
