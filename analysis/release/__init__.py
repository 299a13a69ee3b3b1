"""Releases: the frozen, protected set of tables a programme team may see (issue 15).

A *release* is built once from the answers (:func:`build_release`), checked against every
earlier release of the same consultation, and then stored (as the JSON :func:`build_release`
returns). Pages, reports, feedback sheets and exports show a release, never the live answers,
so asking again does not reveal the child who finished a minute ago.

What a release holds, and the rules that make it safe by construction
---------------------------------------------------------------------
* **Participation**: the number of children, and children by age group, gender and site.
  A breakdown is published only when every group is 0 or at least ``k`` children (small
  age groups are merged with their neighbours, small sites into "other sites", rare gender
  answers into one group); otherwise it is left out, never shown with holes.
* **One headline row per question**, over every child the question was meant for (all age
  groups together): one cell per answer plus "no answer" (skipped, "rather not say",
  "don't know", or not shown), summing to the number of children asked. Small categories
  are merged first (adjacent answers of a scale: "Very hard or hard"; rare answers of a
  list: "Other answers"); what is still small is hidden together with at least one other
  cell of the row, so no hidden cell follows from the total.
* **Breakdowns** (age group, gender, site) of a question only when its headline row has
  no hidden cell and *every* cell of the breakdown is 0 or at least ``k``: nothing in a
  breakdown is hidden, so nothing can be worked out from it.
* **Every other number is derived from these cells**: percentages (whole numbers, of the
  children asked, shown only from ``min_denominator`` children), the plain-language
  headline ("About 7 in 10 children ..."), "% first" of ranked questions, and the tests of
  the published breakdowns (computed from the published cells themselves).

Checks against the ledger (A13): a release is refused while fewer than ``k`` new children
have finished since the last one, and a table whose population changed by 1 to k-1 children
since an earlier release is withheld (a question keeps its last published numbers). Inside the
release, :class:`~analysis.disclosure.DifferencingGuard` leaves out any table whose group is
nested in another published group and differs from it by 1 to k-1 children. Then
:func:`intruder_audit` (integer programming over this release and every earlier one,
assuming counts only grow between releases) looks for any hidden cell it can pin to one value;
such cells and a partner are hidden too, until nothing is pinned.

Examples
--------
>>> from analysis.frames import ItemMeta
>>> from analysis.release_rules import ReleaseRules
>>> from analysis.synthetic import skewed_from_codebook
>>> cb = {"q1": ItemMeta("q1", "single", ("yes", "no"), label="Have you heard of it?")}
>>> long = skewed_from_codebook(cb, 30, seed=1, bands=("B",))
>>> rel = build_release(long, cb, ReleaseRules())
>>> rel["n"], rel["items"][0]["headline"]["tenths"] > 0
(30, True)
>>> intruder_audit([rel])
[]
"""

from __future__ import annotations

from analysis.release.build import (
    _breakdown_json as _breakdown_json,
)
from analysis.release.build import (
    _funnel as _funnel,
)
from analysis.release.build import (
    _item_release as _item_release,
)
from analysis.release.build import (
    _single_breakdown as _single_breakdown,
)
from analysis.release.build import (
    _test_of as _test_of,
)
from analysis.release.build import (
    build_release as build_release,
)
from analysis.release.cells import (
    _GENDER_MAIN as _GENDER_MAIN,
)
from analysis.release.cells import (
    DIM_LABELS as DIM_LABELS,
)
from analysis.release.cells import (
    DIMENSIONS as DIMENSIONS,
)
from analysis.release.cells import (
    FORMAT_VERSION as FORMAT_VERSION,
)
from analysis.release.cells import (
    MISSING as MISSING,
)
from analysis.release.cells import (
    NONE as NONE,
)
from analysis.release.cells import (
    ReleaseRefused as ReleaseRefused,
)
from analysis.release.cells import (
    _cell_json as _cell_json,
)
from analysis.release.cells import (
    _coded as _coded,
)
from analysis.release.cells import (
    _complete_hiding as _complete_hiding,
)
from analysis.release.cells import (
    _dim_values as _dim_values,
)
from analysis.release.cells import (
    _dimension_groups as _dimension_groups,
)
from analysis.release.cells import (
    _group_label as _group_label,
)
from analysis.release.cells import (
    _group_label_of as _group_label_of,
)
from analysis.release.cells import (
    _headline as _headline,
)
from analysis.release.cells import (
    _item_vectors as _item_vectors,
)
from analysis.release.cells import (
    _merge_adjacent as _merge_adjacent,
)
from analysis.release.cells import (
    _single_columns as _single_columns,
)
from analysis.release.cells import (
    _small as _small,
)
from analysis.release.cells import (
    headline_share as headline_share,
)
from analysis.release.intruder import (
    _atoms as _atoms,
)
from analysis.release.intruder import (
    _audit_item as _audit_item,
)
from analysis.release.intruder import (
    _finish as _finish,
)
from analysis.release.intruder import (
    _Infeasible as _Infeasible,
)
from analysis.release.intruder import (
    _match as _match,
)
from analysis.release.intruder import (
    _protect_pinned as _protect_pinned,
)
from analysis.release.intruder import (
    intruder_audit as intruder_audit,
)
from analysis.release.ledger import (
    _difference_checks as _difference_checks,
)
from analysis.release.ledger import (
    _hide_item as _hide_item,
)
from analysis.release.ledger import (
    _nested_population_checks as _nested_population_checks,
)
from analysis.release.ledger import (
    _pkey as _pkey,
)
from analysis.release.ledger import (
    _population_sizes as _population_sizes,
)
from analysis.release.wording import (
    cell_text as cell_text,
)
from analysis.release.wording import (
    headline_text as headline_text,
)
from analysis.release.wording import (
    items_with_headline as items_with_headline,
)
from analysis.release.wording import (
    release_to_report as release_to_report,
)
from analysis.release.wording import (
    share_words as share_words,
)
from analysis.release.wording import (
    test_rows as test_rows,
)

__all__ = [
    "NONE",
    "ReleaseRefused",
    "build_release",
    "headline_share",
    "intruder_audit",
    "items_with_headline",
]
