"""The codebook: the reserved codes (:data:`RNS`, :data:`DK`), the long frame's columns, and the
item metadata (:class:`ItemMeta`) read from an instrument, inferred from a frame or kept as JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: "I'd rather not say" (same code as ``instruments.model.RATHER_NOT_SAY``).
RNS = "_rns"
#: "I don't know" (same code as ``instruments.model.DONT_KNOW``).
DK = "_dk"
#: The reserved codes, in report order.
RESERVED: tuple[str, ...] = (RNS, DK)

#: Columns that describe the respondent (constant within a ``response_id``).
RESPONDENT_COLUMNS: tuple[str, ...] = (
    "response_id",
    "consultation",
    "band",
    "gender",
    "disability",
    "disability_method",
    "setting",
    "language",
    "site",
)
#: The long frame's columns, in order (``rank`` is optional and comes last).
LONG_COLUMNS: tuple[str, ...] = (
    "response_id",
    "consultation",
    "item",
    "answer",
    "band",
    "gender",
    "disability",
    "disability_method",
    "setting",
    "language",
    "site",
)
_ITEM_TYPES = ("single", "multi", "scale", "rank", "text")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ItemMeta:
    """What the analysis needs to know about one item.

    Parameters
    ----------
    name : str
        Item name as stored in the long frame's ``item`` column.
    type : {"single", "multi", "scale", "rank", "text"}
        ``scale`` is an ordered single choice (Likert); its ``choices`` run low to high.
    choices : tuple of str
        Substantive choice codes in display order (never the reserved codes).
    labels : mapping, optional
        Code -> label for display; codes without a label are shown as the code.
    label : str, optional
        The question text for headings.
    sensitive : bool
        Percentages near 0 or 100 are coded "<5 %" / ">95 %" (A11 d).
    bands : tuple of str
        Bands the item is asked in; empty means "all bands".
    positive : tuple of str
        Codes that count as a positive rating (Lundy indicators, % agree).
    neutral : str or None
        The neutral code of a scale item, split around zero in diverging charts.
    domain : str
        The domain code (CX, TR, AW, ... EV, DM).
    band_choices : mapping of band -> tuple of str
        Bands that answer from another choice list (e.g. a 3-point face scale for band A);
        :func:`split_band_variants` turns them into items of their own.

    Examples
    --------
    >>> m = ItemMeta("EV1", "scale", ("1", "2", "3"), positive=("3",), neutral="2")
    >>> m.ordinal
    True
    >>> m.label_of("3")
    '3'
    """

    name: str
    type: str = "single"
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    label: str = ""
    sensitive: bool = False
    bands: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    neutral: str | None = None
    domain: str = ""
    band_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.type not in _ITEM_TYPES:
            raise ValueError(f"item {self.name!r}: type {self.type!r} is not one of {_ITEM_TYPES}")
        object.__setattr__(self, "choices", tuple(str(c) for c in self.choices))
        bad = set(self.choices) & set(RESERVED)
        if bad:
            raise ValueError(
                f"item {self.name!r}: {sorted(bad)} are reserved codes the engine adds; "
                "remove them from the choice list"
            )
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"item {self.name!r}: duplicate choice codes")

    @property
    def ordinal(self) -> bool:
        """True for scale items (their choices are ordered low to high)."""
        return self.type == "scale"

    def label_of(self, code: str) -> str:
        """The display label of ``code`` (the code itself when unlabelled)."""
        defaults = {RNS: "I'd rather not say", DK: "I don't know"}
        return str(self.labels.get(code, defaults.get(code, code)))


class _Codebook(dict):
    """A codebook dict that pandas can "deep-copy" for free (its ItemMeta are frozen)."""

    def __deepcopy__(self, memo):
        return self


def _as_codebook(codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None, frame: Any = None) -> dict:
    if codebook is None:
        attrs = getattr(frame, "attrs", None) or {}
        return _Codebook(attrs.get("codebook") or {})
    if isinstance(codebook, Mapping):
        return _Codebook(codebook)
    return _Codebook({m.name: m for m in codebook})


def infer_codebook(long: pd.DataFrame) -> dict[str, ItemMeta]:
    """Item metadata guessed from data: items with several rows per respondent are multi.

    Prefer the instrument's metadata (:func:`codebook_from_instrument`); this is the
    fallback for an export read without one. Choices are the observed non-reserved codes,
    sorted; an item whose codes are all integers is taken as a ``scale``.

    Examples
    --------
    >>> df = pd.DataFrame({"response_id": [1, 1, 2], "item": ["m", "m", "s"],
    ...                    "answer": ["a", "b", "3"]})
    >>> cb = infer_codebook(df)
    >>> cb["m"].type, cb["s"].type, cb["s"].choices
    ('multi', 'scale', ('3',))
    """
    out = {}
    ans = long["answer"].astype("string")
    dup = long.duplicated(["response_id", "item"], keep=False)
    multi = set(long.loc[dup, "item"].astype(str))
    if "rank" in long.columns:
        ranked = set(long.loc[long["rank"].notna(), "item"].astype(str))
    else:
        ranked = set()
    for item, codes in ans.groupby(long["item"].astype(str), sort=True):
        codes = sorted({c for c in codes.dropna().unique() if c not in RESERVED})
        numeric = bool(codes) and all(re.fullmatch(r"-?\d+", c) for c in codes)
        if numeric:
            codes = sorted(codes, key=int)
        if item in ranked:
            kind = "rank"
        elif item in multi:
            kind = "multi"
        else:
            kind = "scale" if numeric else "single"
        out[item] = ItemMeta(item, kind, tuple(codes))
    return _Codebook(out)


def _scale_meta(name, kind, codes, labels, **kw) -> ItemMeta:
    """Scale defaults: the middle level is neutral, the levels above it are positive."""
    if kind == "scale" and codes:
        L = len(codes)
        kw.setdefault("neutral", codes[L // 2] if L % 2 else None)
        kw.setdefault("positive", tuple(codes[(L + 1) // 2 :]))
    return ItemMeta(name, kind, tuple(codes), labels=labels, **kw)


def codebook_from_instrument(instrument: Any, language: str = "en") -> dict[str, ItemMeta]:
    """Adapter from an ``instruments.model.Instrument`` to analysis metadata.

    The one place that knows the instrument model (read duck-typed, so analysis does not
    import ``instruments``): ``items``, ``choices_for(item)``, ``rows_for(item)``,
    ``choice_lists``, ``settings.band_codes`` and each item's ``name``, ``type``,
    ``label``, ``band_choices``, ``min_band``/``max_band`` and ``sensitivity``.
    Select-one -> ``single``, select-multiple -> ``multi``, likert/range -> ``scale``,
    rank -> ``rank``, text -> ``text``; each matrix row becomes a scale item
    ``<item>_<row>``. Sensitivity S2 and above marks an item sensitive; the domain is the
    letters of the item name (``EV1`` -> ``EV``).
    """
    mapping = {
        "select_one": "single",
        "select_multiple": "multi",
        "rank": "rank",
        "likert": "scale",
        "range": "scale",
        "text": "text",
        "matrix": "scale",
    }
    lists = getattr(instrument, "choice_lists", {}) or {}
    items = instrument.items() if callable(getattr(instrument, "items", None)) else getattr(instrument, "items", ())
    settings = getattr(instrument, "settings", None)
    band_codes = tuple(getattr(settings, "band_codes", ()) or ())

    def text_of(t) -> str:
        if t is None:
            return ""
        if hasattr(t, "get_for"):
            return t.get_for(language, fallback=("en",)) or ""
        return str(t)

    def codes_and_labels(choices):
        codes, labels = [], {}
        for ch in choices or ():
            code = str(getattr(ch, "name", ch))
            codes.append(code)
            labels[code] = text_of(getattr(ch, "label", None)) or code
        return codes, labels

    out: dict[str, ItemMeta] = {}
    for it in items:
        kind = mapping.get(str(getattr(it, "type", "")))
        if kind is None:
            continue
        if hasattr(instrument, "choices_for"):
            choices = instrument.choices_for(it)
        else:
            choices = lists.get(getattr(it, "choices", None) or "", ())
        codes, labels = codes_and_labels(choices)
        band_choices = {}
        for band, list_name in dict(getattr(it, "band_choices", {}) or {}).items():
            bc, bl = codes_and_labels(lists.get(list_name, ()))
            if tuple(bc) != tuple(codes):
                band_choices[str(band)] = tuple(bc)
                labels = {**bl, **labels}
        shown = tuple(b for b in band_codes if not hasattr(it, "shown_to") or it.shown_to(b, settings.bands))
        sens = getattr(it, "sensitivity", 0)
        common = {
            "label": text_of(getattr(it, "label", None)),
            "sensitive": int(sens) >= 2,
            "bands": shown if shown != band_codes else (),
            "domain": re.sub(r"[^A-Za-z].*$", "", it.name),
            "band_choices": band_choices,
        }
        if str(getattr(it, "type", "")) == "matrix" and hasattr(instrument, "rows_for"):
            for row in instrument.rows_for(it):
                key = f"{it.name}_{row.name}"
                row_common = dict(common, label=f"{common['label']} - {text_of(row.label)}")
                out[key] = _scale_meta(key, "scale", codes, labels, **row_common)
            continue
        out[it.name] = _scale_meta(it.name, kind, codes, labels, **common)
    return _Codebook(out)


def codebook_to_dict(codebook: Mapping[str, ItemMeta]) -> dict[str, dict]:
    """A JSON-ready form of a codebook (see :func:`codebook_from_dict`).

    >>> d = codebook_to_dict({"q": ItemMeta("q", "scale", ("1", "2"), neutral=None)})
    >>> codebook_from_dict(d)["q"].choices
    ('1', '2')
    """
    out = {}
    for name, m in codebook.items():
        out[name] = {
            "type": m.type,
            "choices": list(m.choices),
            "labels": dict(m.labels),
            "label": m.label,
            "sensitive": m.sensitive,
            "bands": list(m.bands),
            "positive": list(m.positive),
            "neutral": m.neutral,
            "domain": m.domain,
        }
        if m.band_choices:
            out[name]["band_choices"] = {b: list(cs) for b, cs in m.band_choices.items()}
    return out


def codebook_from_dict(data: Mapping[str, Mapping[str, Any]]) -> dict[str, ItemMeta]:
    """Build a codebook from :func:`codebook_to_dict` output (e.g. read from JSON)."""
    out = {}
    for name, d in data.items():
        out[name] = ItemMeta(
            name,
            d.get("type", "single"),
            tuple(d.get("choices", ())),
            labels=dict(d.get("labels", {})),
            label=d.get("label", ""),
            sensitive=bool(d.get("sensitive", False)),
            bands=tuple(d.get("bands", ())),
            positive=tuple(d.get("positive", ())),
            neutral=d.get("neutral"),
            domain=d.get("domain", ""),
            band_choices={str(b): tuple(cs) for b, cs in dict(d.get("band_choices") or {}).items()},
        )
    return out
