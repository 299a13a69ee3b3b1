"""The instrument model: frozen, hashable dataclasses.

An :class:`Instrument` holds languages, settings, named choice lists and
sections; a :class:`Section` holds pages; a :class:`Page` holds items. All
child-facing text is a :class:`Text` (language code -> string), with optional
per-age-band variants.

Reserved answer codes
---------------------
The engine adds "I'd rather not say" to every answerable item and "I don't
know" where ``allow_dont_know`` is set. They are stored as the distinct codes
:data:`RATHER_NOT_SAY` and :data:`DONT_KNOW`, never as missing values, and no
choice list may use them as names.

Examples
--------
>>> item = Item(name="q1", type=ItemType.TEXT, label=Text(en="What would help?"),
...             label_bands={"A": Text(en="What helps?")})
>>> item.label_for("en", "A")
'What helps?'
>>> item.label_for("fr", "B", default_language="en")
'What would help?'
>>> band_at_least("B", "A"), band_at_least("A", "B")
(True, False)
"""

from __future__ import annotations

from instruments.model.instrument import (
    Instrument,
)
from instruments.model.items import (
    NO_NAMES_NOTICE,
    RESERVED_LABELS,
    Choice,
    Item,
    Media,
    Page,
)
from instruments.model.kinds import (
    DEFAULT_BANDS,
    DEFAULT_TIME_BUDGET,
    AgeBand,
    Direction,
    ItemType,
    Language,
    LanguageStatus,
    Sensitivity,
    band_at_least,
    band_for_age,
    matrix_key,
)
from instruments.model.kinds import RTL_LANGUAGES as RTL_LANGUAGES
from instruments.model.structure import (
    DEFAULT_MAX_REPEATS,
    MAX_REPEAT_DEPTH,
    MAX_REPEATS,
    Repeat,
    Section,
    Settings,
    instance_key,
    split_instance_key,
)
from instruments.model.texts import (
    DONT_KNOW,
    OTHER,
    RATHER_NOT_SAY,
    RESERVED_CODES,
    FrozenMap,
    Text,
)
from instruments.model.texts import _bandmap as _bandmap

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_MAX_REPEATS",
    "DEFAULT_TIME_BUDGET",
    "DONT_KNOW",
    "MAX_REPEATS",
    "MAX_REPEAT_DEPTH",
    "NO_NAMES_NOTICE",
    "OTHER",
    "RATHER_NOT_SAY",
    "RESERVED_CODES",
    "RESERVED_LABELS",
    "AgeBand",
    "Choice",
    "Direction",
    "FrozenMap",
    "Instrument",
    "Item",
    "ItemType",
    "Language",
    "LanguageStatus",
    "Media",
    "Page",
    "Repeat",
    "Section",
    "Sensitivity",
    "Settings",
    "Text",
    "band_at_least",
    "band_for_age",
    "instance_key",
    "matrix_key",
    "split_instance_key",
]
