"""Administrators upload an XLSForm, read its report, and approve the version."""

from __future__ import annotations

import io

import sqlalchemy as sa

from survey.extensions import db
from survey.models import InstrumentVersion
from tests.conftest import sign_in

GOOD = """
| survey |               |       |                          |
|        | type          | name  | label                    |
|        | select_one yn | q1    | Would you tell a friend? |
|        | text          | q2    | What would help?         |
| choices |           |      |       |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
| settings |           |         |
|          | form_id   | version |
|          | upload-ok | 3       |
"""

BROKEN = """
| survey |                 |      |       |
|        | type            | name | label |
|        | select_one nope | q1   | Pick  |
| choices |           |      |       |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
"""


def _upload(client, text: str, name: str = "form.md"):
    return client.post(
        "/admin/instruments", data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data"
    )


def test_upload_report_and_approval(app, make_user) -> None:
    make_user("ada", "admin")
    admin = app.test_client()
    sign_in(admin, "ada")
    stored = _upload(admin, GOOD)
    assert stored.status_code == 200 and "upload-ok" in stored.get_data(as_text=True)
    with app.app_context():
        record = db.session.scalars(sa.select(InstrumentVersion)).one()
        assert not record.approved
    assert admin.post(f"/admin/instruments/{record.id}/approve").status_code == 303
    with app.app_context():
        assert db.session.get(InstrumentVersion, record.id).approved


def test_bad_uploads_get_clear_messages(app, make_user) -> None:
    make_user("ada", "admin")
    admin = app.test_client()
    sign_in(admin, "ada")
    broken = _upload(admin, BROKEN)
    assert broken.status_code == 400 and "nope" in broken.get_data(as_text=True)
    wrong_type = _upload(admin, "MZ\\x90\\x00 binary", name="virus.exe")
    assert wrong_type.status_code == 400 and "XLSForm or a Sauti YAML" in wrong_type.get_data(as_text=True)
    garbage = _upload(admin, "\\x00\\x01 not a workbook", name="form.xlsx")
    assert garbage.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InstrumentVersion)) == 0


def test_only_admins_upload(world) -> None:
    assert world.clients["facilitator"].get("/admin/instruments").status_code == 403
