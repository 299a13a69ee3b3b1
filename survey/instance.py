"""The instance folder: a laptop's own settings, written once on first run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

CONFIG_NAME = "config.py"


def default_instance_path() -> str:
    return os.environ.get("SAUTI_INSTANCE_PATH") or os.path.abspath("instance")


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
    folder.mkdir(parents=True, exist_ok=True)
    line = f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n"
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("# Written by `sauti` on first run. Keep this file private.\n" + line)
    os.chmod(config, 0o600)
    return config
