"""The release ledger: frozen, checked releases of a consultation's results (issue 15).

An analyst makes a release (the results page's button, or ``sauti release make``), and closing
a consultation makes one automatically.  :func:`make_release` reads the completed answers once,
builds the protected tables with :func:`analysis.release.build_release` (checked against every
earlier release of the consultation: the differencing rules and the intruder audit), and stores
them in the ledger (:class:`survey.models.Release` and one :class:`survey.models.ReleaseTable`
per published table).  Everything an analyst sees afterwards -- the results page, the report
downloads, the feedback sheets -- is read from a stored release, never from the live answers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa

from analysis.release import ReleaseRefused, build_release
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, Release, ReleaseTable, User
from survey.services import audit
from survey.services.released import content_of as content_of
from survey.services.released import latest as latest
from survey.services.released import ledger as ledger
from survey.services.released import rules as rules

log = logging.getLogger("sauti.releases")


class ReleaseFailed(RuntimeError):
    """The release could not be built; nothing was stored (the error is logged)."""


__all__ = [
    "ReleaseFailed",
    "ReleaseRefused",
    "content_of",
    "latest",
    "ledger",
    "make_release",
    "release_on_close",
    "rules",
]


def _tables(content: dict[str, Any]) -> list[dict[str, Any]]:
    """One ledger row per published table (key, title, population, n, cells)."""
    out = []
    for tab in content["participation"]:
        out.append(
            {
                "key": f"participation:{tab['dim']}",
                "title": tab["title"],
                "population": {},
                "n": content["n"],
                "cells": tab["rows"],
            }
        )
    for it in content["items"]:
        out.append(
            {
                "key": f"item:{it['item']}",
                "title": it["question"],
                "population": it["population"],
                "n": it["total"],
                "cells": it["cells"],
            }
        )
        for bd in it["breakdowns"]:
            out.append(
                {
                    "key": f"item:{it['item']}:by:{bd['dim']}",
                    "title": it["question"],
                    "population": it["population"],
                    "n": it["total"],
                    "cells": bd["rows"],
                }
            )
    return out


def make_release(
    consultation: Consultation, actor: User | None, *, reason: str = "analyst", audience: str = "programme team"
) -> Release:
    """Build, check and store a new release.  Raises :class:`ReleaseRefused` (nothing stored)."""
    from survey.services import reporting
    from survey.services.instrument_store import instrument_for

    pol = rules()
    previous = [content_of(r) for r in ledger(consultation.id)]
    completed = reporting.funnel_counts(consultation.id)["completed"]
    if completed < pol.k:
        # Not the count itself: below the threshold it is a small count, which every page shows
        # only as "s" (and this message reaches the server's log, the facilitator's screen).
        raise ReleaseRefused(f"Fewer than {pol.k} children have finished; at least {pol.k} are needed for a release.")
    long, cb = reporting.long_frame(consultation)
    bands = tuple(instrument_for(consultation).settings.band_codes)
    funnel = reporting._report_funnel(consultation.id)
    db.session.commit()  # end the read before the analysis (see reporting.programme_view)
    try:
        content = build_release(long, cb, pol, funnel=funnel, previous=previous, bands=bands)
    except ReleaseRefused:
        raise
    except (TypeError, ValueError, ArithmeticError, KeyError) as error:
        # Fail closed: nothing half-protected is stored or shown.
        log.exception("the release could not be built", extra={"consultation": consultation.id})
        raise ReleaseFailed(str(error)) from error
    with write_transaction() as session:
        number = (
            session.scalar(sa.select(sa.func.max(Release.number)).where(Release.consultation_id == consultation.id))
            or 0
        ) + 1
        release = Release(
            consultation_id=consultation.id,
            number=number,
            made_by=actor.username if actor is not None else "",
            audience=audience[:120],
            reason=reason[:20],
            n_children=int(content["n"]),
            rules=json.dumps(pol.as_dict()),
            content=json.dumps(content, separators=(",", ":")),
        )
        for tab in _tables(content):
            release.tables.append(
                ReleaseTable(
                    key=tab["key"][:200],
                    title=tab["title"],
                    population=json.dumps(tab["population"]),
                    n=int(tab["n"]),
                    cells=json.dumps(tab["cells"], separators=(",", ":")),
                )
            )
        session.add(release)
        audit.record(actor, "release.make", f"consultation:{consultation.id} release:{number} {reason}")
    return release


def release_on_close(consultation: Consultation, actor: User | None) -> Release | None:
    """The automatic release when a consultation closes (none if too few children or too few new)."""
    try:
        return make_release(consultation, actor, reason="closed")
    except ReleaseRefused as refused:
        log.info("no release on close: %s", refused, extra={"consultation": consultation.id})
        return None
