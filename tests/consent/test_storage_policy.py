"""What may be stored: forbidden columns in a fake schema, date coarsening, age bands."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from consent.bands import DEFAULT_BANDS, Band, band_by_code, validate_bands
from consent.storage_policy import (
    FieldKind,
    age_to_band,
    classify_field,
    coarsen_to_date,
    forbidden_columns,
    join_paths,
    normalize_station_label,
    site_code_problem,
)

# A fake schema, as the app's test would build it from SQLAlchemy metadata:
# {table: [(column name, type(col.type).__name__)]}
CLEAN = {
    "responses": [
        ("id", "Uuid"),
        ("consultation_id", "Integer"),
        ("band", "String"),
        ("language", "String"),
        ("state", "String"),
        ("started_on", "Date"),
        ("assent_text_id", "String"),
        ("withdrawal_code_hash", "String"),
    ],
    "answers": [
        ("id", "Uuid"),
        ("response_id", "Uuid"),
        ("item", "String"),
        ("value", "Text"),
        ("reserved_code", "String"),
    ],
    "cards": [
        ("id", "Integer"),
        ("code_hash", "String"),
        ("card_state", "String"),
        ("station_label", "String"),
        ("site_code", "String"),
    ],
    "consent_events": [
        ("id", "Uuid"),
        ("text_id", "String"),
        ("text_hash", "String"),
        ("event_type", "String"),
        ("method", "String"),
        ("outcome", "String"),
        ("event_date", "Date"),
    ],
}

DIRTY = {
    "responses": [
        ("id", "Uuid"),
        ("ip_address", "String"),
        ("user_agent", "Text"),
        ("submitted_at", "DateTime"),
        ("referrer", "String"),
        ("latitude", "Float"),
        ("device_fingerprint", "String"),
    ],
    "participants": [
        ("child_first_name", "String"),
        ("surname", "String"),
        ("date_of_birth", "Date"),
        ("age", "Integer"),
        ("email", "String"),
        ("parent_phone", "String"),
        ("home_address", "String"),
        ("student_id", "String"),
        ("instagram", "String"),
        ("code", "String"),
        ("guardian_signature", "LargeBinary"),
    ],
    "consent_events": [("created", "TIMESTAMP WITH TIME ZONE"), ("recorded", "TIME")],
}
EXPECTED_DIRTY = {
    ("responses", "ip_address"): FieldKind.IP_ADDRESS,
    ("responses", "user_agent"): FieldKind.USER_AGENT,
    ("responses", "submitted_at"): FieldKind.EXACT_TIMESTAMP,
    ("responses", "referrer"): FieldKind.REFERRER,
    ("responses", "latitude"): FieldKind.GEOLOCATION,
    ("responses", "device_fingerprint"): FieldKind.DEVICE_FINGERPRINT,
    ("participants", "child_first_name"): FieldKind.PERSON_NAME,
    ("participants", "surname"): FieldKind.PERSON_NAME,
    ("participants", "date_of_birth"): FieldKind.DATE_OF_BIRTH,
    ("participants", "age"): FieldKind.EXACT_AGE,
    ("participants", "email"): FieldKind.EMAIL,
    ("participants", "parent_phone"): FieldKind.PHONE,
    ("participants", "home_address"): FieldKind.POSTAL_ADDRESS,
    ("participants", "student_id"): FieldKind.STUDENT_ID,
    ("participants", "instagram"): FieldKind.SOCIAL_HANDLE,
    ("participants", "code"): FieldKind.PLAIN_CODE,
    ("participants", "guardian_signature"): FieldKind.SIGNATURE_OR_MEDIA,
    ("consent_events", "created"): FieldKind.EXACT_TIMESTAMP,
    ("consent_events", "recorded"): FieldKind.EXACT_TIMESTAMP,
}


def test_clean_schema_has_no_findings():
    assert forbidden_columns(CLEAN) == []


def test_dirty_schema_every_column_found():
    findings = forbidden_columns(DIRTY)
    got = {(f.table, f.column): f.kind for f in findings}
    assert got == EXPECTED_DIRTY
    assert findings == sorted(findings, key=lambda f: (f.table, f.column))
    for f in findings:
        assert f.requirement and f.fix
        assert f.table in str(f) and f.column in str(f)


def test_allow_list_for_reviewed_exceptions():
    findings = forbidden_columns(DIRTY, allow={"participants.age", "responses.latitude"})
    got = {(f.table, f.column) for f in findings}
    assert ("participants", "age") not in got
    assert ("responses", "latitude") not in got
    assert len(got) == len(EXPECTED_DIRTY) - 2


def test_accepts_any_iterables():
    gen = {"t": ((n, t) for n, t in [("phone_number", "String"), ("x", "Integer")])}
    assert [f.column for f in forbidden_columns(gen)] == ["phone_number"]


@pytest.mark.parametrize(
    "name",
    [
        "instrument_name",
        "school_name",
        "file_name",
        "site_code",
        "code_hash",
        "station_label",
        "band",
        "language",
        "consultation_id",
        "description",
        "zip_archive_id",
        "item_code",
        "started_on",
        "reserved_code",
        "state",
    ],
)
def test_innocent_names_pass(name):
    assert classify_field(name, "String") is None


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("name", FieldKind.PERSON_NAME),
        ("guardianName", FieldKind.PERSON_NAME),
        ("pupil_full_name", FieldKind.PERSON_NAME),
        ("teacher_name", FieldKind.PERSON_NAME),
        ("birth_year", FieldKind.DATE_OF_BIRTH),
        ("dob", FieldKind.DATE_OF_BIRTH),
        ("contact_email", FieldKind.EMAIL),
        ("mobile", FieldKind.PHONE),
        ("remote_addr", FieldKind.IP_ADDRESS),
        ("X-Forwarded-For", FieldKind.IP_ADDRESS),
        ("client_ip", FieldKind.IP_ADDRESS),
        ("userAgent", FieldKind.USER_AGENT),
        ("http_referer", FieldKind.REFERRER),
        ("gps", FieldKind.GEOLOCATION),
        ("postcode", FieldKind.POSTAL_ADDRESS),
        ("withdrawal_code", FieldKind.PLAIN_CODE),
        ("username", FieldKind.SOCIAL_HANDLE),
        ("photo", FieldKind.SIGNATURE_OR_MEDIA),
    ],
)
def test_forbidden_names(name, kind):
    assert classify_field(name) is kind


@pytest.mark.parametrize(
    ("type_name", "forbidden"),
    [
        ("DateTime", True),
        ("DATETIME", True),
        ("TIMESTAMP", True),
        ("TIMESTAMP WITHOUT TIME ZONE", True),
        ("Time", True),
        ("datetime", True),
        ("Date", False),
        ("DATE", False),
        ("Interval", False),
        ("String", False),
    ],
)
def test_time_types(type_name, forbidden):
    assert (classify_field("when", type_name) is FieldKind.EXACT_TIMESTAMP) is forbidden


def test_log_keys_can_be_checked_too():
    record = {"levelname": "INFO", "path": "/s/page", "status": 200, "remote_addr": "1.2.3.4", "http_user_agent": "x"}
    assert {k for k in record if classify_field(k)} == {"remote_addr", "http_user_agent"}


# ---------------------------------------------------------------- dates


def test_coarsen_naive_and_date():
    assert coarsen_to_date(datetime(2026, 11, 29, 23, 59, 59)) == date(2026, 11, 29)
    assert coarsen_to_date(date(2026, 11, 29)) == date(2026, 11, 29)
    assert type(coarsen_to_date(datetime(2026, 11, 29, 1))) is date


def test_coarsen_aware_uses_the_local_zone():
    utc_late = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    assert coarsen_to_date(utc_late) == date(2026, 11, 29)
    assert coarsen_to_date(utc_late, timezone(timedelta(hours=3))) == date(2026, 11, 30)
    assert coarsen_to_date(utc_late, timezone(timedelta(hours=-5))) == date(2026, 11, 29)


def test_coarsen_rejects_other_types():
    with pytest.raises(TypeError):
        coarsen_to_date("2026-11-29")  # type: ignore[arg-type]


# ---------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("age", "band"),
    [(7, None), (8, "A"), (10, "A"), (11, "B"), (13, "B"), (14, "C"), (17, "C"), (18, None), (0, None), (-1, None)],
)
def test_age_to_default_band(age, band):
    got = age_to_band(age)
    assert (got.code if got else None) == band


def test_age_to_custom_bands():
    bands = (Band("Y", 9, 12), Band("O", 13, 17))
    validate_bands(bands)
    assert age_to_band(12, bands).code == "Y"
    assert age_to_band(8, bands) is None


@pytest.mark.parametrize("bad", [10.5, "10", True, None])
def test_age_must_be_whole_years(bad):
    with pytest.raises(TypeError):
        age_to_band(bad)  # type: ignore[arg-type]


def test_band_helpers():
    assert [b.label for b in DEFAULT_BANDS] == ["8-10", "11-13", "14-17"]
    assert band_by_code("C").min_age == 14
    with pytest.raises(KeyError):
        band_by_code("D")
    with pytest.raises(ValueError, match="contiguous"):
        validate_bands([Band("A", 8, 10), Band("B", 12, 13)])
    with pytest.raises(ValueError, match="unique"):
        validate_bands([Band("A", 8, 10), Band("A", 11, 13)])
    with pytest.raises(ValueError):
        validate_bands([])
    with pytest.raises(ValueError, match="swap"):
        Band("A", 10, 8)
    with pytest.raises(ValueError):
        Band("", 8, 10)


# ---------------------------------------------------------------- join paths (C-10)

SEPARATED = [
    ("answer", "response"),
    ("response", "consultation"),
    ("response", "consent_text"),
    ("consent_event", "consent_text"),
    ("consent_event", "consultation"),
    ("card", "consultation"),
    ("session_log", "consultation"),
]


def test_no_join_path_when_stores_are_separate():
    assert join_paths(SEPARATED, "answer", ["consent_event"], ignore=["consultation", "consent_text"]) == []


def test_shared_tables_are_paths_unless_ignored():
    paths = join_paths(SEPARATED, "answer", ["consent_event"])
    assert ("answer", "response", "consent_text", "consent_event") in paths
    assert ("answer", "response", "consultation", "consent_event") in paths
    assert paths == sorted(paths, key=lambda p: (len(p), p))


def test_a_foreign_key_between_the_stores_is_found():
    linked = [*SEPARATED, ("consent_event", "card"), ("response", "card")]
    paths = join_paths(linked, "answer", ["consent_event"], ignore=["consultation", "consent_text"])
    assert paths == [("answer", "response", "card", "consent_event")]


def test_direction_does_not_matter_and_limits_apply():
    assert join_paths([("b", "a")], "a", ["b"]) == [("a", "b")]
    chain = [(f"t{i}", f"t{i + 1}") for i in range(10)]
    assert join_paths(chain, "t0", ["t10"]) == []  # longer than max_length
    assert join_paths(chain, "t0", ["t10"], max_length=11)
    assert join_paths([("a", "a")], "a", ["a"]) == []


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("4", "4"),
        ("b", "B"),
        (" seat 12 ", "SEAT 12"),
        ("t-3", "T-3"),
        ("AB", "AB"),
        ("١٢", "12"),  # Arabic-Indic digits: the same seat, kept in ASCII digits
        ("T ۳", "T 3"),  # Persian
        ("१२", "12"),  # Devanagari
    ],
)
def test_station_labels(typed, label):
    assert normalize_station_label(typed) == label


@pytest.mark.parametrize("typed", ["Amina", "john", "", "   ", "Table twelve 12", "4; drop", "<b>1</b>"])
def test_station_labels_refuse_names_and_junk(typed):
    with pytest.raises(ValueError):
        normalize_station_label(typed)


@pytest.mark.parametrize(
    ("code", "allowed", "ok"),
    [
        ("NRB-07", False, True),
        ("SITE 3", False, True),
        ("Kilimani Primary School", False, False),
        ("Shule ya Msingi Olympic", False, False),
        ("École Jules Ferry", False, False),
        ("Kilimani Primary School", True, True),
        ("", False, False),
        ("x" * 41, True, False),
    ],
)
def test_site_codes(code, allowed, ok):
    assert (site_code_problem(code, school_name_allowed=allowed) is None) is ok
