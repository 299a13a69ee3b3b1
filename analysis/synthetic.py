"""Synthetic consultations for tests, demos and the benchmark (vectorised, seeded).

Examples
--------
>>> long = synthetic_long(200, n_items=6, seed=1)
>>> sorted(long["item"].cat.categories)[:3]
['q01', 'q02', 'q03']
>>> int(long["response_id"].nunique())
200
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import DK, RNS, ItemMeta, make_long

__all__ = ["DEMOGRAPHICS", "skewed_from_codebook", "synthetic_codebook", "synthetic_from_codebook", "synthetic_long"]

#: Respondent categories and their probabilities in the synthetic data.
DEMOGRAPHICS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "band": (("A", "B", "C"), (0.3, 0.4, 0.3)),
    "gender": (("girl", "boy", "another", RNS), (0.48, 0.48, 0.02, 0.02)),
    "disability": (("no", "yes", RNS), (0.85, 0.12, 0.03)),
    "disability_method": (("self_id",), (1.0,)),
    "setting": (("school", "community", "online"), (0.7, 0.2, 0.1)),
    "language": (("en", "sw", "fr"), (0.5, 0.35, 0.15)),
}

_L5 = ("1", "2", "3", "4", "5")
_L5_LABELS = {"1": "Very hard", "2": "Hard", "3": "Not sure", "4": "Easy", "5": "Very easy"}


def synthetic_codebook(n_items: int = 30) -> dict[str, ItemMeta]:
    """A codebook mixing scale (L5), yes/no/not-sure, multi-select and one ranked item.

    Item ``q01``... ``q{n}``: every 5th item is multi-select, every 7th yes/no, the 10th
    is ranked, the rest are 5-point scales with neutral "3" and positive "4", "5".
    """
    cb = {}
    for i in range(1, n_items + 1):
        name = f"q{i:02d}"
        if i == 10:
            cb[name] = ItemMeta(
                name, "rank", ("chat", "phone", "teacher", "app"), label="Rank these ways to ask for help"
            )
        elif i % 5 == 0:
            cb[name] = ItemMeta(
                name, "multi", ("phone", "chat", "sms", "app", "box"), label=f"Which would you use? ({name})"
            )
        elif i % 7 == 0:
            cb[name] = ItemMeta(
                name, "single", ("yes", "no", "not_sure"), label=f"Have you heard of it? ({name})", sensitive=i == 14
            )
        else:
            cb[name] = ItemMeta(
                name,
                "scale",
                _L5,
                labels=_L5_LABELS,
                label=f"How easy would it be? ({name})",
                positive=("4", "5"),
                neutral="3",
                domain="EV" if i > n_items - 3 else "TR",
            )
    return cb


def _draw(rng, n, probs):
    return rng.choice(len(probs), size=n, p=np.asarray(probs) / np.sum(probs)).astype(np.int16)


def synthetic_long(
    n_respondents: int = 2000,
    n_items: int = 30,
    n_sites: int = 12,
    seed: int = 0,
    skip_rate: float = 0.04,
    rns_rate: float = 0.03,
    dk_rate: float = 0.02,
    icc: float = 0.08,
) -> pd.DataFrame:
    """A realistic long frame: several sites, all bands, reserved codes and skips.

    Scale answers come from a latent normal with a site effect (intraclass correlation
    ``icc`` on the latent scale) plus a band shift, cut at fixed thresholds.
    """
    rng = np.random.default_rng(seed)
    n = int(n_respondents)
    cb = synthetic_codebook(n_items)
    resp = {k: _draw(rng, n, p) for k, (_, p) in DEMOGRAPHICS.items()}
    site = rng.integers(0, n_sites, n).astype(np.int16)
    site_effect = rng.normal(0, np.sqrt(icc), n_sites)[site]
    band_shift = np.array([0.3, 0.0, -0.3])[resp["band"]]
    answers_cats = []
    for m in cb.values():
        answers_cats.extend(c for c in m.choices if c not in answers_cats)
    answers_cats.extend([RNS, DK])
    a_pos = {a: j for j, a in enumerate(answers_cats)}
    rid_parts, item_parts, ans_parts, rank_parts = [], [], [], []
    cuts = np.array([-1.3, -0.5, 0.2, 1.0])
    for i, (_, meta) in enumerate(cb.items()):
        u = rng.random(n)
        shown = u >= skip_rate
        rns = shown & (u < skip_rate + rns_rate)
        dk = shown & ~rns & (u < skip_rate + rns_rate + dk_rate)
        subst = shown & ~rns & ~dk
        if meta.type == "scale":
            z = site_effect + band_shift + rng.normal(0, np.sqrt(1 - icc), n)
            lvl = np.searchsorted(cuts, z)
            codes = np.array([a_pos[c] for c in meta.choices])[lvl]
            ids = np.flatnonzero(subst)
            rid_parts.append(ids)
            ans_parts.append(codes[ids])
            n_rows = len(ids)
        elif meta.type == "single":
            lvl = _draw(rng, n, (0.5, 0.3, 0.2))
            codes = np.array([a_pos[c] for c in meta.choices])[lvl]
            ids = np.flatnonzero(subst)
            rid_parts.append(ids)
            ans_parts.append(codes[ids])
            n_rows = len(ids)
        elif meta.type == "multi":
            n_rows = 0
            probs = (0.5, 0.4, 0.2, 0.15, 0.05)
            any_chosen = np.zeros(n, dtype=bool)
            for code, p in zip(meta.choices, probs, strict=True):
                chosen = subst & (rng.random(n) < p)
                any_chosen |= chosen
                ids = np.flatnonzero(chosen)
                rid_parts.append(ids)
                ans_parts.append(np.full(len(ids), a_pos[code]))
                n_rows += len(ids)
            subst = any_chosen
        else:  # rank: each respondent ranks the top 2 or 3 of 4 options
            n_rows = 0
            scores = rng.random((n, len(meta.choices))) + np.array([0.6, 0.3, 0.2, 0.0])
            order = np.argsort(-scores, axis=1)
            depth = np.where(rng.random(n) < 0.5, 2, 3)
            for pos in range(3):
                ids = np.flatnonzero(subst & (depth > pos))
                rid_parts.append(ids)
                ans_parts.append(np.array([a_pos[c] for c in meta.choices])[order[ids, pos]])
                rank_parts.append((len(rid_parts) - 1, pos + 1))
                n_rows += len(ids)
        for mask, code in ((rns, RNS), (dk, DK)):
            ids = np.flatnonzero(mask)
            rid_parts.append(ids)
            ans_parts.append(np.full(len(ids), a_pos[code]))
            n_rows += len(ids)
        item_parts.append(np.full(n_rows, i, dtype=np.int16))
    rank_of_part = dict(rank_parts)
    ranks = np.concatenate([np.full(len(p), rank_of_part.get(j, np.nan)) for j, p in enumerate(rid_parts)])
    rid = np.concatenate(rid_parts)
    df = pd.DataFrame(
        {
            "response_id": rid.astype(np.int64) + 1,
            "consultation": pd.Categorical.from_codes(np.zeros(len(rid), np.int8), ["demo"]),
            "item": pd.Categorical.from_codes(np.concatenate(item_parts), list(cb)),
            "answer": pd.Categorical.from_codes(np.concatenate(ans_parts).astype(np.int16), answers_cats),
        }
    )
    for k, (cats, _) in DEMOGRAPHICS.items():
        df[k] = pd.Categorical.from_codes(resp[k][rid], list(cats))
    df["site"] = pd.Categorical.from_codes(site[rid], [f"S{j + 1:02d}" for j in range(n_sites)])
    df["rank"] = ranks
    return make_long(df, codebook=cb, validate=False)


def synthetic_from_codebook(
    codebook: dict[str, ItemMeta],
    n_respondents: int = 2000,
    n_sites: int = 8,
    seed: int = 0,
    bands: tuple[str, ...] = ("A", "B", "C"),
) -> pd.DataFrame:
    """Random answers for any codebook (e.g. the bundled instrument's), band rules obeyed.

    Items are asked only in their ``bands``; band-specific choice lists are used for those
    bands; about 4 % skip, 3 % "rather not say", 2 % "don't know". Text items get no rows.
    """
    rng = np.random.default_rng(seed)
    n = int(n_respondents)
    demo = {k: _draw(rng, n, p) for k, (_, p) in DEMOGRAPHICS.items()}
    band = rng.integers(0, len(bands), n)
    site = rng.integers(0, n_sites, n)
    rid_parts, item_parts, ans_parts, rank_parts = [], [], [], []
    for name, meta in codebook.items():
        if meta.type == "text":
            continue
        asked = np.isin(np.array(bands)[band], meta.bands) if meta.bands else np.ones(n, bool)
        u = rng.random(n)
        skip = u < 0.04
        rns = ~skip & (u < 0.07)
        dk = ~skip & ~rns & (u < 0.09)
        subst = asked & ~skip & ~rns & ~dk
        for mask, code in ((asked & rns, RNS), (asked & dk, DK)):
            ids = np.flatnonzero(mask)
            rid_parts.append(ids)
            item_parts.append(np.full(len(ids), name, dtype=object))
            ans_parts.append(np.full(len(ids), code, dtype=object))
            rank_parts.append(np.full(len(ids), np.nan))
        for b_i, b in enumerate(bands):
            choices = np.array(meta.band_choices.get(b, meta.choices), dtype=object)
            if not len(choices):
                continue
            sel = subst & (band == b_i)
            if meta.type == "multi":
                for c in choices:
                    ids = np.flatnonzero(sel & (rng.random(n) < 0.3))
                    rid_parts.append(ids)
                    item_parts.append(np.full(len(ids), name, dtype=object))
                    ans_parts.append(np.full(len(ids), c, dtype=object))
                    rank_parts.append(np.full(len(ids), np.nan))
            elif meta.type == "rank":
                ids = np.flatnonzero(sel)
                order = np.argsort(rng.random((len(ids), len(choices))), axis=1)
                for pos in range(min(3, len(choices))):
                    rid_parts.append(ids)
                    item_parts.append(np.full(len(ids), name, dtype=object))
                    ans_parts.append(choices[order[:, pos]])
                    rank_parts.append(np.full(len(ids), pos + 1.0))
            else:
                ids = np.flatnonzero(sel)
                w = np.linspace(1.0, 2.0, len(choices))
                pick = rng.choice(len(choices), size=len(ids), p=w / w.sum())
                rid_parts.append(ids)
                item_parts.append(np.full(len(ids), name, dtype=object))
                ans_parts.append(choices[pick])
                rank_parts.append(np.full(len(ids), np.nan))
    rid = np.concatenate(rid_parts)
    df = pd.DataFrame(
        {
            "response_id": rid + 1,
            "item": np.concatenate(item_parts),
            "answer": np.concatenate(ans_parts),
            "rank": np.concatenate(rank_parts),
        }
    )
    for k, (cats, _) in DEMOGRAPHICS.items():
        df[k] = np.array(cats, dtype=object)[demo[k][rid]]
    df["band"] = np.array(bands, dtype=object)[band[rid]]
    df["site"] = np.array([f"S{j + 1:02d}" for j in range(n_sites)], dtype=object)[site[rid]]
    df["consultation"] = "demo"
    return make_long(df, codebook=codebook, categories={"band": list(bands)})


def skewed_from_codebook(
    codebook: dict[str, ItemMeta],
    n_respondents: int = 30,
    seed: int = 0,
    bands: tuple[str, ...] = ("B",),
    n_sites: int = 1,
    none_rate: float = 0.06,
) -> pd.DataFrame:
    """Realistically skewed answers (a class, a school, a district) for any codebook.

    Real consultations are not uniform: most children pick one or two answers of a
    question and a few pick the rest. Each item gets a random popularity order and shares
    falling geometrically (about 45 %, 25 %, 14 % ... of answers); scale items lean to one
    end; multi-select choices are picked by 55 %, 35 %, 20 % ... of children; about
    ``none_rate`` skip, say "rather not say" or "don't know". A class is one age group
    (``bands=("B",)``); gender is girl/boy with 3 % another answer or rather not say.

    >>> from analysis.frames import ItemMeta
    >>> cb = {"q": ItemMeta("q", "single", ("yes", "no"))}
    >>> int(skewed_from_codebook(cb, 30, seed=1)["response_id"].nunique())
    30
    """
    rng = np.random.default_rng(seed)
    n = int(n_respondents)
    band = rng.integers(0, len(bands), n)
    gender = rng.choice(4, size=n, p=(0.49, 0.48, 0.015, 0.015))
    site = rng.integers(0, n_sites, n)
    rid_parts, item_parts, ans_parts, rank_parts = [], [], [], []

    def put(ids, name, codes, ranks=None):
        rid_parts.append(ids)
        item_parts.append(np.full(len(ids), name, dtype=object))
        ans_parts.append(np.asarray(codes, dtype=object))
        rank_parts.append(np.full(len(ids), np.nan) if ranks is None else ranks)

    for name, meta in codebook.items():
        if meta.type == "text":
            continue
        asked = np.isin(np.array(bands)[band], meta.bands) if meta.bands else np.ones(n, bool)
        u = rng.random(n)
        none = u < none_rate
        rns = none & (u < none_rate / 3)
        dk = none & ~rns & (u < 2 * none_rate / 3)
        put(np.flatnonzero(asked & rns), name, np.full(int((asked & rns).sum()), RNS))
        put(np.flatnonzero(asked & dk), name, np.full(int((asked & dk).sum()), DK))
        subst = asked & ~none
        for b_i, b in enumerate(bands):
            choices = np.array(meta.band_choices.get(b, meta.choices), dtype=object)
            m = len(choices)
            if not m:
                continue
            sel = np.flatnonzero(subst & (band == b_i))
            if meta.type == "multi":
                popular = rng.permutation(m)
                rates = 0.55 * 0.65 ** np.arange(m)
                for rank_i, j in enumerate(popular):
                    ids = sel[rng.random(len(sel)) < rates[rank_i]]
                    put(ids, name, np.full(len(ids), choices[j]))
                continue
            if meta.type == "scale":
                w = 0.55 ** np.arange(m)
                w = w[::-1] if rng.random() < 0.6 else w  # most lean to the positive end
            else:
                w = 0.55 ** np.arange(m)
                w = w[rng.permutation(m)]
            if meta.type == "rank":
                order = np.array([rng.choice(m, size=m, replace=False, p=w / w.sum()) for _ in sel])
                for pos in range(min(3, m)):
                    put(sel, name, choices[order[:, pos]] if len(sel) else [], np.full(len(sel), pos + 1.0))
                continue
            pick = rng.choice(m, size=len(sel), p=w / w.sum())
            put(sel, name, choices[pick])
    rid = np.concatenate(rid_parts)
    df = pd.DataFrame(
        {
            "response_id": rid + 1,
            "item": np.concatenate(item_parts),
            "answer": np.concatenate(ans_parts),
            "rank": np.concatenate(rank_parts),
        }
    )
    df["band"] = np.array(bands, dtype=object)[band[rid]]
    df["gender"] = np.array(("girl", "boy", "another", RNS), dtype=object)[gender[rid]]
    df["site"] = np.array([f"S{j + 1:02d}" for j in range(n_sites)], dtype=object)[site[rid]]
    df["consultation"] = "demo"
    return make_long(df, codebook=codebook, categories={"band": list(bands)})
