"""Quasi-identifier risk, as sdcMicro measures it, and the treatments before release (A7-A10).

* :func:`risk_report` -- sample frequency f_k of each record's key, k-anonymity
  violations, individual risk r_k (1/f_k unweighted; Benedetti-Franconi "approx" with
  weights), global risk = mean r_k, expected re-identifications = sum r_k, records above a
  risk threshold, and distinct l-diversity of sensitive variables. Missing key values are
  wildcards (sdcMicro semantics) unless ``missing="category"``.
* :func:`merge_rare` -- merge rare categories (with fixed merge rules first).
* :func:`local_suppression` -- set key values to missing until the data are k-anonymous.
* :func:`release_microdata` -- the microdata gate: refuses data that break k, global risk
  or l-diversity limits, and drops free text.

Examples
--------
>>> df = pd.DataFrame({"band": ["A", "A", "B", "B", "B"], "gender": ["g", "g", "b", "b", "g"]})
>>> r = risk_report(df, ["band", "gender"])
>>> r.records["fk"].tolist(), r.k_violations[2], round(r.global_risk, 4)
([2, 2, 2, 2, 1], 1, 0.6)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .release_rules import MICRODATA_K, PARTNER_K

__all__ = [
    "MicrodataPolicy",
    "ReleasedMicrodata",
    "RiskReport",
    "frequency_counts",
    "individual_risk",
    "local_suppression",
    "merge_rare",
    "release_microdata",
    "risk_report",
]

_GATE = object()


def _key_codes(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    codes, sizes = [], []
    for k in keys:
        s = frame[k]
        if isinstance(s.dtype, pd.CategoricalDtype):
            c = s.cat.codes.to_numpy().astype(np.int64)
            sizes.append(len(s.cat.categories))
        else:
            c, u = pd.factorize(s)
            c = c.astype(np.int64)
            sizes.append(len(u))
        codes.append(c)
    return np.column_stack(codes) if codes else np.zeros((len(frame), 0), np.int64), sizes


def _combine(codes: np.ndarray, sizes: Sequence[int], cols: Sequence[int]) -> np.ndarray:
    key = np.zeros(codes.shape[0], dtype=np.int64)
    for c in cols:
        key = key * (sizes[c] + 1) + codes[:, c]
    return key


def frequency_counts(
    frame: pd.DataFrame,
    keys: Sequence[str],
    weights: np.ndarray | pd.Series | None = None,
    missing: str = "wildcard",
) -> tuple[np.ndarray, np.ndarray]:
    """f_k and F_k of every record (F_k = sum of weights of matching records, or f_k).

    With ``missing="wildcard"`` a missing key value matches any value (sdcMicro), so a
    record with a missing value can match records of several keys, and they match it.
    """
    codes, sizes = _key_codes(frame, keys)
    n = len(frame)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if missing == "category":
        codes = np.where(codes < 0, np.array(sizes)[None, :], codes)
        sizes = [s + 1 for s in sizes]
    elif missing != "wildcard":
        raise ValueError("missing must be 'wildcard' or 'category'")
    isna = codes < 0
    pattern = (isna * (1 << np.arange(codes.shape[1]))).sum(axis=1) if codes.shape[1] else np.zeros(n, np.int64)
    fk = np.zeros(n)
    Fk = np.zeros(n)
    pats = np.unique(pattern)
    members = {p: np.flatnonzero(pattern == p) for p in pats}
    for q in pats:
        qi = members[q]
        for p in pats:
            pj = members[p]
            shared = [c for c in range(codes.shape[1]) if not (q >> c) & 1 and not (p >> c) & 1]
            if not shared:
                fk[qi] += len(pj)
                Fk[qi] += w[pj].sum()
                continue
            kp = _combine(codes[pj], sizes, shared)
            uniq, inv = np.unique(kp, return_inverse=True)
            cnt = np.bincount(inv, minlength=len(uniq)).astype(float)
            wsum = np.bincount(inv, weights=w[pj], minlength=len(uniq))
            kq = _combine(codes[qi], sizes, shared)
            pos = np.searchsorted(uniq, kq)
            pos_c = np.minimum(pos, len(uniq) - 1)
            hit = (pos < len(uniq)) & (uniq[pos_c] == kq)
            fk[qi] += np.where(hit, cnt[pos_c], 0)
            Fk[qi] += np.where(hit, wsum[pos_c], 0)
    return fk.astype(np.int64), (Fk if weights is not None else fk.astype(float))


def individual_risk(fk, Fk=None) -> np.ndarray:
    """Per-record re-identification risk r_k, as sdcMicro's ``indivRisk`` ("approx").

    Without weights (or where F_k = f_k) r_k = 1 / f_k. With weights, p_k = f_k / F_k and
    f_k = 1: p/(1-p) ln(1/p); f_k = 2: p/(1-p) - (p/(1-p))^2 ln(1/p); f_k > 2: p/(f_k-(1-p)).

    Examples
    --------
    >>> individual_risk([2, 1, 3], [360, 215, 300]).round(4).tolist()
    [0.0054, 0.0251, 0.005]
    """
    f = np.asarray(fk, dtype=float)
    if Fk is None:
        return 1.0 / f
    F = np.asarray(Fk, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = f / F
        q = p / (1 - p)
        r1 = q * np.log(1 / p)
        r2 = q - q**2 * np.log(1 / p)
        r3 = p / (f - (1 - p))
        r = np.where(f == 1, r1, np.where(f == 2, r2, r3))
    return np.where(p >= 1, 1.0 / f, r)


@dataclass(frozen=True)
class RiskReport:
    """Disclosure-risk measures for one set of key variables (sdcMicro ``measure_risk``).

    Attributes
    ----------
    keys : tuple of str
    records : DataFrame
        Per record (same index as the input): ``fk``, ``Fk``, ``risk``.
    global_risk : float
        Mean individual risk.
    expected_reidentifications : float
        Sum of individual risks.
    k_violations : dict
        k -> number of records with f_k < k.
    n_above_threshold : int
        Records with risk above ``threshold``.
    l_diversity : dict
        Sensitive variable -> smallest number of distinct values within a key.
    """

    keys: tuple[str, ...]
    records: pd.DataFrame
    global_risk: float
    expected_reidentifications: float
    k_violations: Mapping[int, int]
    n: int
    threshold: float
    n_above_threshold: int
    max_risk: float
    l_diversity: Mapping[str, int] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """The report as a two-column table (measure, value) for exports."""
        rows = [
            ("key variables", ", ".join(self.keys)),
            ("records", self.n),
            ("global risk", round(self.global_risk, 5)),
            ("expected re-identifications", round(self.expected_reidentifications, 3)),
            ("max individual risk", round(self.max_risk, 4)),
            (f"records with risk > {self.threshold:g}", self.n_above_threshold),
        ]
        rows += [(f"records violating {k}-anonymity", v) for k, v in self.k_violations.items()]
        rows += [(f"l-diversity of {s}", v) for s, v in self.l_diversity.items()]
        return pd.DataFrame(rows, columns=["measure", "value"])

    def responsible(self, k: int, frame: pd.DataFrame) -> pd.DataFrame:
        """For records violating k-anonymity: how often each of their key values occurs.

        The variable whose value is rarest among the violators is the one to recode first.
        """
        bad = self.records["fk"] < k
        out = []
        for key in self.keys:
            vc = frame[key].value_counts(dropna=False)
            vals = frame.loc[bad, key]
            for v, n in vals.value_counts(dropna=False).items():
                out.append((key, v, int(n), int(vc.get(v, 0))))
        return (
            pd.DataFrame(out, columns=["variable", "value", "violating_records", "records_with_value"])
            .sort_values(["records_with_value", "violating_records"])
            .reset_index(drop=True)
        )


def risk_report(
    frame: pd.DataFrame,
    keys: Sequence[str],
    weights: str | np.ndarray | pd.Series | None = None,
    missing: str = "wildcard",
    k_levels: Iterable[int] = (2, 3, 5),
    threshold: float = 0.05,
    sensitive: Iterable[str] = (),
) -> RiskReport:
    """sdcMicro-style risk report for the key variables ``keys``.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent (e.g. :func:`analysis.frames.to_wide`).
    keys : list of str
        Quasi-identifiers (band, gender, disability, site, ...).
    weights : str or array, optional
        Sampling weights (a column name or an array). Without weights r_k = 1/f_k.
    missing : {"wildcard", "category"}
    k_levels : iterable of int
    threshold : float
        Individual-risk level whose exceedances are counted (0.05 as in the guide).
    sensitive : iterable of str
        Variables whose distinct l-diversity is measured.
    """
    keys = tuple(keys)
    w = frame[weights].to_numpy(dtype=float) if isinstance(weights, str) else weights
    fk, Fk = frequency_counts(frame, keys, w, missing)
    risk = individual_risk(fk, Fk if w is not None else None)
    records = pd.DataFrame({"fk": fk, "Fk": Fk, "risk": risk}, index=frame.index)
    ldiv = {}
    codes, sizes = _key_codes(frame, keys)
    complete = (codes >= 0).all(axis=1)
    key = _combine(codes[complete], sizes, range(len(keys)))
    for s in sensitive:
        vals = frame.loc[complete, s]
        sub = pd.DataFrame({"k": key, "v": vals.to_numpy()}).dropna()
        ldiv[s] = int(sub.groupby("k")["v"].nunique().min()) if len(sub) else 0
    return RiskReport(
        keys=keys,
        records=records,
        global_risk=float(risk.mean()) if len(risk) else 0.0,
        expected_reidentifications=float(risk.sum()),
        k_violations={int(k): int((fk < k).sum()) for k in k_levels},
        n=len(frame),
        threshold=threshold,
        n_above_threshold=int((risk > threshold).sum()),
        max_risk=float(risk.max()) if len(risk) else 0.0,
        l_diversity=ldiv,
    )


def merge_rare(
    values: pd.Series,
    min_count: int,
    rules: Mapping[str, str] | None = None,
    fallback: str = "missing",
) -> tuple[pd.Series, list[str]]:
    """Merge rare categories of one variable before release (A10, B3).

    ``rules`` are applied first (e.g. ``{"another": "another or rather not say",
    "_rns": "another or rather not say"}``); then rare categories (fewer than ``min_count``
    records) are merged with each other, rarest first, into ``"a / b"``. A single rare
    category left over is set to missing (``fallback="missing"``, the default) or merged
    with the next rarest category (``fallback="merge"``). Returns the new categorical
    series and a log of every step (the information-loss log).

    Examples
    --------
    >>> s = pd.Series(["girl"] * 30 + ["boy"] * 28 + ["another"] * 6 + ["_rns"] * 4)
    >>> out, log = merge_rare(s, 10)
    >>> out.value_counts().to_dict(), log
    ({'girl': 30, 'boy': 28, '_rns / another': 10}, ['_rns + another -> _rns / another'])
    >>> out, log = merge_rare(s.iloc[:-2], 10)
    >>> int(out.isna().sum()), log[-1]
    (8, '_rns / another (8) -> missing')
    """
    if fallback not in ("missing", "merge"):
        raise ValueError("fallback must be 'missing' or 'merge'")
    s = values.astype(object).where(values.notna(), None)
    log = []
    for old, new in (rules or {}).items():
        if (s == old).any():
            s = s.where(s != old, new)
            log.append(f"{old} -> {new}")
    while True:
        vc = s.value_counts().sort_index().sort_values(kind="mergesort")
        rare = vc[vc < min_count]
        if rare.empty or len(vc) < 2:
            break
        if len(rare) >= 2 or fallback == "merge":
            a, b = vc.index[0], vc.index[1]
            merged = " / ".join(sorted([str(a), str(b)]))
            log.append(f"{a} + {b} -> {merged}")
            s = s.where(~s.isin([a, b]), merged)
        else:
            a = rare.index[0]
            log.append(f"{a} ({rare.iloc[0]}) -> missing")
            s = s.where(s != a, None)
    return pd.Series(pd.Categorical(s), index=values.index, name=values.name), log


def local_suppression(
    frame: pd.DataFrame,
    keys: Sequence[str],
    k: int = 5,
    importance: Sequence[int] | None = None,
    max_rounds: int = 10,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Set key values to missing until the data are k-anonymous (missing = wildcard).

    Each round, every record violating k-anonymity loses one key value: among the keys
    whose suppression would give the record at least ``k`` matches (counted on the other
    keys), the one with the highest ``importance`` number (importance 1 = suppress last, as
    in sdcMicro); if none would, the key giving the most matches. Returns the treated frame
    and the number of suppressed values per variable (the information-loss log).
    """
    keys = list(keys)
    imp = list(importance) if importance is not None else [1] * len(keys)
    out = frame.copy()
    log = dict.fromkeys(keys, 0)
    for _ in range(max_rounds):
        fk, _ = frequency_counts(out, keys)
        bad = np.flatnonzero(fk < k)
        if not len(bad):
            break
        gains = np.zeros((len(bad), len(keys)))
        present = np.zeros((len(bad), len(keys)), dtype=bool)
        for j, key in enumerate(keys):
            others = [x for x in keys if x != key]
            alt, _ = frequency_counts(out, others) if others else (np.full(len(out), len(out)), None)
            gains[:, j] = alt[bad]
            present[:, j] = out[key].notna().to_numpy()[bad]
        resolves = (gains >= k) & present
        score = np.where(resolves, 1e12 + np.array(imp)[None, :] * 1e9 + gains, np.where(present, gains, -1))
        choice = score.argmax(axis=1)
        for j, key in enumerate(keys):
            rows = bad[(choice == j) & present[:, j]]
            if len(rows):
                col = out.columns.get_loc(key)
                out.iloc[rows, col] = np.nan
                log[key] += len(rows)
    return out, log


@dataclass(frozen=True)
class MicrodataPolicy:
    """Limits for a microdata export (A9): public k >= 5, partner/internal k >= 3."""

    k: int = MICRODATA_K
    max_global_risk: float = 0.03
    l_min: int = 2
    level: str = "public"

    def __post_init__(self) -> None:
        floor = MICRODATA_K if self.level == "public" else PARTNER_K
        if self.k < floor:
            raise ValueError(f"k={self.k} is below the {floor} required for {self.level} files")


@dataclass(frozen=True, eq=False)
class ReleasedMicrodata:
    """A de-identified record-level frame that passed :func:`release_microdata`."""

    frame: pd.DataFrame
    risk: RiskReport
    policy: MicrodataPolicy
    dropped: tuple[str, ...]
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("ReleasedMicrodata is only produced by release_microdata()")


def release_microdata(
    frame: pd.DataFrame,
    keys: Sequence[str],
    policy: MicrodataPolicy | None = None,
    sensitive: Iterable[str] = (),
    drop: Iterable[str] = (),
    seed: int | None = None,
) -> ReleasedMicrodata:
    """The microdata gate: check k, global risk and l-diversity, or refuse with reasons.

    Response ids are replaced by a shuffled sequence; ``site`` labels (when present) are
    relabelled at random for this export; columns in ``drop`` (free text, direct
    identifiers) are removed.

    Raises
    ------
    analysis.disclosure.DisclosureError
        With the failing measures and the key values responsible.
    """
    from .disclosure import DisclosureError

    policy = policy or MicrodataPolicy()
    sensitive = tuple(sensitive)
    drop = tuple(c for c in drop if c in frame.columns)
    data = frame.drop(columns=list(drop)).reset_index(drop=True)
    rep = risk_report(data, keys, sensitive=sensitive, k_levels=(policy.k,))
    problems = []
    if rep.k_violations[policy.k]:
        problems.append(f"{rep.k_violations[policy.k]} records violate {policy.k}-anonymity")
    if rep.global_risk >= policy.max_global_risk:
        problems.append(f"global risk {rep.global_risk:.3%} >= {policy.max_global_risk:.0%}")
    if rep.max_risk > 1 / policy.k + 1e-12:
        problems.append(f"max individual risk {rep.max_risk:.3f} > 1/{policy.k}")
    for s, lval in rep.l_diversity.items():
        if lval < policy.l_min:
            problems.append(f"{s}: l-diversity {lval} < {policy.l_min}")
    if problems:
        worst = rep.responsible(policy.k, data).head(5)
        detail = "; ".join(f"{r.variable}={r.value} ({r.records_with_value} records)" for r in worst.itertuples())
        raise DisclosureError(
            "microdata refused: " + "; ".join(problems) + (f". Rarest key values: {detail}" if detail else "")
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    data = data.iloc[order].reset_index(drop=True)
    data.insert(0, "record", np.arange(1, len(data) + 1))
    if "site" in data.columns:
        sites = pd.unique(data["site"].dropna())
        labels = {s: f"site {i + 1}" for i, s in enumerate(rng.permutation(sites))}
        data["site"] = data["site"].map(labels).astype("category")
    return ReleasedMicrodata(data, rep, policy, drop, _GATE)
