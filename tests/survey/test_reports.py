"""The analyst's programme view: counts, small-cell suppression, downloads, access and audit."""

from __future__ import annotations

import io
import os
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, Participant
from tests.conftest import World
from tests.survey.test_journey import _assent, _post_page

ROUTES = ("/", "/report.html", "/report.pdf", "/report.xlsx", "/export.csv", "/export.xlsx", "/codebook.csv")
# (age, who, feel, ways, grid_safe, order): band A is 8-10, B 11-13, C 14-17.  Band A children
# leave the scale question empty (band A answers it on a face scale of its own).
CHILDREN = (
    [
        ("9", "friend", None, ["phone"], "4", ["chat", "phone"]),
        ("10", "parent", None, ["chat", "person"], "4", ["person"]),
    ]
    + [
        (
            "12",
            "friend" if i < 8 else "parent",
            "4" if i < 9 else "5",
            ["phone"] if i < 10 else ["chat", "person"],
            "4" if i < 10 else "2",
            ["chat", "phone"] if i < 10 else ["person"],
        )
        for i in range(11)
    ]
    + [("15", "friend" if i < 3 else "helpline", "4", ["phone", "person"], "4", ["chat"]) for i in range(5)]
)
#: Spread-out answers with a small band: every cell small (see the last page test).
SPREAD = [("9", "friend", "happy", ["phone"], "4", ["chat"]), ("10", "parent", "sad", ["chat"], "2", ["phone"])] + [
    (
        "12",
        ("friend", "parent", "helpline")[i % 3],
        str(1 + i % 5),
        [("phone", "chat", "person")[i % 3]],
        str(1 + (i * 2) % 5),
        [("chat", "phone", "person")[i % 3]],
    )
    for i in range(16)
]


def _answers_for(index: int, spec) -> dict:
    _age, who, feel, ways, grid_safe, order = spec
    if index == 0:
        return {"q_who": who, **({"q_feel": feel} if feel else {})}
    if index == 1:
        return {"q_ways": ways, "q_ideas": "", "q_times": "3"}
    if index == 2:
        data = {"q_grid_safe": grid_safe, "q_grid_easy": "3"}
        data.update({f"q_order__{n}": code for n, code in enumerate(order, start=1)})
        return data
    return {"q_older": "2"}


def complete_child(app, code: str, spec, address: str) -> None:
    child = app.test_client()
    child.environ_base["REMOTE_ADDR"] = address  # code entry is rate-limited per client
    assert child.post("/", data={"code": code}).status_code == 302
    _assent(child, age=spec[0])
    index = 0
    for _ in range(6):
        response = _post_page(child, index, _answers_for(index, spec))
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.location.endswith("/p/end"):
            break
        index = int(response.location.rstrip("/").rsplit("/", 1)[1])
    assert child.post("/p/end", data={"decision": "yes"}).location.endswith("/p/done?kept=1")


def decline_child(app, code: str, address: str) -> None:
    child = app.test_client()
    child.environ_base["REMOTE_ADDR"] = address  # code entry is rate-limited per client
    assert child.post("/", data={"code": code}).status_code == 302
    child.post("/p/age", data={"age": "12"})
    assert child.post("/p/about", data={"decision": "no"}).location.endswith("/p/declined")


@pytest.fixture
def answered(app, world: World, issue_codes) -> World:
    """18 children complete our consultation (2 in band A, 11 in B, 5 in C) and one says no;
    3 complete the other consultation, whose answers must never show up in ours."""
    codes = issue_codes(world.consultation, len(CHILDREN) + 1)
    for n, (code, spec) in enumerate(zip(codes, CHILDREN, strict=False)):
        complete_child(app, code, spec, f"10.1.0.{n + 1}")
    decline_child(app, codes[-1], "10.1.1.1")
    for n, code in enumerate(issue_codes(world.other_consultation, 3)):
        complete_child(app, code, CHILDREN[2], f"10.2.0.{n + 1}")
    return world


@pytest.fixture
def answered_many(app, world: World, issue_codes) -> World:
    """36 children of one band complete our consultation: enough for a de-identified record-level
    export, whose global re-identification risk (one over the records in each key class) must stay
    under 3 %."""
    children = [("12", *spec[1:]) for spec in CHILDREN * 2]
    for n, (code, spec) in enumerate(zip(issue_codes(world.consultation, len(children)), children, strict=True)):
        complete_child(app, code, spec, f"10.4.{n // 200}.{n % 200 + 1}")
    return world


def approve_exports(world: World) -> None:
    """An administrator records the approval that sensitive record-level exports need (DP-07)."""
    response = world.clients["admin"].post(
        f"/reports/{world.consultation}/export-approval",
        data={"reason": "The university partner analyses the answers for the ministry briefing."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _db_counts(app, consultation_id: int) -> dict[str, int]:
    with app.app_context():
        rows = dict(
            db.session.execute(
                sa.select(Participant.state, sa.func.count())
                .where(Participant.consultation_id == consultation_id)
                .group_by(Participant.state)
            ).all()
        )
        bands = dict(
            db.session.execute(
                sa.select(Participant.band, sa.func.count())
                .where(Participant.consultation_id == consultation_id, Participant.state == "completed")
                .group_by(Participant.band)
            ).all()
        )
    return {
        "issued": sum(rows.values()),
        "completed": rows.get("completed", 0),
        "declined": rows.get("declined", 0),
        **{f"band {b}": n for b, n in bands.items()},
    }


def _row(html: str, label: str) -> list[str]:
    match = re.search(r'<tr><th scope="row">' + re.escape(label) + r"</th>(.*?)</tr>", html)
    assert match, f"no row {label!r}"
    return re.findall(r"<td>(.*?)</td>", match.group(1))


def release(client, consultation_id: int):
    """The analyst's "Make a new release now" button."""
    return client.post(f"/reports/{consultation_id}/release")


def _table(html: str, caption: str) -> str:
    match = re.search(r"<caption>" + re.escape(caption) + r"</caption>(.*?)</table>", html, re.S)
    assert match, f"no table {caption!r}"
    return match.group(1)


def test_the_page_counts_match_the_database_and_small_cells_are_hidden(app, answered: World) -> None:
    expected = _db_counts(app, answered.consultation)
    assert expected["completed"] == 18 and expected["band A"] == 2 and expected["declined"] == 1
    response = answered.clients["analyst"].get(f"/reports/{answered.consultation}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    funnel = _table(html, "Children at each stage")
    assert _row(funnel, "Cards issued") == [str(expected["issued"])]
    assert _row(funnel, "Completed") == [str(expected["completed"])]
    assert _row(funnel, "Said no (declined)") == ["s"]  # 1 child: hidden
    assert "No results have been released yet" in html and "Make a new release now" in html
    assert f"/reports/{answered.consultation}/report.pdf" not in html  # nothing to download before a release
    made = release(answered.clients["analyst"], answered.consultation)
    assert made.status_code == 303
    html = answered.clients["analyst"].get(f"/reports/{answered.consultation}/").get_data(as_text=True)
    assert "Release 1, made on" in html and "from the answers of 18 children" in html
    assert "not chosen at random" in html  # the convenience-sample caveat
    assert "Feedback to children is due on 2027-03-01." in html
    who = answered.clients["analyst"].get(f"/reports/{answered.consultation}/?part=participation")
    page = who.get_data(as_text=True)
    assert _row(_table(page, "Children who took part"), "All children") == ["18"]
    # A (2), B (11) and C (5): merging A into B still leaves C under 10, so no age-group table
    assert "Children by age group" not in page
    for host in ("http://", "https://"):
        assert f'src="{host}' not in html
    # Downloads are offered, and the answers of the other consultation are not counted.
    assert f"/reports/{answered.consultation}/report.pdf" in html
    assert who.headers["Cache-Control"] == "no-store"
    # Every count on every part of the page is 0, at least 10, or hidden.
    for slug in re.findall(r"\?part=([a-z_]+)", html):
        part = answered.clients["analyst"].get(f"/reports/{answered.consultation}/?part={slug}").get_data(as_text=True)
        for cell in re.findall(r"<td>([0-9,]+)</td>", part):
            assert int(cell.replace(",", "")) == 0 or int(cell.replace(",", "")) >= 10, (slug, cell)


def test_the_page_is_translated(world: World) -> None:
    analyst = world.clients["analyst"]
    french = analyst.get(f"/reports/{world.consultation}/?lang=fr").get_data(as_text=True)
    assert "Enfants à chaque étape" in french and "Aucun résultat n’a encore été publié" in french
    arabic = analyst.get(f"/reports/{world.consultation}/?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "Children at each stage" not in arabic


def test_the_long_frame_reads_only_this_consultations_completed_answers(app, answered: World) -> None:
    from survey.services import reporting

    with app.app_context():
        consultation = db.session.get(Consultation, answered.consultation)
        long, codebook = reporting.long_frame(consultation)
    assert long["response_id"].nunique() == 18
    assert long["response_id"].dtype.kind == "i"  # participant ids never reach the analysis
    assert set(long["band"].dropna().astype(str)) == {"A", "B", "C"}
    # JSON answers became analysis rows: multi-select one per code, rank with positions,
    # matrix rows as items of their own.
    assert codebook["ways"].type == "multi" and codebook["order"].type == "rank"
    ways = long[long["item"] == "ways"]["answer"].astype(str).value_counts()
    assert ways.to_dict() == pd.Series([w for spec in CHILDREN for w in spec[3]]).value_counts().to_dict()
    order = long[long["item"] == "order"]
    first = order[order["rank"] == 1]["answer"].astype(str).value_counts()
    assert first.to_dict() == pd.Series([spec[5][0] for spec in CHILDREN]).value_counts().to_dict()
    second = order[order["rank"] == 2]["answer"].astype(str).value_counts()
    assert second.to_dict() == pd.Series([spec[5][1] for spec in CHILDREN if len(spec[5]) > 1]).value_counts().to_dict()
    grid = long[long["item"] == "grid_safe"]["answer"].astype(str)
    assert grid.value_counts().to_dict() == pd.Series([spec[4] for spec in CHILDREN]).value_counts().to_dict()
    assert (long[long["item"] == "grid_easy"]["answer"].astype(str) == "3").sum() == len(CHILDREN)
    assert "ideas" not in set(long["item"].astype(str))  # free text stays out


def test_downloads_parse_carry_no_identifiers_and_are_audited(app, answered_many: World) -> None:
    answered = answered_many
    import openpyxl

    analyst = answered.clients["analyst"]
    base = f"/reports/{answered.consultation}"
    with app.app_context():
        secrets_ = [p.id for p in db.session.scalars(sa.select(Participant))]
        secrets_ += [p.code_hash for p in db.session.scalars(sa.select(Participant))]
    assert release(analyst, answered.consultation).status_code == 303
    approve_exports(answered)
    expected_types = {
        "report.html": "text/html",
        "report.pdf": "application/pdf",
        "report.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "export.csv": "text/csv",
        "export.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "codebook.csv": "text/csv",
    }
    for name, mimetype in expected_types.items():
        response = analyst.get(f"{base}/{name}")
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:500])
        assert response.mimetype == mimetype
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        body = response.get_data()
        if name.endswith(".xlsx"):
            book = openpyxl.load_workbook(io.BytesIO(body))
            text = " ".join(
                str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None
            )
            if name == "export.xlsx":
                assert {"data", "codebook"} <= set(book.sheetnames)
        elif name.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(body), dtype=str)
            text = frame.to_csv()
            assert len(frame) > 0
            if name == "export.csv":
                assert len(frame) == 36 and "record" in frame.columns
            else:
                assert "variable" in frame.columns
        elif name.endswith(".pdf"):
            assert body.startswith(b"%PDF")
            text = body.decode("latin-1")
        else:
            text = body.decode("utf-8")
            assert "not chosen at random" in text and "Headlines" in text
        for secret in secrets_:
            assert secret not in text, name
    with app.app_context():
        targets = sorted(db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "report.download")))
    assert targets == sorted(
        f"consultation:{answered.consultation} {name}" + (" approval:1" if name.startswith("export") else "")
        for name in expected_types
    )


def test_facilitators_are_refused_every_reports_route(world: World) -> None:
    for route in ROUTES:
        url = f"/reports/{world.consultation}{route}"
        for visitor in ("facilitator", "other_facilitator"):
            assert world.clients[visitor].get(url).status_code == 403, (visitor, url)
        assert world.clients["analyst"].get(f"/reports/{world.other_consultation}{route}").status_code == 403
        assert world.clients["anonymous"].get(url).status_code == 302


def test_unknown_formats_are_404(world: World) -> None:
    analyst = world.clients["analyst"]
    for route in ("report.csv", "report.docx", "export.pdf", "export.html", "codebook.xlsx"):
        assert analyst.get(f"/reports/{world.consultation}/{route}").status_code == 404, route


def test_under_the_threshold_the_page_says_so_and_offers_nothing(app, world: World, issue_codes) -> None:
    for n, code in enumerate(issue_codes(world.consultation, 3)):
        complete_child(app, code, CHILDREN[n], f"10.3.0.{n + 1}")
    analyst = world.clients["analyst"]
    response = analyst.get(f"/reports/{world.consultation}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No results have been released yet" in html and "Make a new release now" not in html
    assert "report.pdf" not in html
    release(analyst, world.consultation)  # refused: too few children
    assert "report.pdf" not in analyst.get(f"/reports/{world.consultation}/").get_data(as_text=True)
    funnel = _table(html, "Children at each stage")
    assert _row(funnel, "Completed") == ["s"]  # 3 completed: hidden
    for route in ROUTES[1:]:
        if route == "/codebook.csv":  # no data in it: never refused (test_export_approval.py)
            continue
        refused = analyst.get(f"/reports/{world.consultation}{route}")
        assert refused.status_code == 409, route
        assert "attachment" not in refused.headers.get("Content-Disposition", "")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "report.download")
            )
            == 0
        )


def test_an_empty_consultation_renders(world: World) -> None:
    response = world.clients["analyst"].get(f"/reports/{world.consultation}/")
    assert response.status_code == 200
    assert "No results have been released yet" in response.get_data(as_text=True)


def test_a_record_level_export_too_risky_for_few_children_is_refused_plainly(app, answered: World) -> None:
    analyst = answered.clients["analyst"]
    release(analyst, answered.consultation)
    approve_exports(answered)  # approved, yet still behind the risk check
    for route in ("export.csv", "export.xlsx"):
        response = analyst.get(f"/reports/{answered.consultation}/{route}")
        assert response.status_code == 409, route
        assert "too easy to recognise" in response.get_data(as_text=True)
    assert analyst.get(f"/reports/{answered.consultation}/report.xlsx").status_code == 200
    with app.app_context():
        targets = list(db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "report.download")))
    assert targets == [f"consultation:{answered.consultation} report.xlsx"]


def test_when_the_report_cannot_be_built_nothing_is_released_and_nothing_breaks(
    app, answered: World, monkeypatch
) -> None:
    from survey.services import releases

    def broken(*_args, **_kwargs):
        raise TypeError("simulated failure inside the analysis package")

    monkeypatch.setattr(releases, "build_release", broken)
    analyst = answered.clients["analyst"]
    made = release(analyst, answered.consultation)
    assert made.status_code == 303
    html = analyst.get(f"/reports/{answered.consultation}/").get_data(as_text=True)
    assert "could not be prepared" in html and "No results have been released yet" in html
    assert _row(_table(html, "Children at each stage"), "Completed") == ["18"]
    with app.app_context():
        assert releases.latest(answered.consultation) is None
    for route in ("report.html", "report.pdf", "report.xlsx"):
        assert analyst.get(f"/reports/{answered.consultation}/{route}").status_code == 409


def test_spread_out_answers_with_a_small_band_never_break_the_page(app, world: World, issue_codes) -> None:
    for n, (code, spec) in enumerate(zip(issue_codes(world.consultation, len(SPREAD)), SPREAD, strict=True)):
        complete_child(app, code, spec, f"10.5.0.{n + 1}")
    assert release(world.clients["analyst"], world.consultation).status_code == 303
    response = world.clients["analyst"].get(f"/reports/{world.consultation}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "from the answers of 18 children" in html
    for slug in re.findall(r"\?part=([a-z_]+)", html):
        assert world.clients["analyst"].get(f"/reports/{world.consultation}/?part={slug}").status_code == 200


def test_record_level_exports_leave_demographic_items_to_the_checked_key_columns() -> None:
    from analysis.frames import ItemMeta, make_long
    from survey.services.reporting import export_frame

    cb = {
        "DM1": ItemMeta("DM1", "single", ("9", "10"), domain="DM"),
        "DM2": ItemMeta("DM2", "single", ("girl", "boy"), domain="DM"),
        "TR1": ItemMeta("TR1", "multi", ("friend", "parent"), domain="TR"),
    }
    long = make_long(
        pd.DataFrame(
            {
                "response_id": [1, 1, 1, 2],
                "item": ["DM1", "DM2", "TR1", "TR1"],
                "answer": ["9", "girl", "friend", "parent"],
                "gender": ["girl"] * 3 + [None],
            }
        ),
        codebook=cb,
    )
    out, kept = export_frame(long, cb)
    assert list(kept) == ["TR1"] and list(out["item"].cat.categories) == ["TR1"]
    assert len(out) == 2 and "gender" in out.columns


def test_sauti_report_and_export_commands(app, runner, answered_many: World, tmp_path) -> None:
    consultation = answered_many.consultation
    before = runner.invoke(args=["report", str(consultation), "--format", "xlsx", "--out", str(tmp_path)])
    assert before.exit_code != 0 and "no release has been made yet" in before.output
    made = runner.invoke(args=["release", "make", str(consultation)])
    assert made.exit_code == 0 and "Release 1 of consultation" in made.output, made.output
    again = runner.invoke(args=["release", "make", str(consultation)])
    assert again.exit_code != 0 and "at least 10 new children" in again.output
    listed = runner.invoke(args=["release", "list", str(consultation)])
    assert listed.output.startswith("1\t") and "\tcli\t36" in listed.output
    report = runner.invoke(args=["report", str(consultation), "--format", "xlsx", "--out", str(tmp_path)])
    assert report.exit_code == 0, report.output
    import openpyxl

    workbook = openpyxl.load_workbook(tmp_path / f"consultation-{consultation}-report.xlsx")
    assert workbook.sheetnames
    refused = runner.invoke(args=["export", str(consultation), "--format", "csv", "--out", str(tmp_path)])
    assert refused.exit_code != 0 and "sensitive questions" in refused.output
    approve_exports(answered_many)
    exported = runner.invoke(args=["export", str(consultation), "--format", "csv", "--out", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    frame = pd.read_csv(tmp_path / f"consultation-{consultation}-export.csv")
    assert len(frame) > 0 and not any("participant" in column for column in frame.columns)
    assert (tmp_path / f"consultation-{consultation}-codebook.csv").exists()
    for fmt in ("sav", "parquet"):
        result = runner.invoke(args=["export", str(consultation), "--format", fmt, "--out", str(tmp_path / fmt)])
        assert result.exit_code == 0, result.output
    import pyreadstat

    spss, _meta = pyreadstat.read_sav(str(tmp_path / "sav" / f"consultation-{consultation}-export.sav"))
    import duckdb

    parquet_rows = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?)",
        [str(tmp_path / "parquet" / f"consultation-{consultation}-export.parquet")],
    ).fetchone()[0]
    assert len(spss) == parquet_rows == len(frame)
    too_few = runner.invoke(args=["report", str(answered_many.other_consultation), "--out", str(tmp_path)])
    assert too_few.exit_code != 0 and "Fewer than" in too_few.output
    missing = runner.invoke(args=["report", "9999", "--out", str(tmp_path)])
    assert missing.exit_code != 0 and "no consultation 9999" in missing.output


def test_the_served_app_makes_reports_in_a_helper_process_at_lower_priority(app, answered: World) -> None:
    """What `sauti serve` does (survey/wsgi.py): the same pages and files, refusals included, made by
    another process at nice 10, so that children's pages on the worker never wait for a report."""
    from survey.services import offload

    analyst = answered.clients["analyst"]
    base = f"/reports/{answered.consultation}"
    release(analyst, answered.consultation)
    approve_exports(answered)
    in_place = {route: analyst.get(base + route) for route in ("/", "/report.html", "/export.csv")}
    assert in_place["/export.csv"].status_code == 409  # too few children for record-level data
    app.config["OFFLOAD_HEAVY_WORK"] = True
    try:
        with app.app_context():
            assert offload.run(os.getpid) != os.getpid()
            if hasattr(os, "nice"):
                assert offload.run(os.nice, 0) == os.nice(0) + offload.NICENESS
        for route, expected in in_place.items():
            offloaded = analyst.get(base + route)
            assert offloaded.status_code == expected.status_code, route
            if route == "/report.html":
                assert offloaded.get_data() == expected.get_data()
            if route == "/export.csv":  # the gate's refusal crossed the processes as itself
                assert "too easy to recognise" in offloaded.get_data(as_text=True)
        page = analyst.get(base + "/").get_data(as_text=True)
        assert "from the answers of 18 children" in page
        assert _table(page, "Children at each stage") == _table(
            in_place["/"].get_data(as_text=True), "Children at each stage"
        )
    finally:
        offload.shutdown(app)
