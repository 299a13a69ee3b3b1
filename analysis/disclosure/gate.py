"""The gate, :func:`disclose`: counts, frequency tables and estimates through primary and
secondary suppression, the sensitive rule and the reliability flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.disclosure.policy import (
    _GATE,
    SUPPRESSED,
    UNRELIABLE,
    DisclosureError,
    DisclosurePolicy,
    ReleasedTable,
    _fmt_count,
    format_percent,
)
from analysis.disclosure.suppression import _primary, _with_margins, secondary_suppression
from analysis.frames import DK, RNS, ItemMeta, _as_codebook

# --------------------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------------------


def disclose(
    table: pd.DataFrame | pd.Series,
    policy: DisclosurePolicy | None = None,
    *,
    title: str = "",
    sensitive: bool = False,
    kind: str | None = None,
    codebook: Mapping[str, ItemMeta] | None = None,
    n_column: str = "n",
    value_columns: Sequence[str] | None = None,
    count_column: str | None = None,
    meta: Mapping[str, Any] | None = None,
    margins: bool = True,
) -> ReleasedTable:
    """The disclosure-control gate: the only way to make a :class:`ReleasedTable`.

    Parameters
    ----------
    table : DataFrame or Series
        * ``kind="counts"`` (default for a numeric 2-D frame or a Series): a table of
          counts; margins are added and published.
        * ``kind="frequencies"`` (default when ``count`` and ``denominator`` columns exist):
          the output of :func:`analysis.descriptives.frequencies`.
        * ``kind="estimates"``: one row per estimate with a denominator column
          ``n_column`` (Borda scores, Likert summaries, test results).
    policy : DisclosurePolicy, optional
        Thresholds (default :class:`DisclosurePolicy()`).
    title : str
        Table title (kept with the release).
    sensitive : bool
        Apply the "<5 %" / ">95 %" coding (frequencies use the codebook's ``sensitive``).
    codebook : mapping, optional
        Item metadata for ``kind="frequencies"``.
    n_column, value_columns : str, list of str
        For ``kind="estimates"``: the denominator and the estimate columns to hide.
    count_column : str, optional
        For ``kind="estimates"`` of a proportion: its numerator. A numerator of 1..k-1 is
        suppressed like a count (the estimate and the numerator are hidden), since
        estimate x denominator would give it back.
    meta : mapping, optional
        Context stored with the release.
    margins : bool
        Counts only: publish row/column totals (and protect cells against them). Use
        ``False`` only for stages that are not parts of a whole (a participation funnel);
        then only primary suppression applies and no total is shown.

    Returns
    -------
    ReleasedTable
    """
    policy = policy or DisclosurePolicy()
    if kind is None:
        if isinstance(table, pd.Series):
            kind = "counts"
        elif {"count", "denominator"} <= set(table.columns):
            kind = "frequencies"
        else:
            kind = "counts"
    meta = dict(meta or {})
    if kind == "counts":
        return _disclose_counts(table, policy, title, sensitive, meta, margins)
    if kind == "frequencies":
        return _disclose_frequencies(table, policy, title, codebook, meta, sensitive)
    if kind == "estimates":
        return _disclose_estimates(table, policy, title, n_column, value_columns, meta, sensitive, count_column)
    raise ValueError("kind must be 'counts', 'frequencies' or 'estimates'")


def _disclose_counts(table, policy, title, sensitive, meta, margins=True) -> ReleasedTable:
    one_d = isinstance(table, pd.Series)
    frame = table.to_frame().T if one_d else table
    if one_d:
        frame.index = [table.name if table.name is not None else "count"]
    values = frame.to_numpy()
    if values.size and (np.any(pd.isna(values)) or np.any(values < 0) or not np.all(np.equal(np.mod(values, 1), 0))):
        raise DisclosureError("a counts table must hold non-negative whole numbers")
    counts = values.astype(np.int64)
    ext = _with_margins(counts)
    primary = _primary(ext, policy.k)
    if sensitive:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100 * ext / ext[:, -1:]
        extreme = (share < policy.sensitive_low) | (share > policy.sensitive_high)
        extreme[:, -1] = False
        primary |= extreme & (ext[:, -1:] > 0)
    if margins:
        mask = secondary_suppression(ext, primary, protection=policy.min_interval) if primary.any() else primary
    else:
        mask = primary
    released = pd.DataFrame(
        ext, columns=[*map(str, frame.columns), "Total"], index=[*map(str, frame.index), "Total"]
    ).astype("Int64")
    released = released.mask(mask)
    if not margins:
        released = released.iloc[:-1, :-1]
        mask, primary = mask[:-1, :-1], primary[:-1, :-1]
    if one_d:
        released = released.iloc[:1]
        mask_shown = mask[:1]
    else:
        mask_shown = mask
    display = released.map(_fmt_count)
    notes = policy.footnotes(sensitive) if mask.any() else ()
    return ReleasedTable(
        data=released,
        display=display,
        kind="counts",
        title=title,
        policy=policy,
        sensitive=sensitive,
        notes=notes,
        n_primary=int(primary[: mask_shown.shape[0]].sum()),
        n_secondary=int((mask_shown & ~primary[: mask_shown.shape[0]]).sum()),
        meta=meta,
        _gate=_GATE,
    )


def _disclose_frequencies(freq, policy, title, codebook, meta, sensitive) -> ReleasedTable:
    cb = _as_codebook(codebook, freq)
    meta.setdefault("codebook", cb)
    group_cols = [
        c
        for c in freq.columns
        if c not in ("item", "answer", "kind", "count", "denominator", "percent", "ci_low", "ci_high")
    ]
    out_parts = []
    n_primary = n_secondary = 0
    for item, block in freq.groupby("item", sort=False, observed=True):
        meta_i = cb.get(item) or ItemMeta(str(item))
        sens = sensitive or meta_i.sensitive
        block = block.copy()
        gkey = (
            block[group_cols].astype(str).agg(" / ".join, axis=1) if group_cols else pd.Series("all", index=block.index)
        )
        block["_g"] = gkey.to_numpy()
        groups = list(dict.fromkeys(block["_g"]))
        valid = block[block["kind"] == "valid"]
        codes = list(dict.fromkeys(valid["answer"]))
        vt = valid.pivot(index="_g", columns="answer", values="count").loc[groups, codes]
        valid_n = valid.groupby("_g", sort=False)["denominator"].first().loc[groups]
        res = block[block["kind"] != "valid"]
        rt = res.pivot(index="_g", columns="answer", values="count").reindex(index=groups, columns=[RNS, DK]).fillna(0)
        any_n = res.groupby("_g", sort=False)["denominator"].first().reindex(groups).fillna(0)
        # table 1: groups x substantive codes (margins = valid denominators)
        t1 = vt.to_numpy(dtype=np.int64)
        ext1 = _with_margins(t1)
        if meta_i.type != "multi" and not (ext1[:-1, -1] == valid_n.to_numpy()).all():
            raise DisclosureError(f"item {item!r}: counts do not add up to the denominators")
        prim1 = _primary(ext1, policy.k)
        if sens:
            dens = np.r_[valid_n.to_numpy(), valid_n.sum()].astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = 100 * ext1[:, :-1] / dens[:, None]
            extreme = (share < policy.sensitive_low) | (share > policy.sensitive_high)
            prim1[:, :-1] |= extreme & (dens[:, None] > 0)
        # table 2: groups x [substantive n, rns, dk] (margins = any-answer denominators)
        t2 = np.column_stack([valid_n.to_numpy(), rt.to_numpy()]).astype(np.int64)
        ext2 = _with_margins(t2)
        prim2 = _primary(ext2, policy.k)
        m1, m2 = prim1.copy(), prim2.copy()
        linked = meta_i.type != "multi"
        for _ in range(20):
            m1 = secondary_suppression(ext1, prim1, protection=policy.min_interval, start=m1) if m1.any() else m1
            m2 = secondary_suppression(ext2, prim2, protection=policy.min_interval, start=m2) if m2.any() else m2
            if not linked:
                break
            # the substantive denominators appear in both tables
            shared1, shared2 = m1[:, -1].copy(), m2[:, 0].copy()
            if (shared1 == shared2).all():
                break
            m1[:, -1] |= shared2
            m2[:, 0] |= shared1
        if meta_i.type == "multi":
            # the valid denominator is also the base of every choice's percentage
            m1[:-1, :-1] |= m2[:-1, 0][:, None]
        n_primary += int(prim1[:-1, :-1].sum() + prim2[:-1, 1:].sum())
        n_secondary += int((m1[:-1, :-1] & ~prim1[:-1, :-1]).sum() + (m2[:-1, 1:] & ~prim2[:-1, 1:]).sum())
        rows = []
        for r, g in enumerate(groups):
            vn = valid_n.loc[g]
            an = any_n.loc[g]
            vn_hidden = bool(m1[r, -1] or m2[r, 0])
            an_hidden = bool(m2[r, -1])
            for c, code in enumerate(codes):
                rows.append((g, code, "valid", t1[r, c], bool(m1[r, c]), vn, vn_hidden, bool(prim1[r, c]) and sens))
            for c, code in enumerate((RNS, DK)):
                rows.append(
                    (g, code, "rns" if code == RNS else "dk", t2[r, c + 1], bool(m2[r, c + 1]), an, an_hidden, False)
                )
        out = pd.DataFrame(
            rows, columns=["_g", "answer", "kind", "count", "hidden", "denominator", "den_hidden", "coded"]
        )
        src = block.set_index(["_g", "answer"])
        pct = src["percent"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        lo = src["ci_low"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        hi = src["ci_high"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        out["percent"], out["ci_low"], out["ci_high"] = (pct.to_numpy(), lo.to_numpy(), hi.to_numpy())
        out.insert(0, "item", item)
        first = block.drop_duplicates("_g").set_index("_g")
        for gc in group_cols:
            out.insert(1 + group_cols.index(gc), gc, first.loc[out["_g"], gc].to_numpy())
        out["sensitive"] = sens
        out_parts.append(out)
    full = pd.concat(out_parts, ignore_index=True) if out_parts else pd.DataFrame()
    if full.empty:
        data = freq.iloc[:0].copy()
        return ReleasedTable(data, data.astype(str), "frequencies", title, policy, sensitive, (), 0, 0, meta, _GATE)
    hide_est = full["hidden"] | full["den_hidden"] | (full["denominator"] < policy.min_denominator)
    data = full[["item", *group_cols, "answer", "kind"]].copy()
    data["count"] = full["count"].astype("Int64").mask(full["hidden"])
    data["denominator"] = full["denominator"].astype("Int64").mask(full["den_hidden"])
    for col in ("percent", "ci_low", "ci_high"):
        data[col] = full[col].astype("Float64").mask(hide_est)
    data["flag"] = np.select(
        [
            full["den_hidden"] | (full["hidden"] & ~full["coded"]),
            full["denominator"] < policy.min_denominator,
            full["denominator"] < policy.flag_denominator,
        ],
        [SUPPRESSED, UNRELIABLE, "()"],
        "",
    )
    disp = data[["item", *group_cols]].copy().astype(object)
    disp["answer"] = [
        (cb.get(i) or ItemMeta(str(i))).label_of(a) for i, a in zip(data["item"], data["answer"], strict=True)
    ]
    disp["n"] = data["count"].map(_fmt_count)
    disp["of"] = data["denominator"].map(_fmt_count)
    texts = []
    for p, n_true, hidden, dh, coded, sens, kind in zip(
        full["percent"],
        full["denominator"],
        full["hidden"],
        full["den_hidden"],
        full["coded"],
        full["sensitive"],
        full["kind"],
        strict=True,
    ):
        # "<5 %" coding is for the sensitive answers themselves; a count of "I'd rather not
        # say" shown beside "<5 %" would only contradict it.
        sens = sens and kind == "valid"
        if dh:
            texts.append(SUPPRESSED)
        elif hidden and not coded:
            texts.append(UNRELIABLE if n_true < policy.min_denominator else SUPPRESSED)
        else:
            texts.append(format_percent(p, n_true, policy, sensitive=bool(sens)))
    disp["percent"] = texts
    ci = []
    for lo, hi, hide in zip(data["ci_low"], data["ci_high"], hide_est | full["coded"], strict=True):
        ci.append("" if hide or pd.isna(lo) else f"{lo:.1f}-{hi:.1f}")
    disp["95% CI"] = ci
    any_sens = bool(full["sensitive"].any())
    return ReleasedTable(
        data,
        disp.reset_index(drop=True),
        "frequencies",
        title,
        policy,
        any_sens,
        policy.footnotes(any_sens),
        n_primary,
        n_secondary,
        meta,
        _GATE,
    )


def _disclose_estimates(frame, policy, title, n_column, value_columns, meta, sensitive, count_column=None):
    if n_column not in frame.columns:
        raise DisclosureError(f"an estimates table needs its denominator column {n_column!r}")
    n = pd.to_numeric(frame[n_column])
    values = (
        list(value_columns)
        if value_columns is not None
        else [c for c in frame.columns if c != n_column and pd.api.types.is_numeric_dtype(frame[c])]
    )
    small = n < policy.k
    unreliable = n < policy.min_denominator
    values = [c for c in values if c != count_column]
    small_num = pd.Series(False, index=frame.index)
    if count_column is not None:
        cnum = pd.to_numeric(frame[count_column])
        small_num = (cnum >= 1) & (cnum < policy.k)
    data = frame.copy()
    for col in values:
        data[col] = data[col].astype("Float64").mask(unreliable | small_num)
    if count_column is not None:
        data[count_column] = pd.to_numeric(frame[count_column]).astype("Int64").mask(small_num | small)
    data[n_column] = n.astype("Int64").mask(small)
    data["flag"] = np.select(
        [small | small_num, unreliable, n < policy.flag_denominator], [SUPPRESSED, UNRELIABLE, "()"], ""
    )
    disp = data.astype(object).where(data.notna(), SUPPRESSED)
    for col in values:
        disp[col] = [
            (SUPPRESSED if f == SUPPRESSED else UNRELIABLE if u else (f"({v:.2f})" if f == "()" else f"{v:.2f}"))
            for v, u, f in zip(data[col], unreliable, data["flag"], strict=True)
        ]
    return ReleasedTable(
        data,
        disp,
        "estimates",
        title,
        policy,
        sensitive,
        policy.footnotes(sensitive),
        int((small | small_num).sum()),
        0,
        meta,
        _GATE,
    )
