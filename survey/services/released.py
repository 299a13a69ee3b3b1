"""What a release publishes, and how its cells read: shared by reporting, releases and programme.

The deployment's release rules (:func:`rules`, :func:`policy`), the ledger's stored releases
(:func:`latest`, :func:`content_of`), the participation funnel through the disclosure gate, and
the wording of a released cell in the reader's language.  The three
services import this module and it imports none of them, so none of them imports another in a
circle (``lint-imports`` and the layers contract in pyproject.toml keep it so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from analysis.disclosure import DisclosurePolicy
from analysis.frames import ItemMeta, codebook_from_instrument
from analysis.release_rules import ReleaseRules, rules_from_config
from survey.extensions import db
from survey.models import Consultation, Participant, Release
from survey.services.placeholders import instrument_for_children
from survey.states import State

#: States a child reaches only after saying Yes (withdrawal comes after assent).
ASSENTED_STATES = (State.ASSENTED, State.ANSWERING, State.COMPLETED, State.WITHDRAWN)


def rules() -> ReleaseRules:
    """The deployment's release rules (checked once when the app started)."""
    found = current_app.extensions.get("sauti_release_rules")
    return found if found is not None else rules_from_config(current_app.config)


def policy() -> DisclosurePolicy:
    """The table gate's policy from the deployment's release rules (:mod:`analysis.release_rules`)."""
    return rules().policy()


def ledger(consultation_id: int) -> list[Release]:
    """Every release of a consultation, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Release).where(Release.consultation_id == consultation_id).order_by(Release.number)
        )
    )


def latest(consultation_id: int) -> Release | None:
    """The consultation's newest release, if it has one."""
    return db.session.scalar(
        sa.select(Release).where(Release.consultation_id == consultation_id).order_by(Release.number.desc()).limit(1)
    )


def content_of(release: Release) -> dict[str, Any]:
    """What a release published (its stored JSON)."""
    content: dict[str, Any] = json.loads(release.content)
    return content


def funnel_counts(consultation_id: int) -> dict[str, int]:
    """Cards issued, assented, completed, withdrawn, declined: true counts (released: `progress.funnel`)."""
    rows: dict[str, int] = dict(
        db.session.execute(
            sa.select(Participant.state, sa.func.count())
            .where(Participant.consultation_id == consultation_id)
            .group_by(Participant.state)
        ).all()
    )
    return {
        "issued": sum(rows.values()),
        "assented": sum(rows.get(s, 0) for s in ASSENTED_STATES),
        "completed": rows.get("completed", 0),
        "withdrawn": rows.get("withdrawn", 0),
        "declined": rows.get("declined", 0),
    }


def local_codebook(consultation: Consultation, language: str) -> dict[str, ItemMeta]:
    """The instrument's wording in ``language`` ({} if it cannot be read: the release's English stays)."""
    try:
        return codebook_from_instrument(instrument_for_children(consultation), language)
    except Exception:  # noqa: BLE001 - wording only: the release's own English labels stay
        return {}


def cell_label(cell: Mapping[str, Any], meta: ItemMeta | None) -> str:
    """How a released cell reads: its answer's label, or the merged answers it stands for."""
    from analysis.release import NONE  # the release builder (SciPy) loads when a release is read

    codes = list(cell["codes"])
    if codes == [NONE]:
        return _("No answer")
    if cell.get("other") or str(cell["label"]).startswith("Other answers"):
        return _("Other answers or no answer") if NONE in codes else _("Other answers")
    if meta is None or any(c not in meta.choices and c not in meta.labels for c in codes):
        return str(cell["label"])
    if len(codes) == 1:
        return meta.label_of(codes[0])
    first, last = meta.label_of(codes[0]), meta.label_of(codes[-1])
    if len(codes) == 2:
        return _("%(first)s or %(second)s", first=first, second=last)
    return _("%(first)s to %(last)s", first=first, last=last)


def meta_for(local: Mapping[str, ItemMeta], item: str) -> ItemMeta | None:
    """An item's metadata; a per-band item (``name[B]``) reads as its base item."""
    return local.get(item) or local.get(item.split("[")[0])
