"""Completed children answering the bundled consultation, written straight to the database.

Used by the release tests and ``bench/results_page.py``: realistically skewed answers
(:func:`analysis.synthetic.skewed_from_codebook`) stored as the journey stores them (a bare
code, a JSON list for select-multiple and rank, a JSON object for a matrix), without going
through the child pages (which tests/survey/test_journey.py covers).
"""

from __future__ import annotations

import json
import secrets
import uuid

import numpy as np
import sqlalchemy as sa


def bundled_consultation(title: str = "Class consultation", bands=("A", "B", "C")) -> int:
    """A consultation on the bundled instrument (call inside an app context)."""
    from instruments.bundled import load_bundled
    from survey.services import consultations, instrument_store

    instrument = load_bundled()
    instrument_store.store(instrument, approved=True)
    consultation = consultations.create_consultation(
        title=title,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_hash=instrument.content_hash,
        languages=["en", "fr"],
        age_bands=list(bands),
        facilitated=True,
        country_profile="example-uk",
        details={"organisation": "Test organisation", "contact": "the team"},
    )
    return consultation.id


def seed_completed(
    consultation_id: int, n: int, *, seed: int = 3, bands=("B",), n_sites: int = 1, start: int = 0
) -> None:
    """Add ``n`` completed children (ids ``start+1 .. start+n`` of the synthetic draw of ``start+n``).

    With the same seed, the first children of a larger draw are not the same as a smaller draw's;
    each call draws ``start + n`` children and stores only the last ``n``.
    """
    from analysis.frames import codebook_from_instrument
    from analysis.synthetic import skewed_from_codebook
    from survey.extensions import db
    from survey.models import Answer, Consultation, Participant
    from survey.services.instrument_store import instrument_for

    consultation = db.session.get(Consultation, consultation_id)
    instrument = instrument_for(consultation)
    cb = codebook_from_instrument(instrument)
    long = skewed_from_codebook(cb, start + n, seed=seed, bands=tuple(bands), n_sites=n_sites)
    long = long[long["response_id"] > start]
    kinds = {it.name: str(getattr(it.type, "value", it.type)) for it in instrument.items}
    matrix_rows = {}
    for it in instrument.items:
        if kinds[it.name] == "matrix":
            for row in instrument.rows_for(it):
                matrix_rows[f"{it.name}_{row.name}"] = (it.name, row.name)
    rids = sorted(long["response_id"].unique())
    pid = {r: str(uuid.uuid4()) for r in rids}
    band_of = long.drop_duplicates("response_id").set_index("response_id")["band"].astype(str)
    db.session.execute(
        sa.insert(Participant),
        [
            {
                "id": pid[r],
                "consultation_id": consultation_id,
                "code_hash": secrets.token_hex(32),
                "state": "completed",
                "band": band_of[r],
                "language": "en",
            }
            for r in rids
        ],
    )
    values: dict[tuple[str, str], object] = {}
    frame = long[["response_id", "item", "answer", "rank"]].astype({"item": str, "answer": str})
    frame = frame.sort_values(["response_id", "item", "rank"], na_position="last")
    for r, item, answer, _rank in frame.itertuples(index=False):
        p = pid[r]
        if item in matrix_rows:
            base, row = matrix_rows[item]
            values.setdefault((p, base), {})[row] = answer
        elif kinds.get(item) in ("select_multiple", "rank"):
            values.setdefault((p, item), []).append(answer)
        else:
            values[(p, item)] = answer
    rows = [
        {
            "id": str(uuid.uuid4()),
            "participant_id": p,
            "item": item,
            "value": v if isinstance(v, str) else json.dumps(v),
        }
        for (p, item), v in values.items()
    ]
    for chunk in np.array_split(np.arange(len(rows)), max(1, len(rows) // 20000)):
        db.session.execute(sa.insert(Answer), [rows[i] for i in chunk])
    db.session.commit()
