"""Counts, percentages and 95 % Wilson intervals (A-03, B1, B2).

Valid denominators exclude "I'd rather not say", "I don't know" and skips; those two
reserved codes are reported on their own rows (``kind`` = ``"rns"`` / ``"dk"``) as a share of
everyone who answered the item. A multi-select choice is a percentage of the respondents
who chose at least one substantive option, and the table carries that denominator.

The counting engine is one ``numpy.bincount`` over integer codes (no ``pd.crosstab``).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .frames import RESERVED, RNS, ItemMeta, _as_codebook, _Codebook, infer_codebook

__all__ = [
    "count_codes",
    "frame_counts",
    "frequencies",
    "likert_summary",
    "proportion_ci",
    "shared_counts",
]

_CACHE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("counts", default=None)


@contextlib.contextmanager
def shared_counts():
    """Within this block, identical count cubes of the same frame are computed once.

    The report builder wraps its work in it: frequencies, crosstabs, rank tests and the
    Lundy indicators by band all reuse one ``item x band x answer`` cube.
    """
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def frame_counts(frame: pd.DataFrame, columns: Sequence[str]):
    """:func:`count_codes` of ``frame[columns]``, memoised inside :func:`shared_counts`."""
    cache = _CACHE.get()
    key = (id(frame), len(frame), tuple(columns))
    if cache is not None and key in cache:
        return cache[key][1]
    result = count_codes([frame[c] for c in columns])
    if cache is not None:
        cache[key] = (frame, result)  # keep the frame alive so its id is not reused
    return result


def proportion_ci(count, nobs, conf: float = 0.95, method: str = "wilson"):
    """Confidence interval for a binomial proportion, vectorised.

    Parameters
    ----------
    count, nobs : array_like
        Successes and trials. ``nobs == 0`` gives NaN.
    conf : float
        Confidence level.
    method : {"wilson", "exact"}
        Wilson score interval (default) or Clopper-Pearson. Wald is not offered (B1).

    Returns
    -------
    (low, high) : tuple of ndarray

    Examples
    --------
    >>> low, high = proportion_ci(7, 50)
    >>> print(f"{float(low):.4f} {float(high):.4f}")
    0.0695 0.2619
    >>> low, high = proportion_ci(0, 12)
    >>> print(f"{float(low):.4f} {float(high):.4f}")
    0.0000 0.2425
    """
    k = np.asarray(count, dtype=float)
    n = np.asarray(nobs, dtype=float)
    alpha = 1.0 - conf
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = special.ndtri(1 - alpha / 2)
            p = k / n
            z2n = z * z / n
            denom = 1 + z2n
            centre = (p + z2n / 2) / denom
            half = z * np.sqrt(p * (1 - p) / n + z2n / (4 * n)) / denom
            low, high = centre - half, centre + half
            low = np.where(k == 0, 0.0, low)
            high = np.where(k == n, 1.0, high)
        elif method == "exact":
            low = np.where(k == 0, 0.0, stats.beta.ppf(alpha / 2, k, n - k + 1))
            high = np.where(k == n, 1.0, stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        else:
            raise ValueError("method must be 'wilson' or 'exact' (Wald is not allowed)")
        bad = n <= 0
        low = np.where(bad, np.nan, np.clip(low, 0, 1))
        high = np.where(bad, np.nan, np.clip(high, 0, 1))
    return low, high


def _codes(s: pd.Series) -> tuple[np.ndarray, list]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), list(s.cat.categories)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), list(uniques)


def count_codes(columns: Sequence[pd.Series]) -> tuple[np.ndarray, list[list]]:
    """Counts of every combination of categorical codes, as a dense N-d array.

    Rows with a missing value in any column are left out. One pass of in-place integer
    arithmetic and a single ``numpy.bincount`` (missing values go to a slot that is dropped).

    Examples
    --------
    >>> a = pd.Series(pd.Categorical(["x", "y", "x", None]))
    >>> b = pd.Series(pd.Categorical(["u", "u", "v", "v"]))
    >>> arr, cats = count_codes([a, b])
    >>> arr.tolist(), cats
    ([[1, 1], [1, 0]], [['x', 'y'], ['u', 'v']])
    """
    codes, cats = [], []
    for s in columns:
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes.append(s.cat.codes.to_numpy())
            cats.append(list(s.cat.categories))
        else:
            c, u = pd.factorize(s, sort=True)
            codes.append(c)
            cats.append(list(u))
    shape = tuple(len(c) + 1 for c in cats)  # slot 0 = missing
    total = int(np.prod(shape))
    flat = codes[0].astype(np.int64 if total >= 2**31 else np.int32)
    flat += 1
    for c, size in zip(codes[1:], shape[1:], strict=True):
        flat *= size
        flat += c
        flat += 1
    counts = np.bincount(flat, minlength=total).reshape(shape)
    counts = counts[(slice(1, None),) * len(shape)]
    return counts, cats


def _by_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def frequencies(
    long: pd.DataFrame,
    items: Iterable[str] | None = None,
    by: str | Sequence[str] | None = None,
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    conf: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Frequency table of every item (optionally by group) with Wilson intervals.

    Parameters
    ----------
    long : DataFrame
        Long frame (:func:`analysis.frames.make_long`).
    items : iterable of str, optional
        Items to tabulate (default: every non-text item in the codebook / data).
    by : str or list of str, optional
        Respondent columns to break down by (e.g. ``"band"`` or ``["band", "gender"]``).
        Rows with a missing group value are left out of that breakdown.
    codebook : mapping, optional
        Item metadata; choices with zero count are listed.
    conf : float
        Confidence level of the intervals.
    method : {"wilson", "exact"}
        Interval method.

    Returns
    -------
    DataFrame
        ``item, [by...], answer, kind, count, denominator, percent, ci_low, ci_high`` where
        ``kind`` is ``"valid"`` for substantive choices (denominator: respondents with a
        substantive answer), ``"rns"`` / ``"dk"`` for the reserved codes (denominator:
        respondents who answered the item at all). ``percent`` is 0-100, the interval too.

    Examples
    --------
    >>> from analysis.frames import make_long
    >>> long = make_long(pd.DataFrame({
    ...     "response_id": [1, 2, 3, 4, 4, 5],
    ...     "item": ["q", "q", "q", "m", "m", "m"],
    ...     "answer": ["yes", "no", "_rns", "a", "b", "b"]}),
    ...     codebook=[ItemMeta("q", "single", ("yes", "no")),
    ...               ItemMeta("m", "multi", ("a", "b"))])
    >>> t = frequencies(long)
    >>> t[["item", "answer", "kind", "count", "denominator", "percent"]]
      item answer   kind  count  denominator  percent
    0    q    yes  valid      1            2     50.0
    1    q     no  valid      1            2     50.0
    2    q   _rns    rns      1            3     33.3
    3    q    _dk     dk      0            3      0.0
    4    m      a  valid      1            2     50.0
    5    m      b  valid      2            2    100.0
    6    m   _rns    rns      0            2      0.0
    7    m    _dk     dk      0            2      0.0
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    by = _by_list(by)
    wanted = (
        list(items)
        if items is not None
        else [i for i in long["item"].cat.categories if i in cb and cb[i].type != "text"]
    )
    counts, cats = frame_counts(long, ["item", *by, "answer"])
    item_cats, group_cats, answer_cats = cats[0], cats[1:-1], cats[-1]
    gshape = tuple(len(g) for g in group_cats)
    ng = int(np.prod(gshape)) if by else 1
    counts = counts.reshape(len(item_cats), ng, len(answer_cats))
    a_index = {a: j for j, a in enumerate(answer_cats)}
    groups = list(np.ndindex(gshape)) if by else [()]
    frames = []
    multi_dens = None
    for item in wanted:
        if item not in item_cats:
            continue
        meta = cb.get(item) or ItemMeta(item)
        i = item_cats.index(item)
        choices = list(meta.choices) or [
            a for a in answer_cats if a not in RESERVED and counts[i, :, a_index[a]].sum() > 0
        ]
        codes = choices + list(RESERVED)
        idx = np.array([a_index.get(c, -1) for c in codes])
        block = np.where(idx >= 0, counts[i][:, np.maximum(idx, 0)], 0)  # (ng, ncodes)
        nsub = len(choices)
        if meta.type == "multi":
            if multi_dens is None:
                multi = [i for i in wanted if (cb.get(i) or ItemMeta(i)).type == "multi"]
                multi_dens = _multi_denominators(long, multi, by, group_cats, ng)
            valid_n, any_n = multi_dens[item]
        else:
            valid_n = block[:, :nsub].sum(axis=1)
            any_n = block.sum(axis=1)
        den = np.concatenate(
            [np.repeat(valid_n[:, None], nsub, 1), np.repeat(any_n[:, None], len(RESERVED), 1)],
            axis=1,
        )
        kind = ["valid"] * nsub + ["rns" if c == RNS else "dk" for c in RESERVED]
        rows = {
            "item": np.repeat(item, ng * len(codes)),
            **{b: np.repeat([group_cats[k][g[k]] for g in groups], len(codes)) for k, b in enumerate(by)},
            "answer": np.tile(codes, ng),
            "kind": np.tile(kind, ng),
            "count": block.ravel(),
            "denominator": den.ravel(),
        }
        frames.append(pd.DataFrame(rows))
    if not frames:
        return pd.DataFrame(
            columns=["item", *by, "answer", "kind", "count", "denominator", "percent", "ci_low", "ci_high"]
        )
    out = pd.concat(frames, ignore_index=True)
    k = out["count"].to_numpy(dtype=float)
    n = out["denominator"].to_numpy(dtype=float)
    low, high = proportion_ci(k, n, conf=conf, method=method)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["percent"] = np.round(np.where(n > 0, 100 * k / n, np.nan), 1)
    out["ci_low"] = np.round(100 * low, 1)
    out["ci_high"] = np.round(100 * high, 1)
    out["count"] = out["count"].astype(np.int64)
    out["denominator"] = out["denominator"].astype(np.int64)
    out.attrs["codebook"] = _Codebook({i: cb[i] for i in wanted if i in cb})
    return out


def _multi_denominators(long, items, by, group_cats, ng):
    """Per multi-select item and group: children with >= 1 substantive choice, and with any
    answer. One pass for all items: a (respondent x item) bitmap, no hashing."""
    from .frames import respondent_codes

    item_cats = list(long["item"].cat.categories)
    pos = {it: k for k, it in enumerate(items) if it in item_cats}
    cache = _CACHE.get()
    key = (id(long), len(long), "multi-rows", tuple(items))
    if cache is not None and key in cache:
        rows, rid, m, ac, n_ids = cache[key][1]
    else:
        lut = np.full(len(item_cats) + 1, -1, dtype=np.int64)
        for it, k in pos.items():
            lut[item_cats.index(it)] = k
        m = lut[long["item"].cat.codes.to_numpy()]
        ac = long["answer"].cat.codes.to_numpy()
        rows = np.flatnonzero((m >= 0) & (ac >= 0))
        rid_all, ids = respondent_codes(long)
        rid, m, ac, n_ids = rid_all[rows], m[rows], ac[rows], len(ids)
        if cache is not None:
            cache[key] = (long, (rows, rid, m, ac, n_ids))
    g = np.zeros(len(rows), dtype=np.int64)
    ok = np.ones(len(rows), dtype=bool)
    for k, b in enumerate(by):
        c = long[b].cat.codes.to_numpy()[rows]
        ok &= c >= 0
        g = g * len(group_cats[k]) + np.maximum(c, 0)
    resp_group = np.full(n_ids, -1, dtype=np.int64)
    resp_group[rid[ok]] = g[ok]
    answers = list(long["answer"].cat.categories)
    reserved = np.array([a in RESERVED for a in answers])[ac]
    n_items = max(len(items), 1)
    out = {}
    res = []
    for mask in (ok & ~reserved, ok):
        bits = np.zeros(n_ids * n_items, dtype=bool)
        bits[rid[mask] * n_items + m[mask]] = True
        on = np.flatnonzero(bits)
        r, k = on // n_items, on % n_items
        res.append(np.bincount(k * ng + resp_group[r], minlength=n_items * ng).reshape(n_items, ng))
    for it, k in pos.items():
        out[it] = (res[0][k], res[1][k])
    for it in items:
        out.setdefault(it, (np.zeros(ng, np.int64), np.zeros(ng, np.int64)))
    return out


def likert_summary(
    long: pd.DataFrame,
    items: Iterable[str] | None = None,
    by: str | Sequence[str] | None = None,
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    center: float | None = None,
) -> pd.DataFrame:
    """% low / neutral / high, mean and SD of scale items, like R ``likert::summary``.

    Levels are scored 1..L in choice order (an ordinal approximation); reserved codes and
    skips are left out. ``center`` runs from 1.5 to L - 0.5 in steps of 0.5 (default
    (L + 1) / 2); a whole-number centre makes that level "neutral". With a half-step centre
    (an even scale by default) there is no neutral level and ``neutral`` is NA, not 0.

    Returns
    -------
    DataFrame
        ``item, [by...], low, neutral, high, mean, sd, n`` (percentages 0-100; SD with
        n - 1 in the denominator, as R's ``sd``).

    Examples
    --------
    >>> from analysis.frames import make_long
    >>> long = make_long(pd.DataFrame({"response_id": range(6), "item": "q",
    ...                                "answer": ["1", "2", "3", "3", "5", "_rns"]}),
    ...                  codebook=[ItemMeta("q", "scale", ("1", "2", "3", "4", "5"))])
    >>> likert_summary(long).round(2).to_dict("records")
    [{'item': 'q', 'low': 40.0, 'neutral': 40.0, 'high': 20.0, 'mean': 2.8, 'sd': 1.48, 'n': 5}]
    >>> bool(likert_summary(long, center=2.5)["neutral"].isna().all())
    True
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    by = _by_list(by)
    wanted = list(items) if items is not None else [i for i, m in cb.items() if m.ordinal]
    freq = frequencies(long, items=wanted, by=by or None, codebook=cb)
    freq = freq[freq["kind"] == "valid"]
    rows = []
    for keys, block in freq.groupby(["item", *by], sort=False, observed=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        meta = cb[keys[0]]
        L = len(meta.choices)
        c = block.set_index("answer")["count"].reindex(list(meta.choices)).fillna(0).to_numpy(dtype=float)
        n = c.sum()
        ctr = (L + 1) / 2 if center is None else float(center)
        if not (1.5 <= ctr <= L - 0.5) or (ctr * 2) % 1:
            raise ValueError(f"center must be 1.5 .. {L - 0.5} in steps of 0.5")
        score = np.arange(1, L + 1, dtype=float)
        if n:
            low = 100 * c[score < ctr].sum() / n
            # A half-step centre (every even scale by default) has no neutral level: the
            # share is not 0 %, it does not exist (NA, as R likert's summary).
            neutral = 100 * c[score == ctr].sum() / n if float(ctr).is_integer() else np.nan
            high = 100 * c[score > ctr].sum() / n
            mean = float((score * c).sum() / n)
            sd = float(np.sqrt(((score - mean) ** 2 * c).sum() / (n - 1))) if n > 1 else np.nan
        else:
            low = neutral = high = mean = sd = np.nan
        rows.append((*keys, low, neutral, high, mean, sd, int(n)))
    return pd.DataFrame(rows, columns=["item", *by, "low", "neutral", "high", "mean", "sd", "n"])
