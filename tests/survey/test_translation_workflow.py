"""Translations (issue 17): which languages a child is offered, the review of questionnaire languages
and consent texts (who, when, the audit log), approval from the console and the command line,
the side-by-side review page, PO files for translators, and the opening rules per language.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, TextApproval, TranslationStep
from tests.conftest import STRONG_PASSWORD


def _sign_in(app, username: str):
    client = app.test_client()
    assert client.post("/staff/sign-in", data={"username": username, "password": STRONG_PASSWORD}).status_code == 302
    return client


def _bundled_record(app) -> int:
    from survey.services import instrument_store

    with app.app_context():
        return instrument_store.store_bundled().id


# ----------------------------------------------------------------------------- what a child is offered
def test_a_child_is_offered_only_the_consultations_languages_by_name(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(languages=("en",))
    client = app.test_client()
    start = client.get("/?lang=sw").get_data(as_text=True)
    # Before a code: the languages of the open consultations; Kiswahili is not one of them.
    assert '<html lang="en"' in start and 'hreflang="sw"' not in start and 'hreflang="ar"' not in start
    assert client.post("/", data={"code": issue_codes(consultation, 1)[0]}).status_code == 302
    page = client.get("/p/age?lang=sw").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert 'hreflang="en"' in page and ">English<" in page
    for code in ("fr", "es", "ar", "sw"):
        assert f'hreflang="{code}"' not in page


def test_the_language_menu_names_each_language_in_itself(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(languages=("en", "fr", "ar"))
    client = app.test_client()
    assert client.post("/", data={"code": issue_codes(consultation, 1)[0]}).status_code == 302
    page = client.get("/p/age?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in page
    assert ">Français<" in page and ">العربية<" in page and ">en<" not in page


# ----------------------------------------------------------------------------- opening rules
def _draft(app, *, languages, country_profile="generic", wording=None) -> int:
    from survey.services import consultations, instrument_store
    from survey.services.translations import set_wording

    with app.app_context():
        record = instrument_store.store_bundled()
        consultation = consultations.create_consultation(
            title="Kisumu",
            instrument_id=record.instrument_id,
            instrument_version=record.version,
            instrument_hash=record.content_hash,
            languages=list(languages),
            age_bands=["B"],
            country_profile=country_profile,
            details={
                "organisation": "Helping Hands",
                "contact": "the team",
                "independent_contact": "the board",
                "audience": "the council",
                "influence_scope": "how help desks work",
                "feedback_due": dt.date(2027, 3, 1),
                "analysis_cutoff": dt.date(2027, 1, 31),
            },
        )
        for code, words in (wording or {}).items():
            set_wording(consultation, code, words)
        return consultation.id


def _problems(app, consultation: int, *, demo: bool) -> list[str]:
    from survey.services import consultations

    with app.app_context():
        try:
            consultations.open_consultation(db.session.get(Consultation, consultation), demo=demo)
        except consultations.OpeningRefused as refused:
            return refused.problems
        return []


SW_WORDS = {
    "sw": {
        "organisation": "Mikono ya Msaada",
        "contact": "timu",
        "independent_contact": "bodi",
        "audience": "baraza",
        "influence_scope": "jinsi madawati ya msaada yanavyofanya kazi",
    }
}


def test_a_consultation_cannot_open_in_a_language_with_anything_missing(app) -> None:
    # Kiswahili on a Kenyan profile whose helpline is written in English and Kiswahili only, with
    # nothing translated of the consultation's own words and the shipped Kiswahili
    # questionnaire still in review.
    from importlib import resources

    from survey.services import profile_store

    kenya = (resources.files("consent") / "profiles" / "example-ke.yaml").read_text("utf-8")
    kept = [line for line in kenya.splitlines() if not line.strip().startswith(("fr:", "es:", "ar:"))]
    with app.app_context():
        profile_store.upload("\n".join(kept).replace("id: example-ke", "id: kenya-two").encode(), actor=None)
    consultation = _draft(app, languages=("en", "sw", "fr"), country_profile="kenya-two")
    problems = " ".join(_problems(app, consultation, demo=True))
    assert "The Kiswahili questionnaire is translated, not approved" in problems
    assert "own words in another language" in problems and "Who will hear the results" in problems
    # French: the Kenyan profile gives its helpline in English and Kiswahili only.
    assert "Childline Kenya in Français" in problems
    for internal in ("sw", "fr", "text_not_approved", "§"):
        assert f" {internal} " not in f" {problems} "


def test_a_language_without_sautis_own_pages_or_a_questionnaire_version_cannot_open(app) -> None:
    consultation = _draft(app, languages=("en", "de"))
    problems = " ".join(_problems(app, consultation, demo=True))
    assert "Sauti's own pages" in problems and "de" in problems


def test_a_demo_only_approval_never_opens_a_real_consultation(app, runner) -> None:
    from survey.services.demo import set_up_demo

    with app.app_context():
        demo = set_up_demo(code_count=1, languages=["en", "sw"])
        assert demo.consultation.state == "open"
        assert any("approved for this demonstration only" in warning for warning in demo.warnings)
        steps = db.session.scalars(sa.select(TranslationStep).where(TranslationStep.language == "sw")).all()
        assert steps and all(step.demo_only for step in steps)
    real = _draft(app, languages=("en", "sw"), wording=SW_WORDS)
    assert any("Kiswahili questionnaire is translated, not approved" in p for p in _problems(app, real, demo=False))
    # A reviewer approves the language for real: that problem goes (the texts' own approvals remain).
    result = runner.invoke(
        args=["instruments", "approve-language", "reporting-mechanisms", "sw", "--reviewer", "Amina Njeri"]
    )
    assert result.exit_code == 0, result.output
    assert not any("questionnaire" in p for p in _problems(app, real, demo=False))


# ----------------------------------------------------------------------------- the command line
def test_approve_language_records_the_reviewer_when_and_the_audit_log(app, runner) -> None:
    _bundled_record(app)
    refused = runner.invoke(args=["instruments", "approve-language", "reporting-mechanisms", "sw"])
    assert refused.exit_code != 0 and "--reviewer" in refused.output
    step = runner.invoke(
        args=["instruments", "language-state", "reporting-mechanisms", "sw", "back_translated", "--by", "Juma Otieno"]
    )
    assert step.exit_code == 0, step.output
    approved = runner.invoke(
        args=[
            "instruments",
            "approve-language",
            "reporting-mechanisms",
            "sw",
            "--reviewer",
            "Amina Njeri",
            "--note",
            "pilot with 12 children",
        ]
    )
    assert approved.exit_code == 0 and "Kiswahili: approved (by Amina Njeri" in approved.output
    listing = runner.invoke(args=["instruments", "languages", "reporting-mechanisms"])
    assert "Kiswahili: approved (by Amina Njeri" in listing.output
    assert "العربية: translated (as in the file)" in listing.output
    with app.app_context():
        steps = db.session.scalars(sa.select(TranslationStep).order_by(TranslationStep.id)).all()
        assert [(s.state, s.by) for s in steps] == [("back_translated", "Juma Otieno"), ("approved", "Amina Njeri")]
        assert steps[1].at.date() == dt.datetime.now(dt.UTC).date() and not steps[1].demo_only
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "translation.approved" in actions and "translation.back_translated" in actions


def test_import_with_approve_says_what_to_do_and_can_approve_languages(app, runner, tmp_path) -> None:
    import dataclasses

    from instruments import dump_native, load_bundled

    bundled = load_bundled()
    drafts = dataclasses.replace(
        bundled,
        version="2.0.0",
        languages=tuple(dataclasses.replace(language, status="draft") for language in bundled.languages),
    )
    path = tmp_path / "form.yaml"
    path.write_text(dump_native(drafts), encoding="utf-8")
    first = runner.invoke(args=["instruments", "import", str(path), "--approve"])
    assert first.exit_code == 0, first.output
    assert (
        "sauti instruments approve-language reporting-mechanisms LANGUAGE --version 2.0.0 --reviewer NAME"
        in first.output
    )
    again = runner.invoke(
        args=[
            "instruments",
            "import",
            str(path),
            "--approve",
            "--approve-language",
            "en",
            "--approve-language",
            "sw",
            "--reviewer",
            "Amina Njeri",
        ]
    )
    assert again.exit_code == 0, again.output
    assert "Consultations can open in: English, Kiswahili." in again.output


def test_consent_texts_are_approved_with_a_reviewer_from_the_command_line(app, runner) -> None:
    refused = runner.invoke(args=["texts", "approve", "child_information/sw/B/v2", "--reviewer", "  "])
    assert refused.exit_code != 0
    done = runner.invoke(args=["texts", "approve", "child_information/sw/B/v2", "--reviewer", "Amina Njeri"])
    assert done.exit_code == 0, done.output
    listing = runner.invoke(args=["texts", "list", "--language", "sw"])
    assert "child_information/sw/B/v2  approved" in listing.output
    assert "child_information/sw/A/v2  draft" in listing.output
    with app.app_context():
        assert db.session.scalars(sa.select(TextApproval.approved_by)).all() == ["Amina Njeri"]


def test_po_files_go_out_to_translators_and_come_back_as_a_new_version(app, runner, tmp_path) -> None:
    _bundled_record(app)
    target = tmp_path / "sw.po"
    exported = runner.invoke(args=["instruments", "export-language", "reporting-mechanisms", "sw", "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    po = target.read_bytes()
    assert b'msgctxt "title"' in po and b'msgstr "Watoto wanapaswa kuombaje msaada?"' in po
    old, new = b'msgstr "Watoto wanapaswa kuombaje msaada?"', b'msgstr "Watoto waombe msaada vipi?"'
    target.write_bytes(po.replace(old, new))
    imported = runner.invoke(
        args=[
            "instruments",
            "import-language",
            "reporting-mechanisms",
            "sw",
            str(target),
            "--version",
            "1.1.1-sw",
            "--by",
            "Juma Otieno",
        ]
    )
    assert imported.exit_code == 0 and "1 changed text(s)" in imported.output
    from survey.services import instrument_store, translations

    with app.app_context():
        record = instrument_store.find("reporting-mechanisms", "1.1.1-sw")
        instrument = instrument_store.instrument_for_version(record)
        assert instrument.title.get_for("sw") == "Watoto waombe msaada vipi?"
        assert translations.language_state(instrument, "sw").state == "translated"


def test_xlsform_label_columns_are_named_for_translators(app, runner, tmp_path) -> None:
    import openpyxl

    _bundled_record(app)
    target = tmp_path / "form.xlsx"
    result = runner.invoke(
        args=["instruments", "export-language", "reporting-mechanisms", "sw", "--format", "xlsform", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    headers = [cell.value for cell in next(openpyxl.load_workbook(target)["survey"].iter_rows(max_row=1))]
    assert "label::Kiswahili (sw)" in headers and "label::العربية (ar)" in headers


# ----------------------------------------------------------------------------- the console
@pytest.fixture
def admin(app, make_user):
    make_user("ada", "admin")
    return _sign_in(app, "ada")


def test_a_text_approval_in_the_console_needs_a_reviewer_and_records_who(app, admin) -> None:
    url = "/admin/texts/child_information/sw/B/v2"
    assert admin.post(url, data={"state": "approved", "by": ""}).status_code == 400
    with app.app_context():
        assert db.session.scalars(sa.select(TextApproval)).all() == []
    assert admin.post(url, data={"state": "approved", "by": "Amina Njeri"}).status_code == 303
    page = admin.get(url).get_data(as_text=True)
    assert "Amina Njeri" in page and "approved" in page
    with app.app_context():
        assert db.session.scalars(sa.select(TextApproval.approved_by)).all() == ["Amina Njeri"]
        assert "translation.approved" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_the_review_page_shows_the_text_as_the_child_reads_it_beside_the_source(app, admin) -> None:
    page = admin.get("/admin/texts/child_information/ar/B/v2").get_data(as_text=True)
    # The read-aloud controls beside each text are not mark-up: leave them out of the check.
    shown = re.sub(r"<a class=listen[^>]*>.*?</a>", "", page.split("<main", 1)[1].split("<h2>", 1)[0], flags=re.S)
    for markup in ("[who_we_are]", "{organisation}", "> yes:", "&gt; yes:", "{helpline}"):
        assert markup not in shown, markup
    # A comprehension question's mark-up is "? " at the start of a line.
    assert not re.search(r"(^|>)\s*\? ", shown, flags=re.M)
    assert 'lang="ar" dir="rtl"' in page and 'lang="en" dir="ltr"' in page
    assert "فريق العرض التجريبي" in page and "the Sauti demonstration team" in page
    # The helpline stays in one piece inside the Arabic sentence (a Unicode isolate).
    assert "\u2068" in page


def test_the_questionnaire_review_page_draws_each_page_and_approves(app, admin) -> None:
    record = _bundled_record(app)
    page = admin.get(f"/admin/translations/questionnaire/{record}/ar?band=A").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page and "pictograms/face-sad.svg" in page
    assert "أفضّل ألّا أقول" in page  # "I'd rather not say" in Arabic, as the child's page shows it
    assert (
        admin.post(
            f"/admin/translations/questionnaire/{record}/ar", data={"state": "reviewed", "by": "Layla Haddad"}
        ).status_code
        == 303
    )
    index = admin.get("/admin/translations/").get_data(as_text=True)
    assert "reviewed" in index and "Layla Haddad" in index


def test_the_consultation_words_are_written_per_language(app, make_user, admin) -> None:
    consultation = _draft(app, languages=("en", "sw"))
    page = admin.get(f"/admin/translations/consultation/{consultation}")
    assert page.status_code == 200 and "Kiswahili" in page.get_data(as_text=True)
    saved = admin.post(
        f"/admin/translations/consultation/{consultation}",
        data={"language": "sw", **{f"sw-{k}": v for k, v in SW_WORDS["sw"].items()}},
    )
    assert saved.status_code == 303
    assert not any("own words" in p for p in _problems(app, consultation, demo=True))
    assert admin.post(f"/admin/translations/consultation/{consultation}", data={"language": "en"}).status_code == 400
