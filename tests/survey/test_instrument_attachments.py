"""A form waiting for its attachments (issue 19): an XLSForm whose choices come from a CSV or XML
file imports, waits for the file, cannot open without it, takes it from the console (strict
limits, defused XML, cells kept as text), and then the child sees the file's choices, filtered
on the file's columns, and analysis labels the answers from it."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import re
import warnings

import pytest
import sqlalchemy as sa

from instruments import IssueCode, import_xlsform
from instruments.attachments import MAX_ATTACHMENT_BYTES, expected_files
from survey.extensions import db
from survey.models import Answer, InstrumentAttachment, InstrumentVersion
from tests.conftest import sign_in
from tests.factories import new_consultation
from tests.instruments.conftest import workbook_bytes
from tests.survey.test_sync_merge import make_laptop  # noqa: F401 - a fixture

FORM = {
    "survey": [
        ["type", "name", "label", "choice_filter"],
        ["select_one regions", "region", "Which part of the country do you live in?", None],
        ["select_one_from_file towns.csv", "town", "Which town is nearest?", "region = ${region}"],
    ],
    "choices": [["list_name", "name", "label"], ["regions", "north", "North"], ["regions", "south", "South"]],
    "settings": [["form_id", "version", "sauti_language::English (en)"], ["towns-form", "1", "approved"]],
}
TOWNS = (
    "name,label,region\n"
    "kis,Kisumu,north\n"
    "eld,Eldoret,north\n"
    "mom,Mombasa,south\n"
    'hyp,"=HYPERLINK(""http://evil.example"",""Click"")",north\n'
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE root [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b"<root><item><name>a</name><label>&x;</label></item></root>"
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>\n<root><item><name>a</name><label>&lol3;</label></item></root>'
)


def test_a_form_with_choices_from_a_file_imports_and_waits_for_it():
    result = import_xlsform(workbook_bytes(FORM), file_type="xlsx")
    inst = result.instrument
    assert inst.item("town").choices == "towns" and inst.item("town").choice_filter == "region = ${region}"
    assert expected_files(inst) == ("towns.csv",)
    (waiting,) = [i for i in result.issues if i.code is IssueCode.ATTACHMENT_EXPECTED]
    assert "survey sheet, row 3" in waiting.location and "towns.csv" in waiting.message
    assert "upload" in waiting.fix.lower()


def test_search_with_a_simple_filter_becomes_a_choice_filter_on_the_files_columns():
    sheets = {
        "survey": [
            ["type", "name", "label", "appearance"],
            ["text", "kind", "What kind?", None],
            ["select_one fruit", "pick", "Pick one", "minimal search('fruits', 'matches', 'kind', ${kind})"],
        ],
        "choices": [["list_name", "name", "label"], ["fruit", "key", "title"]],
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    item = inst.item("pick")
    assert item.choice_filter == "kind = ${kind}" and item.appearance == "minimal"
    assert expected_files(inst) == ("fruits.csv",) and inst.choice_lists["fruit"] == ()


@pytest.fixture
def admin(app, make_user):
    make_user("ada", "admin")
    client = app.test_client()
    sign_in(client, "ada")
    stored = client.post(
        "/admin/instruments",
        data={"file": (io.BytesIO(workbook_bytes(FORM)), "towns.xlsx")},
        content_type="multipart/form-data",
    )
    assert stored.status_code == 200, stored.get_data(as_text=True)[:500]
    assert "towns.csv" in stored.get_data(as_text=True)  # the report names the file it waits for
    return client


def _record(app) -> InstrumentVersion:
    with app.app_context():
        record = db.session.scalars(sa.select(InstrumentVersion)).one()
        db.session.expunge(record)
        return record


def _upload(client, record_id: int, data: bytes, name: str = "towns.csv"):
    return client.post(
        f"/admin/instruments/{record_id}/files",
        data={"file_name": name, "file": (io.BytesIO(data), "my upload.csv")},
        content_type="multipart/form-data",
    )


def _consultation(app, record: InstrumentVersion) -> int:
    with app.app_context():
        db.session.get(InstrumentVersion, record.id).approved = True
        db.session.commit()
        return new_consultation("Towns", record.instrument_id, record.version, record.content_hash, open_now=False)


def _open(app, consultation_id: int) -> None:
    from survey.models import Consultation
    from survey.services import consultations

    with app.app_context():
        consultations.open_consultation(db.session.get(Consultation, consultation_id), today=dt.date.today(), demo=True)


def test_a_missing_attachment_blocks_opening_with_a_plain_reason(app, admin):
    from survey.models import Consultation
    from survey.services import consultations
    from survey.services.setup import checklist

    record = _record(app)
    files = admin.get(f"/admin/instruments/{record.id}/files").get_data(as_text=True)
    assert "towns.csv" in files and "missing" in files
    consultation_id = _consultation(app, record)
    with app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        with pytest.raises(consultations.OpeningRefused) as refused:
            consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
        (step,) = [s for s in refused.value.steps if s.fix == "attachments"]
        assert "towns.csv" in step.message and "not been uploaded" in step.message
        assert step.target == str(record.id)
        assert any(s.fix == "attachments" for s in checklist(consultation, today=dt.date.today()))
        assert db.session.get(Consultation, consultation_id).state == "draft"
    # the consultation's page shows the step in plain words, linked to the files page
    page = admin.get(f"/facilitate/{consultation_id}/").get_data(as_text=True)
    assert "which has not been uploaded yet" in page and f"/admin/instruments/{record.id}/files" in page


def test_the_uploaded_file_gives_the_child_its_choices_filtered_and_analysis_its_labels(app, admin, issue_codes):
    from survey.models import Consultation
    from survey.services import reporting

    record = _record(app)
    consultation_id = _consultation(app, record)
    assert _upload(admin, record.id, TOWNS.encode()).status_code == 303
    assert "uploaded: 4 rows" in admin.get(f"/admin/instruments/{record.id}/files").get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalars(sa.select(InstrumentAttachment)).one()
        # a cell starting with = is kept as the text it is, never run
        assert json.loads(stored.rows_json)[3]["label"] == '=HYPERLINK("http://evil.example","Click")'
    _open(app, consultation_id)
    child = app.test_client()
    assert child.post("/", data={"code": issue_codes(consultation_id, 1)[0]}).status_code == 302
    assert child.get("/p/age").status_code == 302
    assert child.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"}).status_code == 302
    page = child.get("/p/q/0").get_data(as_text=True)
    token = re.search(r'name="page_token" value="([^"]+)"', page).group(1)
    assert child.post("/p/q/0", data={"q_region": "north", "nav": "next", "page_token": token}).status_code == 302
    town_page = child.get("/p/q/1").get_data(as_text=True)
    assert "Kisumu" in town_page and "Eldoret" in town_page
    assert "Mombasa" not in town_page  # the file's region column filters the choices
    token = re.search(r'name="page_token" value="([^"]+)"', town_page).group(1)
    assert child.post("/p/q/1", data={"q_town": "eld", "nav": "next", "page_token": token}).status_code == 302
    with app.app_context():
        assert ("town", "eld") in {tuple(r) for r in db.session.execute(sa.select(Answer.item, Answer.value))}
        codebook = reporting.codebook_for(db.session.get(Consultation, consultation_id))
        assert codebook["town"].labels["eld"] == "Eldoret"
        body = reporting.download(consultation_id, "codebook", "csv").decode("utf-8")
    assert "Eldoret" in body
    # the label from the file is formula-neutralised in the export
    assert "=HYPERLINK" in body and not re.search(r'(^|,)"?=HYPERLINK', body, re.M)


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (XXE, "towns.xml", "document type or entities"),
        (LAUGHS, "towns.xml", "document type or entities"),
        (b"name,label,region\n" + b"x,X,north\n" * 1 + b"a" * (MAX_ATTACHMENT_BYTES + 10), "towns.csv", "too large"),
        (b"name,label,region\n" + b"".join(b"n%d,N,north\n" % i for i in range(10_001)), "towns.csv", "rows"),
        (b"code,label,region\nk,K,north\n", "towns.csv", "no 'name' column"),
        (b"name,label\nk,K\n", "towns.csv", "'region'"),
        (b"\xff\xfe\x00n\x00a", "towns.csv", "binary data"),
    ],
    ids=["xxe", "billion-laughs", "oversized", "too-many-rows", "no-name-column", "filter-column-missing", "binary"],
)
def test_a_bad_attachment_is_refused_with_a_4xx_and_plain_words(app, admin, data, name, words):
    record = _record(app)
    if name.endswith(".xml"):  # the form reads an XML list here
        sheets = dict(FORM, survey=[FORM["survey"][0], ["select_one_from_file towns.xml", "town", "Town?", None]])
        sheets["settings"] = [["form_id", "version"], ["towns-xml", "1"]]
        admin.post(
            "/admin/instruments",
            data={"file": (io.BytesIO(workbook_bytes(sheets)), "towns-xml.xlsx")},
            content_type="multipart/form-data",
        )
        with app.app_context():
            record_id = db.session.scalar(
                sa.select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "towns-xml")
            )
    else:
        record_id = record.id
    with warnings.catch_warnings():
        # the test client spools a large request body to a temporary file it never closes
        warnings.simplefilter("ignore", ResourceWarning)
        response = _upload(admin, record_id, data, name)
        status, text = response.status_code, response.get_data(as_text=True)
        del response.request
        gc.collect()
    assert 400 <= status < 500, status
    assert words in text.replace("&#39;", "'"), text[text.find("error") - 200 : text.find("error") + 400]
    assert "Traceback" not in text and "root:" not in text  # nothing of /etc/passwd was read
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InstrumentAttachment)) == 0


def test_an_xml_list_in_odks_item_format_is_taken(app, admin):
    record = _record(app)
    xml = (
        b"<root><item><name>kis</name><label>Kisumu</label><region>north</region></item>"
        b"<item><name>mom</name><label>Mombasa</label><region>south</region></item></root>"
    )
    # the form names towns.csv: an XML upload under that name is read as CSV and refused
    assert _upload(admin, record.id, xml).status_code == 400
    from instruments.attachments import read_rows

    assert read_rows(xml, "towns.xml")[1] == {"name": "mom", "label": "Mombasa", "region": "south"}


def test_a_field_package_carries_the_files_so_the_laptop_offers_the_same_choices(app, admin, make_laptop):  # noqa: F811
    """A field laptop runs the consultation offline: the package brings the uploaded files."""
    from survey.models import Consultation
    from survey.services import sync
    from survey.services.instrument_store import instrument_for

    record = _record(app)
    consultation_id = _consultation(app, record)
    assert _upload(admin, record.id, TOWNS.encode()).status_code == 303
    _open(app, consultation_id)
    with app.app_context():
        made = sync.make_package(db.session.get(Consultation, consultation_id), "school-1", cards=1)
    laptop = make_laptop()
    with laptop.app_context():
        package = sync.import_package(made.data, enrol_token=made.enrol_token, fingerprint=made.fingerprint)
        consultation = db.session.get(Consultation, package.consultation_id)
        towns = instrument_for(consultation).choices_for(instrument_for(consultation).item("town"))
        assert [c.name for c in towns] == ["kis", "eld", "mom", "hyp"]
        assert towns[0].extra["region"] == "north"


@pytest.mark.parametrize("form", ["file", "search", "external"])
def test_a_form_waiting_for_its_files_survives_export_and_import_unchanged(form):
    from instruments import export_xlsform

    sheets = {
        "file": FORM,
        "search": {
            "survey": [
                ["type", "name", "label::en", "label::fr", "appearance"],
                ["select_one c1", "q1", "Q1", "Q1 fr", "search('my_file', 'contains', 'kind', 'x')"],
            ],
            "choices": [
                ["list_name", "name", "label::en", "label::fr"],
                ["c1", "id", "en_col", "fr_col"],
                ["c1", "0", "Z", "Z"],
            ],
        },
        "external": {
            "survey": [
                ["type", "name", "label", "calculation"],
                ["csv-external", "places", None, None],
                ["text", "q", "Your town", None],
                ["calculate", "p", None, "pulldata('people', 'age', 'id', ${q})"],
                ["calculate", "r", None, "instance('places')/root/item[name = ${q}]/region"],
            ]
        },
    }[form]
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    again = import_xlsform(buffer.getvalue(), file_type="xlsx").instrument
    # (language names aside: a bare label::fr column names no language)
    assert (again.items, again.choice_lists, again.settings) == (inst.items, inst.choice_lists, inst.settings)
    assert again.settings.attachments


def test_a_file_gives_labels_in_each_language_it_has_a_column_for():
    from instruments.attachments import AttachmentSpec, choices_from, read_rows

    rows = read_rows("name,label,label::Français (fr),region\nkis,Kisumu,Kisoumou,north\n".encode(), "towns.csv")
    (kisumu,) = choices_from(AttachmentSpec("towns.csv"), rows, "en")
    assert dict(kisumu.label) == {"en": "Kisumu", "fr": "Kisoumou"} and dict(kisumu.extra) == {"region": "north"}


# ----------------------------------------------------------------------------- review fixes
def _store_rows(app, record_id: int, rows: list[dict[str, str]]) -> None:
    """A file stored without the upload's checks (as an earlier release or a package could)."""
    import hashlib

    with app.app_context():
        db.session.add(
            InstrumentAttachment(
                instrument_version_id=record_id,
                filename="towns.csv",
                rows_json=json.dumps(rows),
                row_count=len(rows),
                sha256=hashlib.sha256(json.dumps(rows).encode()).hexdigest(),
                uploaded_by="test",
            )
        )
        db.session.commit()


def _opening_steps(app, consultation_id: int) -> list[str]:
    from survey.models import Consultation
    from survey.services import consultations

    with app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        with pytest.raises(consultations.OpeningRefused) as refused:
            consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
        assert db.session.get(Consultation, consultation_id).state == "draft"
        return [s.message for s in refused.value.steps if s.fix == "attachments"]


def test_a_file_uploaded_after_approval_is_validated_with_the_questionnaire(app, admin):
    record = _record(app)
    assert admin.post(f"/admin/instruments/{record.id}/approve").status_code == 303
    consultation_id = _consultation(app, record)
    response = _upload(admin, record.id, b"name,label,region\nc,Call Peter on 0712345678,north\n")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "phone number" in text.lower() and "Traceback" not in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InstrumentAttachment)) == 0
    # a file stored without that check does not reach children: opening validates too
    _store_rows(app, record.id, [{"name": "c", "label": "Call Peter on 0712345678", "region": "north"}])
    (step,) = _opening_steps(app, consultation_id)
    assert "phone number" in step.lower()


def test_a_stored_file_that_cannot_fill_its_list_blocks_opening_every_time(app, admin):
    from survey.models import Consultation
    from survey.services import attachments
    from survey.services.instrument_store import _parse

    record = _record(app)
    consultation_id = _consultation(app, record)
    _store_rows(app, record.id, [{"name": "kis", "label": "Kisumu"}])  # no 'region' column: the filter reads it
    for _ in range(2):  # the second read comes from the cache: still not complete
        with app.app_context():
            stored = db.session.get(InstrumentVersion, record.id)
            instrument, complete = attachments.filled(stored, _parse(stored.content_hash, stored.document))
            assert complete is False and instrument.choice_lists["towns"] == ()
    (step,) = _opening_steps(app, consultation_id)
    assert "region" in step and "Upload it again" in step
    with app.app_context():
        assert db.session.get(Consultation, consultation_id).state == "draft"


def test_file_and_column_names_with_spaces_are_kept_whole():
    from instruments.attachments import fill, read_rows

    sheets = {
        "survey": [["type", "name", "label", "appearance"], ["select_one c1", "q", "Q", "search('my towns')"]],
        "choices": [["list_name", "name", "label"], ["c1", "town id", "town name"]],
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    assert expected_files(inst) == ("my towns.csv",)
    filled = fill(inst, {"my towns.csv": read_rows(b"town id,town name\nk,Kisumu\n", "my towns.csv")})
    assert [(c.name, c.label_for("en", "en")) for c in filled.choice_lists["c1"]] == [("k", "Kisumu")]


def test_a_file_name_longer_than_the_console_keeps_is_refused_at_import():
    from instruments import InstrumentError
    from instruments.attachments import MAX_NAME_LENGTH

    long_name = "a" * (MAX_NAME_LENGTH + 1)
    sheets = {
        "survey": [["type", "name", "label", "appearance"], ["select_one c1", "q", "Q", f"search('{long_name}')"]],
        "choices": [["list_name", "name", "label"], ["c1", "name", "label"]],
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    (issue,) = [i for i in refused.value.issues if "characters" in i.message]
    assert (
        "row 2" in issue.location
        and "appearance" in issue.location
        and str(MAX_NAME_LENGTH) in issue.message
        and "shorter" in issue.fix
    )


def test_export_keeps_a_file_lists_own_choices_and_the_api_exports_the_stored_version(app, admin):
    from instruments import export_xlsform
    from survey.services import api_data

    sheets = dict(FORM, choices=[*FORM["choices"], ["towns", "none", "None of these"]])
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    assert [c.name for c in inst.choice_lists["towns"]] == ["none"]
    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    again = import_xlsform(buffer.getvalue(), file_type="xlsx").instrument
    assert again.choice_lists["towns"] == inst.choice_lists["towns"] and again.content_hash == inst.content_hash
    # an instrument filled from its file exports as the form it came from, too
    from instruments.attachments import fill, read_rows

    rows = read_rows(TOWNS.encode(), "towns.csv")
    full = fill(inst, {"towns.csv": rows})
    assert [c.name for c in full.choice_lists["towns"]] == ["none", "kis", "eld", "mom", "hyp"]
    assert fill(full, {"towns.csv": rows}).choice_lists == full.choice_lists  # filling again adds nothing
    buffer = io.BytesIO()
    export_xlsform(full, buffer)
    again = import_xlsform(buffer.getvalue(), file_type="xlsx").instrument
    assert again.choice_lists["towns"] == inst.choice_lists["towns"] and again.content_hash == inst.content_hash
    # the API's export of a version whose file is uploaded is that version, not the filled lists
    record = _record(app)
    assert _upload(admin, record.id, TOWNS.encode()).status_code == 303
    with app.app_context():
        data, content_hash = api_data.instrument_file(record.instrument_id, record.version, "xlsx")
    exported = import_xlsform(data, file_type="xlsx").instrument
    assert exported.content_hash == content_hash == record.content_hash
    assert exported.choice_lists["towns"] == ()


def test_a_lookup_file_may_repeat_its_name_column():
    from instruments import validate
    from instruments.attachments import fill, read_rows

    sheets = {
        "survey": [
            ["type", "name", "label", "calculation"],
            ["csv-external", "places", None, None],
            ["text", "q", "Your town", None],
            ["calculate", "p", None, "pulldata('people', 'age', 'id', ${q})"],
            ["calculate", "r", None, "instance('places')/root/item[name = ${q}]/region"],
        ]
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    filled = fill(
        inst,
        {
            "places.csv": read_rows(b"name,region\nnbo,central\nnbo,east\n", "places.csv"),
            "people.csv": read_rows(b"id,name,age\n1,Amina,12\n2,Amina,13\n", "people.csv"),
        },
    )
    assert len(filled.choice_lists["places"]) == 2
    assert not validate(filled).errors


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"name,label,region\na,A,north\nb,,north\n", "towns.csv"),
        (b"<root><item><name>a</name><label></label><region>north</region></item></root>", "towns.xml"),
        (
            b"<root><item><name>a</name><label>A</label></item><item><name>b</name><region>n</region></item></root>",
            "towns.xml",
        ),
    ],
    ids=["csv-empty", "xml-empty", "xml-no-label"],
)
def test_a_choice_without_a_label_is_refused_with_its_row(data, name):
    from instruments.attachments import AttachmentError, AttachmentSpec, choices_from, read_rows

    with pytest.raises(AttachmentError) as refused:
        choices_from(AttachmentSpec(name), read_rows(data, name), "en")
    assert "no label" in str(refused.value) and ("Row 3" in str(refused.value) or name.endswith(".xml"))


def test_an_xml_label_with_markup_inside_keeps_all_its_text():
    from instruments.attachments import read_rows

    rows = read_rows(b"<root><item><name>a</name><label>A <b>bold</b> tail</label></item></root>", "t.xml")
    assert rows[0]["label"] == "A bold tail"


def test_a_list_too_long_for_one_page_is_refused_on_upload_and_at_opening(app, admin):
    from instruments.attachments import MAX_SHOWN_CHOICES

    record = _record(app)
    consultation_id = _consultation(app, record)
    over = MAX_SHOWN_CHOICES + 1

    def word(i: int) -> str:  # labels in letters: digits could look like a phone number
        return "".join(chr(97 + int(d)) for d in str(i))

    big = "name,label,region\n" + "".join(f"t{i},Town {word(i)},north\n" for i in range(over))
    response = _upload(admin, record.id, big.encode())
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"{over:,} choices" in text and "choice filter" in text
    # the same number of towns split over two regions: the filter shows at most half on a page
    split = "name,label,region\n" + "".join(
        f"t{i},Town {word(i)},{'north' if i % 2 else 'south'}\n" for i in range(over)
    )
    assert _upload(admin, record.id, split.encode()).status_code == 303
    with app.app_context():
        db.session.execute(sa.delete(InstrumentAttachment))
        db.session.commit()
    _store_rows(app, record.id, [{"name": f"t{i}", "label": f"Town {word(i)}", "region": "north"} for i in range(over)])
    (step,) = _opening_steps(app, consultation_id)
    assert f"{over:,} choices" in step


def _approve_english(app, record_id: int) -> None:
    """An approval step recorded for the questionnaire as it reads now (the review's record)."""
    from survey.models import TranslationStep
    from survey.services import translations
    from survey.services.instrument_store import instrument_for_version

    with app.app_context():
        instrument = instrument_for_version(db.session.get(InstrumentVersion, record_id))
        subject = translations.questionnaire_subject(instrument)
        db.session.add(
            TranslationStep(
                subject=subject,
                language="en",
                content_hash=instrument.content_hash,
                state="approved",
                by="R",
                note="",
                demo_only=False,
            )
        )
        db.session.commit()


def test_the_files_page_says_when_a_file_undoes_the_language_approvals(app, admin):
    record = _record(app)
    _approve_english(app, record.id)
    assert _upload(admin, record.id, TOWNS.encode()).status_code == 303
    page = admin.get(f"/admin/instruments/{record.id}/files").get_data(as_text=True)
    assert "approvals of its languages" in page and "approve it again" in page
    # the same file again changes nothing: no such message
    _approve_english(app, record.id)
    assert _upload(admin, record.id, TOWNS.encode()).status_code == 303
    assert "approve it again" not in admin.get(f"/admin/instruments/{record.id}/files").get_data(as_text=True)
