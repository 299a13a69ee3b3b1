"""Consent texts: immutability and hashing, the twelve-element assent lint, rendering."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from consent.profiles import PermissionMode
from consent.texts import (
    ASSENT_ELEMENTS,
    P02_PLACEHOLDERS,
    PLACEHOLDERS,
    ComprehensionItem,
    ConfidentialityMode,
    ConsentText,
    ImmutableTextError,
    MissingValues,
    Option,
    TextKind,
    TextRef,
    TextRegistry,
    TextStatus,
    TextVersionMismatch,
    bundled_texts,
    check_answer,
    check_binding,
    content_hash,
    lint_assent,
    lint_guardian,
    parse_body,
    parse_text_file,
    render_text,
)

VALUES = {
    "organisation": "Save the Children Kenya",
    "independent_contact": "the ethics committee on 020 000 0000",
    "contact": "0700 000 000",
    "minutes": 15,
    "pages": 8,
    "audience": "the County Children's Officer",
    "influence_scope": "how the helpline is advertised in schools (not the law itself)",
    "feedback_date": date(2027, 3, 1),
    "cutoff_date": date(2027, 1, 15),
    "helpline": "Childline Kenya, 116",
    "reporting_role": "our safeguarding lead",
    "session_date": date(2026, 12, 3),
    "return_by_date": date(2026, 12, 1),
    "ethics_reference": "REC-2026-117",
}

LANGUAGES = ("en", "fr", "es", "ar", "sw")


@pytest.fixture(scope="module")
def registry() -> TextRegistry:
    return bundled_texts()


def child_texts(reg):
    return [t for t in reg if t.kind.is_child_facing]


def letter(body="[contact]\nCall us.\n", version=1, **kw) -> ConsentText:
    return ConsentText("guardian_information", "en", None, version, "Letter", body, **kw)


# ---------------------------------------------------------------- immutability and hashes


def test_text_is_frozen():
    t = letter()
    with pytest.raises(FrozenInstanceError):
        t.body = "changed"  # type: ignore[misc]


def test_same_content_same_hash_different_content_different_hash():
    a, b = letter(), letter(version=2)
    assert a.content_hash == b.content_hash  # version is not content
    assert letter(status="approved").content_hash == a.content_hash  # nor is status
    assert letter("[contact]\nWrite to us.\n").content_hash != a.content_hash
    assert ConsentText("guardian_information", "fr", None, 1, "Letter", a.body).content_hash != a.content_hash
    assert ConsentText("guardian_information", "en", None, 1, "Letter 2", a.body).content_hash != a.content_hash


def test_hash_is_sha256_and_normalised():
    t = letter("[contact]\r\nCall us.   \r\n\r\n")
    assert re.fullmatch(r"[0-9a-f]{64}", t.content_hash)
    assert t.content_hash == letter().content_hash
    # NFC: "é" composed vs decomposed
    assert content_hash("x", "fr", None, "T", "caf\u00e9") == content_hash("x", "fr", None, "T", "cafe\u0301")


def test_editing_creates_a_new_version():
    reg = TextRegistry([letter()])
    v1 = reg.get("guardian_information/en/-/v1")
    v2 = reg.revise("guardian_information", "en", None, body="[contact]\nWrite to us.\n")
    assert (v2.version, v2.text_id) == (2, "guardian_information/en/-/v2")
    assert v2.content_hash != v1.content_hash
    assert reg.get(v1.text_id) is v1  # the old version is untouched
    assert v1.body == "[contact]\nCall us.\n"
    assert [t.version for t in reg.versions("guardian_information", "en", None)] == [1, 2]
    assert reg.latest("guardian_information", "en", None) is v2
    assert v2.status is TextStatus.DRAFT and v2.title == "Letter"


def test_revise_with_same_content_adds_nothing():
    reg = TextRegistry([letter()])
    again = reg.revise("guardian_information", "en", None, body="[contact]\nCall us.  \n")
    assert again.version == 1 and len(reg) == 1


def test_revise_first_version():
    reg = TextRegistry()
    t = reg.revise("assent_script", "sw", "B", body="[choice]\n> yes: Ndiyo\n", title="Hati")
    assert t.text_id == "assent_script/sw/B/v1"


def test_add_refuses_changed_content_under_an_existing_id():
    reg = TextRegistry([letter()])
    assert reg.add(letter()) is reg.get("guardian_information/en/-/v1")  # identical: no-op
    with pytest.raises(ImmutableTextError, match="use revise"):
        reg.add(letter("[contact]\nSomething else.\n"))


def test_status_change_keeps_content_and_hash():
    reg = TextRegistry([letter()])
    before = reg.get("guardian_information/en/-/v1")
    after = reg.with_status(before.text_id, "approved")
    assert after.status is TextStatus.APPROVED
    assert after.content_hash == before.content_hash and after.body == before.body
    assert reg.latest("guardian_information", "en", None) is after


def test_binding_checks_id_and_hash():
    reg = TextRegistry([letter()])
    v1 = reg.get("guardian_information/en/-/v1")
    assert reg.resolve(v1.ref) is v1
    with pytest.raises(TextVersionMismatch):
        reg.resolve(TextRef(v1.text_id, "f" * 64))
    v2 = reg.revise("guardian_information", "en", None, body="[contact]\nNew.\n")
    with pytest.raises(TextVersionMismatch, match="re-approve"):
        check_binding(v1.ref, v2)
    check_binding(v2.ref, reg.latest("guardian_information", "en", None))


def test_lookup_errors():
    reg = TextRegistry()
    with pytest.raises(LookupError):
        reg.get("nope")
    with pytest.raises(LookupError, match="band B"):
        reg.latest("assent_script", "en", "B")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "child_information", "band": None}, "needs an age band"),
        ({"kind": "guardian_information", "band": "A"}, "has no age band"),
        ({"language": "English"}, "language"),
        ({"version": 0}, "version"),
        ({"title": "  "}, "title"),
        ({"body": "\n"}, "body"),
        ({"band": "A B"}, "band"),
    ],
)
def test_text_validation(kwargs, message):
    args = {
        "kind": "child_information",
        "language": "en",
        "band": "A",
        "version": 1,
        "title": "T",
        "body": "[choice]\n> yes: Yes\n",
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ConsentText(**args)


# ---------------------------------------------------------------- bundled texts


def test_english_set_is_complete(registry):
    for kind in ("child_information", "assent_script"):
        for band in "ABC":
            assert registry.latest(kind, "en", band)
    assert registry.latest("guardian_information", "en", None)
    assert registry.latest("guardian_consent_form", "en", None)


@pytest.mark.parametrize("mode", list(ConfidentialityMode))
def test_every_bundled_child_text_passes_the_lint(registry, mode):
    texts = child_texts(registry)
    assert len(texts) >= 6
    for t in texts:
        assert lint_assent(t, mode) == [], t.text_id


@pytest.mark.parametrize("pm", list(PermissionMode))
def test_every_bundled_guardian_text_passes_the_lint(registry, pm):
    guardian = [t for t in registry if not t.kind.is_child_facing]
    assert len(guardian) >= 2
    for t in guardian:
        assert lint_guardian(t, pm) == [], t.text_id


def test_bundled_statuses_are_honest(registry):
    for t in registry:
        # nothing bundled has been through ethics review or cognitive testing with children
        assert t.status in (TextStatus.DRAFT, TextStatus.TRANSLATED), t.text_id
        assert t.note, f"{t.text_id} must say where it comes from"


def test_bundled_languages(registry):
    langs = {t.language for t in registry}
    assert "en" in langs
    assert langs <= set(LANGUAGES)


@pytest.mark.parametrize("mode", list(ConfidentialityMode))
def test_every_bundled_child_text_renders_with_p02_values(registry, mode):
    for t in child_texts(registry):
        r = render_text(t, VALUES, mode=mode)
        text = r.plain_text
        # P-02: audience, scope of influence, feedback date (and C-09 cut-off) are shown
        assert VALUES["audience"] in text
        assert VALUES["influence_scope"] in text
        assert "{" not in text and "}" not in text
        assert len(r.comprehension_items) >= 2
        assert [c.value for c in r.choices()] == ["yes", "no"]
        assert [c.value for c in r.choices("reaffirmation")] == ["yes", "no"]
        assert r.ref == t.ref


def test_dates_rendered_in_the_texts_language(registry):
    en = render_text(registry.latest("child_information", "en", "B"), VALUES)
    assert "March 1, 2027" in en.plain_text and "January 15, 2027" in en.plain_text
    gb = render_text(registry.latest("child_information", "en", "B"), VALUES, locale="en_GB")
    assert "1 March 2027" in gb.plain_text


def test_rendering_keeps_only_the_modes_privacy_wording(registry):
    t = registry.latest("child_information", "en", "B")
    anon = render_text(t, VALUES, mode="anonymous")
    fac = render_text(t, VALUES, mode="facilitated")
    ident = render_text(t, VALUES, mode="identified")
    assert [s.variant for s in anon.section("privacy")] == ["anonymous"]
    assert [s.variant for s in fac.section("privacy")] == ["anonymous", "in_person"]
    assert [s.variant for s in ident.section("privacy")] == ["identified"]
    assert "can't tell who gave which answers" in anon.plain_text
    assert "can't tell who gave which answers" not in ident.plain_text
    assert VALUES["reporting_role"] not in anon.plain_text
    assert VALUES["reporting_role"] in ident.plain_text


def test_rendering_values_are_not_escaped_or_interpreted(registry):
    t = registry.latest("child_information", "en", "A")
    values = dict(VALUES, audience="<b>the council</b> & {organisation}")
    r = render_text(t, values)
    assert "<b>the council</b> & {organisation}" in r.plain_text  # the app escapes


@pytest.mark.parametrize("pm", list(PermissionMode))
def test_guardian_form_renders_the_modes_reply(registry, pm):
    form = registry.latest("guardian_consent_form", "en", None)
    r = render_text(form, VALUES, permission_mode=pm)
    assert [s.variant for s in r.section("reply")] == [pm.value]
    if pm is PermissionMode.PASSIVE_OPT_OUT:
        assert "do NOT want" in r.plain_text
    letter_ = render_text(registry.latest("guardian_information", "en", None), VALUES, permission_mode=pm)
    assert [s.variant for s in letter_.section("your_choice")] == [pm.value]


def test_missing_values_are_named(registry):
    t = registry.latest("child_information", "en", "C")
    values = {k: v for k, v in VALUES.items() if k not in ("audience", "cutoff_date")}
    with pytest.raises(MissingValues) as info:
        render_text(t, values)
    assert info.value.names == ("audience", "cutoff_date")
    assert "decision-makers" in str(info.value)
    with pytest.raises(MissingValues):
        render_text(t, dict(VALUES, audience="  "))


def test_reporting_role_only_needed_where_shown(registry):
    t = registry.latest("child_information", "en", "C")
    values = {k: v for k, v in VALUES.items() if k != "reporting_role"}
    render_text(t, values, mode="anonymous")
    with pytest.raises(MissingValues):
        render_text(t, values, mode="facilitated")


def test_paragraphs_exclude_the_interactive_parts(registry):
    r = render_text(registry.latest("assent_script", "en", "B"), VALUES)
    paras = r.paragraphs()
    assert not any("Yes, I want to take part" in p for p in paras)
    assert not any("Read this aloud" in p for p in paras)  # facilitator note
    assert any(p.startswith("• You can say no") for p in paras)


def test_comprehension_check_never_blocks(registry):
    r = render_text(registry.latest("child_information", "en", "B"), VALUES)
    for item in r.comprehension_items:
        for i, option in enumerate(item.options):
            outcome = check_answer(item, i)
            assert outcome.correct is option.correct
            assert (outcome.explain_again is None) is option.correct
            if not option.correct:
                assert outcome.explain_again == item.explanation
    with pytest.raises(IndexError):
        check_answer(r.comprehension_items[0], 9)


# ---------------------------------------------------------------- the lint, element by element


def reference_body() -> str:
    return bundled_texts().latest("child_information", "en", "B").body


def drop_tags(body: str, tags: tuple[str, ...]) -> str:
    """Remove every section whose tag is in ``tags``."""
    out, skipping = [], False
    for line in body.split("\n"):
        m = re.match(r"^\[([a-z_]+)(?:\s+[a-z_]+)?\]$", line.strip())
        if m:
            skipping = m.group(1) in tags
        if not skipping:
            out.append(line)
    return "\n".join(out)


def test_reference_text_is_clean():
    assert lint_assent(reference_body(), "facilitated") == []


def test_twelve_elements():
    assert [e.number for e in ASSENT_ELEMENTS] == list(range(1, 13))


@pytest.mark.parametrize("element", ASSENT_ELEMENTS, ids=lambda e: f"element-{e.number}")
@pytest.mark.parametrize("mode", list(ConfidentialityMode))
def test_lint_flags_each_missing_element(element, mode):
    body = drop_tags(reference_body(), element.tags)
    issues = lint_assent(body, mode)
    assert issues, f"removing element {element.number} went unnoticed"
    flagged = {i.element for i in issues}
    assert set(element.tags) & flagged
    codes = {i.code for i in issues if i.element in element.tags}
    expected = "privacy_wording_missing" if element.tags == ("privacy",) else "missing_element"
    assert expected in codes
    messages = " ".join(i.message for i in issues)
    assert f"element {element.number}" in messages


@pytest.mark.parametrize("tag", ["understanding_check", "choice"])
def test_element_11_needs_both_parts(tag):
    issues = lint_assent(drop_tags(reference_body(), (tag,)))
    assert [i.code for i in issues] == ["missing_element"]
    assert issues[0].element == tag


def test_lint_flags_an_empty_element():
    body = reference_body().replace("There are no right or wrong answers. We want to know what you think.\n", "")
    assert [(i.code, i.element) for i in lint_assent(body)] == [("empty_element", "no_right_answers")]


@pytest.mark.parametrize(
    ("mode", "removed", "missing"),
    [
        ("anonymous", ("anonymous",), ["anonymous"]),
        ("facilitated", ("in_person",), ["in_person"]),
        ("facilitated", ("anonymous",), ["anonymous"]),
        ("identified", ("identified",), ["identified"]),
        ("anonymous", ("in_person", "identified"), []),  # other modes' wording is optional
    ],
)
def test_mode_specific_confidentiality_wording(mode, removed, missing):
    body = reference_body()
    for variant in removed:
        body = re.sub(rf"\[privacy {variant}\]\n[^\[]*", "", body)
    issues = [i for i in lint_assent(body, mode) if i.code == "privacy_wording_missing"]
    assert [re.search(r"\[privacy (\w+)\]", i.message).group(1) for i in issues] == missing


def test_privacy_section_without_variant_is_flagged():
    body = reference_body().replace("[privacy anonymous]", "[privacy]")
    codes = {i.code for i in lint_assent(body, "anonymous")}
    assert "privacy_wording_missing" in codes


def test_unknown_privacy_variant_is_flagged():
    body = reference_body() + "\n[privacy anonymus]\nWe don't ask your name.\n"
    assert "unknown_variant" in {i.code for i in lint_assent(body)}


@pytest.mark.parametrize("mode", ["facilitated", "identified"])
def test_reporting_wording_must_name_who_is_told(mode):
    body = reference_body().replace("{reporting_role}", "someone")
    issues = lint_assent(body, mode)
    assert any(i.code == "missing_placeholder" and "reporting_role" in i.message for i in issues)
    assert not list(lint_assent(body, "anonymous"))


@pytest.mark.parametrize("placeholder", P02_PLACEHOLDERS)
def test_p02_placeholders_required(placeholder):
    body = reference_body().replace("{" + placeholder + "}", "soon")
    issues = lint_assent(body)
    assert [(i.code, placeholder in i.message) for i in issues] == [("missing_placeholder", True)]


@pytest.mark.parametrize(
    "placeholder",
    sorted({p for e in ASSENT_ELEMENTS for p in e.placeholders} - set(P02_PLACEHOLDERS)),
)
def test_element_placeholders_required(placeholder):
    body = reference_body().replace("{" + placeholder + "}", "x")
    assert any(i.code == "missing_placeholder" and placeholder in i.message for i in lint_assent(body))


def test_unknown_placeholder_and_tag_flagged():
    body = reference_body().replace("{feedback_date}", "{feedback_date} {feedbak_date}")
    body += "\n[whatever]\nHello.\n"
    issues = lint_assent(body)
    codes = {(i.code, i.severity) for i in issues}
    assert ("unknown_placeholder", "error") in codes
    assert ("unknown_element", "warning") in codes


def test_comprehension_needs_two_complete_items():
    body = reference_body()
    one = re.sub(r"\? Will your teacher.*?everyone else's\.\n", "", body, flags=re.S)
    assert [i.code for i in lint_assent(one)] == ["comprehension_too_few"]
    no_wrong = body.replace("- Yes, I have to answer all of them\n", "")
    assert [i.code for i in lint_assent(no_wrong)] == ["comprehension_item_incomplete"]
    no_expl = body.replace("= You never have to answer a question.", "You never have to answer.")
    assert "comprehension_item_incomplete" in {i.code for i in lint_assent(no_expl)}
    no_right = body.replace("+ No\n", "- No\n")
    assert "right answer" in lint_assent(no_right)[0].message


@pytest.mark.parametrize(
    ("tag", "value"), [("choice", "no"), ("choice", "yes"), ("reaffirmation", "no"), ("reaffirmation", "yes")]
)
def test_choice_buttons_required(tag, value):
    body = reference_body()
    section = body[body.index(f"[{tag}]") :]
    line = next(ln for ln in section.split("\n") if ln.startswith(f"> {value}:"))
    issues = lint_assent(body.replace(line + "\n", "", 1))
    assert [(i.code, i.element) for i in issues] == [("choice_incomplete", tag)]


def test_lint_refuses_the_wrong_kind(registry):
    with pytest.raises(ValueError, match="lint_guardian"):
        lint_assent(registry.latest("guardian_information", "en", None))
    with pytest.raises(ValueError, match="lint_assent"):
        lint_guardian(registry.latest("assent_script", "en", "A"))


def test_guardian_lint():
    raw = lint_guardian("[reply active_opt_in]\nSign.\n", "passive_opt_out")
    assert [(i.code, i.element) for i in raw] == [("missing_element", "reply")]
    letter_issues = lint_guardian(letter("[contact]\nCall us.\n"))
    assert {"who_we_are", "privacy", "voluntary"} <= {i.element for i in letter_issues}
    form = ConsentText("guardian_consent_form", "en", None, 1, "Slip", "[reply active_opt_in]\nSign here.\n")
    assert lint_guardian(form, "active_opt_in") == []
    assert lint_guardian(form, "passive_opt_out")[0].message.endswith("passive_opt_out mode")


# ---------------------------------------------------------------- markup and files


def test_parse_body_blocks():
    sections = parse_body(
        "Intro line\n\n[your_choice]\nIt is your choice.\n* a\n* b\nAfter.\n\n"
        "[understanding_check]\n? Q1\n+ right\n- wrong\n= because\n"
    )
    assert [s.element for s in sections] == [None, "your_choice", "understanding_check"]
    kinds = [type(b).__name__ for b in sections[1].blocks]
    assert kinds == ["Paragraph", "BulletList", "Paragraph"]
    item = sections[2].blocks[0]
    assert item == ComprehensionItem("Q1", (Option("right", True), Option("wrong", False)), "because")


def test_text_file_errors():
    with pytest.raises(ValueError, match="front matter"):
        parse_text_file("kind: x\n")
    with pytest.raises(ValueError, match="closing"):
        parse_text_file("---\nkind: x\n")
    with pytest.raises(ValueError, match="unknown front matter"):
        parse_text_file("---\nkind: assent_script\ncolour: red\n---\nx\n")
    with pytest.raises(ValueError, match="needs 'title'"):
        parse_text_file("---\nkind: assent_script\nlanguage: en\nband: A\nversion: 1\n---\nx\n")


def test_placeholders_documented():
    assert set(P02_PLACEHOLDERS) <= set(PLACEHOLDERS)
    for e in ASSENT_ELEMENTS:
        assert set(e.placeholders) <= set(PLACEHOLDERS)


def test_kinds():
    assert {k.value for k in TextKind} == {
        "child_information",
        "assent_script",
        "guardian_information",
        "guardian_consent_form",
    }


# ---------------------------------------------------------------- translations


def _shape(text: ConsentText):
    shape = []
    for s in text.sections:
        items = [b for b in s.blocks if isinstance(b, ComprehensionItem)]
        choices = [b.value for b in s.blocks if hasattr(b, "value")]
        shape.append((s.element, s.variant, len(items), tuple(choices)))
    return shape


def test_translations_have_the_same_structure_as_english(registry):
    translated = [t for t in registry if t.language != "en"]
    assert {t.language for t in translated} == {"fr", "es", "sw", "ar"}
    for t in translated:
        english = registry.latest(t.kind, "en", t.band)
        assert _shape(t) == _shape(english), t.text_id
        assert "review" in t.note.lower() or "relire" in t.note.lower() or "revis" in t.note.lower(), t.text_id


@pytest.mark.parametrize("language", LANGUAGES)
def test_full_set_in_every_language(registry, language):
    for kind in ("child_information", "assent_script"):
        for band in "ABC":
            assert registry.latest(kind, language, band)
    assert registry.latest("guardian_information", language, None)
    assert registry.latest("guardian_consent_form", language, None)


@pytest.mark.parametrize("language", ["sw", "ar"])
def test_unreviewed_drafts_are_marked_draft(registry, language):
    texts = [t for t in registry if t.language == language]
    assert texts and all(t.status is TextStatus.DRAFT for t in texts)
    assert all("DRAFT" in t.note for t in texts)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("mode", list(ConfidentialityMode))
def test_p02_values_shown_in_every_language(registry, language, mode):
    from babel.dates import format_date

    for t in registry:
        if t.language != language or not t.kind.is_child_facing:
            continue
        r = render_text(t, VALUES, mode=mode)
        text = r.plain_text
        for key in ("audience", "influence_scope"):
            assert VALUES[key] in text, (t.text_id, key)
        for key in ("feedback_date", "cutoff_date"):
            assert format_date(VALUES[key], "long", locale=language) in text, (t.text_id, key)
        assert "{" not in text
        assert r.prompt("choice") and r.prompt("reaffirmation")


def test_records_round_trip_and_detect_edits_in_place(registry):
    for t in registry:
        assert ConsentText.from_record(t.to_record()) == t
    record = registry.latest("child_information", "en", "B").to_record()
    record["body"] = record["body"].replace("You can say no.", "You should say yes.")
    with pytest.raises(TextVersionMismatch, match="edited in place"):
        ConsentText.from_record(record)
    record.pop("content_hash")
    assert ConsentText.from_record(record).version == record["version"]  # no stored hash: nothing to compare


def test_anonymous_wording_must_point_to_help():
    body = reference_body()
    start = body.index("[privacy anonymous]")
    end = body.index("[privacy in_person]")
    section = body[start:end]
    body = body.replace(section, section.replace("{helpline}", "a helpline"))
    issues = lint_assent(body, "anonymous")
    assert [(i.code, i.element) for i in issues] == [("missing_placeholder", "privacy")]
    assert lint_assent(body, "identified") == []


@pytest.mark.parametrize(
    ("element", "phrase", "replacement"),
    [
        ("your_choice", "say no", "answer"),
        ("your_choice", "skip any question you don't want to answer", "take your time"),
        ("your_choice", "Nobody will be cross with you, and it won't affect your marks", "It is fine"),
        ("who_sees", "Your teacher, your classmates", "Your classmates"),
    ],
)
def test_english_content_hints_warn(element, phrase, replacement):
    text = bundled_texts().latest("child_information", "en", "B")
    assert phrase in text.body
    edited = ConsentText(text.kind, "en", "B", 2, text.title, text.body.replace(phrase, replacement))
    issues = lint_assent(edited)
    assert issues and all(i.severity == "warning" and i.code == "element_content_weak" for i in issues)
    assert {i.element for i in issues} == {element}
    # a raw string (no language) gets no content hints
    assert lint_assent(edited.body) == []
