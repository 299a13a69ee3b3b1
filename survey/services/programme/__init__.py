"""Programme records of a consultation, and the overview across consultations (issue 6 item 5).

What the programme team records about a consultation: the Lundy process checklist and the
General Comment 12 self-assessment (P-06), the influence log (P-03), the feedback tracker
(P-04) and the child-friendly feedback sheets with their sign-off (A-05).  None of it is about
what a child said; every change is written to the audit log in the same transaction.

The records feed the programme report through :func:`report_inputs`; the feedback sheet's
"What you told us" is computed here from the latest release (:mod:`survey.services.releases`): published cells only.
Two parts: :mod:`~survey.services.programme.records` and :mod:`~survey.services.programme.sheets`.
"""

from __future__ import annotations

from survey.services.programme.records import (
    CHECKLISTS as CHECKLISTS,
)
from survey.services.programme.records import (
    DECISIONS as DECISIONS,
)
from survey.services.programme.records import (
    GC12_REQUIREMENTS as GC12_REQUIREMENTS,
)
from survey.services.programme.records import (
    LUNDY_QUESTIONS as LUNDY_QUESTIONS,
)
from survey.services.programme.records import (
    MAX_TEXT as MAX_TEXT,
)
from survey.services.programme.records import (
    NEEDS_REASON as NEEDS_REASON,
)
from survey.services.programme.records import (
    STATUSES as STATUSES,
)
from survey.services.programme.records import (
    OverviewRow as OverviewRow,
)
from survey.services.programme.records import (
    ProgrammeError as ProgrammeError,
)
from survey.services.programme.records import (
    _actor_name as _actor_name,
)
from survey.services.programme.records import (
    _influence_values as _influence_values,
)
from survey.services.programme.records import (
    _text as _text,
)
from survey.services.programme.records import (
    add_influence as add_influence,
)
from survey.services.programme.records import (
    checklist_answers as checklist_answers,
)
from survey.services.programme.records import (
    closed_on as closed_on,
)
from survey.services.programme.records import (
    delete_influence as delete_influence,
)
from survey.services.programme.records import (
    feedback_overdue as feedback_overdue,
)
from survey.services.programme.records import (
    incomplete_checklists as incomplete_checklists,
)
from survey.services.programme.records import (
    influence_counts as influence_counts,
)
from survey.services.programme.records import (
    influence_entries as influence_entries,
)
from survey.services.programme.records import (
    overview as overview,
)
from survey.services.programme.records import (
    question_label as question_label,
)
from survey.services.programme.records import (
    report_inputs as report_inputs,
)
from survey.services.programme.records import (
    save_checklist as save_checklist,
)
from survey.services.programme.records import (
    save_tracker as save_tracker,
)
from survey.services.programme.records import (
    update_influence as update_influence,
)
from survey.services.programme.records import (
    visible_consultations as visible_consultations,
)
from survey.services.programme.sheets import (
    _helplines as _helplines,
)
from survey.services.programme.sheets import (
    _lines as _lines,
)
from survey.services.programme.sheets import (
    build_sheet as build_sheet,
)
from survey.services.programme.sheets import (
    cant_change_pairs as cant_change_pairs,
)
from survey.services.programme.sheets import (
    release_sheet as release_sheet,
)
from survey.services.programme.sheets import (
    save_sheet as save_sheet,
)
from survey.services.programme.sheets import (
    sheet_pdf as sheet_pdf,
)
from survey.services.programme.sheets import (
    sheet_record as sheet_record,
)
from survey.services.programme.sheets import (
    sheet_records as sheet_records,
)
from survey.services.programme.sheets import (
    told_us as told_us,
)
