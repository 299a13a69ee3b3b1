"""The one disclosure-control gate (A-01, A-02, A11, A12).

Everything that leaves the analysis package -- tables, charts, exports, feedback sheets --
is built from a :class:`ReleasedTable`, and only :func:`disclose` can make one. Charts,
reports and exports refuse anything else (``TypeError``).

Rules applied by :func:`disclose` (all configurable in :class:`DisclosurePolicy`):

* primary suppression of counts 1 .. k-1 (k = 10 by default, never below 5); 0 is shown;
* secondary (complementary) suppression so that no suppressed cell can be worked out from
  the published row and column totals: a suppressed cell is determined exactly when it is a
  *bridge* in the bipartite graph of suppressed cells over the table's row and column
  constraints, so cells are added until no bridge is left (cheapest 4-cycle first);
* sensitive items: a share under 5 % or over 95 % is shown as "<5 %" / ">95 %" and its count
  is suppressed;
* reliability (MICS convention): an estimate with a denominator under 25 is not shown
  ("*"), 25-49 is shown in parentheses.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"yes": [40, 3, 25], "no": [30, 20, 2]}, index=["A", "B", "C"])
>>> rel = disclose(t, title="Heard of the helpline, by band")
>>> rel.display
      yes  no Total
A      40  30    70
B       s   s    23
C       s   s    27
Total  68  52   120
>>> rel.n_primary, rel.n_secondary
(2, 2)
"""

from __future__ import annotations

from analysis.disclosure.differencing import (
    DifferencingGuard as DifferencingGuard,
)
from analysis.disclosure.differencing import (
    released_from_release as released_from_release,
)
from analysis.disclosure.gate import (
    _disclose_counts as _disclose_counts,
)
from analysis.disclosure.gate import (
    _disclose_estimates as _disclose_estimates,
)
from analysis.disclosure.gate import (
    _disclose_frequencies as _disclose_frequencies,
)
from analysis.disclosure.gate import (
    disclose as disclose,
)
from analysis.disclosure.policy import (
    _GATE as _GATE,
)
from analysis.disclosure.policy import (
    FOOTNOTES as FOOTNOTES,
)
from analysis.disclosure.policy import (
    SUPPRESSED as SUPPRESSED,
)
from analysis.disclosure.policy import (
    UNRELIABLE as UNRELIABLE,
)
from analysis.disclosure.policy import (
    DisclosureError as DisclosureError,
)
from analysis.disclosure.policy import (
    DisclosurePolicy as DisclosurePolicy,
)
from analysis.disclosure.policy import (
    ReleasedTable as ReleasedTable,
)
from analysis.disclosure.policy import (
    _fmt_count as _fmt_count,
)
from analysis.disclosure.policy import (
    format_percent as format_percent,
)
from analysis.disclosure.policy import (
    require_released as require_released,
)
from analysis.disclosure.suppression import (
    _bridges as _bridges,
)
from analysis.disclosure.suppression import (
    _close_cycles as _close_cycles,
)
from analysis.disclosure.suppression import (
    _primary as _primary,
)
from analysis.disclosure.suppression import (
    _with_margins as _with_margins,
)
from analysis.disclosure.suppression import (
    secondary_suppression as secondary_suppression,
)
from analysis.disclosure.suppression import (
    suppression_intervals as suppression_intervals,
)

__all__ = [
    "MIN_K",
    "SUPPRESSED",
    "DifferencingGuard",
    "DisclosureError",
    "DisclosurePolicy",
    "ReleasedTable",
    "disclose",
    "format_percent",
    "released_from_release",
    "require_released",
    "secondary_suppression",
]
