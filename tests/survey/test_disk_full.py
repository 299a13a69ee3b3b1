"""A full disk: the child's page comes back with their answers and "please try again" (503), no
acknowledged answer is lost, and saving works again once there is space, without a restart.

The SQLite database lives on a 2 MB tmpfs mounted for the test (needs root, as CI runs), then
filled up with a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.survey.test_journey import _assent, _post_page, _token

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="mounts a small tmpfs (root) under the SQLite database",
)


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 4096)


def _answers(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Answer.item, Answer.value)).all())


def test_a_full_disk_reshows_the_page_with_the_answers_and_loses_nothing(make_app, test_database, small_disk) -> None:
    database = small_disk / "sauti.sqlite"
    shutil.copy(test_database.template, database)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    with app.app_context():
        from survey.models import Consultation
        from survey.services import participants

        consultation_id = _open_consultation(app)
        code = participants.issue_codes(db.session.get(Consultation, consultation_id), 1)[0].code
    child = app.test_client()
    assert child.post("/", data={"code": code}).status_code == 302
    _assent(child)
    assert _post_page(child, 0, {"q_who": "friend"}).status_code == 302  # acknowledged
    page = child.get("/p/q/1").get_data(as_text=True)

    _fill(small_disk)
    response = child.post("/p/q/1", data={"q_ways": ["phone", "chat"], "page_token": _token(page), "nav": "next"})
    assert response.status_code == 503  # the old code: 500, "Go back to the start", the page lost
    html = response.get_data(as_text=True)
    assert "could not be saved just now" in html
    for value in ("phone", "chat"):  # what the child ticked is still ticked
        assert re.search(rf'value="{value}"[^>]*checked|checked[^>]*value="{value}"', html), value
    assert _answers(app) == {"who": "friend"}  # the acknowledged answer is there, nothing half-saved

    os.remove(small_disk / "filler")  # space again: the same press of the button goes through
    again = child.post("/p/q/1", data={"q_ways": ["phone", "chat"], "page_token": _token(html), "nav": "next"})
    assert again.status_code == 302
    assert _answers(app)["who"] == "friend" and set(json.loads(_answers(app)["ways"])) == {"phone", "chat"}


def _open_consultation(app) -> int:
    """An open, unfacilitated consultation on the test instrument, in ``app``'s database."""
    import datetime as dt

    from survey.services import consultations, instrument_store
    from tests.factories import make_test_instrument

    instrument = make_test_instrument()
    instrument_store.store(instrument, approved=True)
    consultation = consultations.create_consultation(
        title="Small disk",
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_hash=instrument.content_hash,
        languages=["en"],
        age_bands=["A", "B", "C"],
        facilitated=False,
        country_profile="example-uk",
        details={
            "organisation": "Test organisation",
            "contact": "the test team",
            "independent_contact": "the ethics board",
            "audience": "the county council",
            "ethics_reference": "REC-TEST-1",
            "influence_scope": "how help works",
            "feedback_due": dt.date(2027, 3, 1),
            "analysis_cutoff": dt.date(2027, 1, 31),
        },
    )
    consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
    return consultation.id
