"""The consultations shipped with Sauti (native YAML files in this folder)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from instruments.model import Instrument

__all__ = ["bundled_names", "bundled_path", "load_bundled"]


def bundled_names() -> tuple[str, ...]:
    """Names of the bundled instruments.

    >>> "reporting-mechanisms" in bundled_names()
    True
    """
    folder = resources.files("instruments.bundled")
    return tuple(sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml")))


def bundled_path(name: str = "reporting-mechanisms") -> Traversable:
    """The resource path of a bundled instrument (``KeyError`` if unknown)."""
    if name not in bundled_names():
        raise KeyError(f"no bundled instrument {name!r}; choose from {bundled_names()}")
    return resources.files("instruments.bundled").joinpath(f"{name}.yaml")


@lru_cache(maxsize=8)
def load_bundled(name: str = "reporting-mechanisms") -> Instrument:
    """Load a bundled instrument (cached; instruments are immutable).

    Examples
    --------
    >>> inst = load_bundled()
    >>> inst.id, inst.language("en").status.value
    ('reporting-mechanisms', 'approved')
    """
    from instruments.native import load_native

    text = bundled_path(name).read_text(encoding="utf-8")
    return load_native(text).instrument


def pictogram_svg(file_name: str) -> bytes:
    """The bytes of a bundled pictogram (``pictograms/<file_name>``)."""
    return resources.files("instruments.bundled").joinpath("pictograms", file_name).read_bytes()
