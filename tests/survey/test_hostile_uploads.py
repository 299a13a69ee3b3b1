"""Hostile instrument files: each is refused with a clear message, within 5 s and 512 MB.

Every file is made here, at test time (no binary blobs in the repository).  Each one goes
through the web upload at /admin/instruments (an administrator signed in) and through
`sauti instruments validate`, in a child process forked from this one (so imports are already
paid for) whose address space is capped at its size on entry + 512 MB (RLIMIT_AS) and whose peak
resident memory (VmHWM, reset on entry) is measured.  Pass: a 4xx page naming the problem, a
non-zero exit with the same kind of message, each step under 5 s of CPU and 512 MB more memory.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import resource
import socket
import stat
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import sign_in

# Each step may use 5 s of CPU (measured as process time, so a machine busy with other work does
# not fail the test) and 512 MB more memory; a child that answers nothing in 90 s has hung.
SECONDS = 5.0
WALL_SECONDS = 90
MEGABYTES = 512
SURVEY = [
    ("type", "name", "label"),
    ("select_one yn", "q1", "Would you tell a friend?"),
    ("text", "q2", "What would help?"),
]
CHOICES = [("list_name", "name", "label"), ("yn", "yes", "Yes"), ("yn", "no", "No")]
SETTINGS = [("form_id", "version"), ("hostile", "1")]
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
    b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>\n"
)


# ----------------------------------------------------------------------------- file builders
def _workbook(survey=SURVEY, choices=CHOICES, settings=SETTINGS, *, sheets=("survey", "choices", "settings")) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in zip(("survey", "choices", "settings"), (survey, choices, settings), strict=True):
        if title in sheets:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(list(row))
    if not book.sheetnames:
        book.create_sheet("notes").append(["nothing here"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(
    base: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None, level: int = 6
) -> bytes:
    """The workbook with some parts replaced and others added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, data in add.items():
            target.writestr(name, data)
    return out.getvalue()


def _streamed_sheet(path: Path, rows: int, row_xml: Callable[[int], bytes], *, member="xl/worksheets/sheet1.xml"):
    """A workbook whose survey sheet is written in chunks (a huge part without a huge string)."""
    base = _workbook()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info.filename, source.read(info.filename))
        with target.open(member, "w", force_zip64=True) as stream:
            stream.write(SHEET_HEAD)
            chunk = []
            for index in range(rows):
                chunk.append(row_xml(index))
                if len(chunk) == 2000:
                    stream.write(b"".join(chunk))
                    chunk = []
            stream.write(b"".join(chunk) + SHEET_TAIL)


def _sheet(rows_xml: bytes, prolog: bytes = b"") -> bytes:
    return (
        (prolog or b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
        + SHEET_HEAD.split(b"\n", 1)[1]
        + rows_xml
        + SHEET_TAIL
    )


def _inline_row(number: int, *values: bytes) -> bytes:
    cells = b"".join(
        b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (bytes([65 + i]), number, v) for i, v in enumerate(values)
    )
    return b'<row r="%d">%s</row>' % (number, cells)


def _header_rows(*extra: bytes) -> bytes:
    return _inline_row(1, b"type", b"name", b"label") + b"".join(extra)


def zip_bomb(path: Path) -> None:
    # ~200 MB of one repeated row, compressed about 1,000:1: honest sizes in the directory.
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>"
    _streamed_sheet(path, 50_000, lambda _i: row)


def lying_zip_bomb(path: Path) -> None:
    # The same bomb, but the directory claims the part unpacks to 1 KB.
    zip_bomb(path)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_offset = 46 if signature == b"PK\x01\x02" else 30
            name_length = struct.unpack_from("<H", data, start + (28 if signature == b"PK\x01\x02" else 26))[0]
            if bytes(data[start + name_offset : start + name_offset + name_length]) == name:
                struct.pack_into("<I", data, start + size_offset, 1024)
            start += 4
    path.write_bytes(bytes(data))


def many_members(path: Path) -> None:
    path.write_bytes(_rewrite(_workbook(), add={f"xl/media/image{i}.png": b"x" for i in range(10_000)}))


def nested_zip(path: Path) -> None:
    # A zip in a zip in a zip, the innermost a bomb, hidden as an embedded object.
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.xml", b"\0" * 20_000_000)
    for depth in range(3):
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"level{depth}.zip", inner.getvalue())
        inner = outer
    path.write_bytes(
        _rewrite(
            _workbook(),
            add={"xl/embeddings/oleObject1.bin": inner.getvalue(), "xl/embeddings/Package1.zip": inner.getvalue()},
        )
    )


def self_referencing_zip(path: Path) -> None:
    # Quine-like: the workbook embeds a copy of itself, twice over.
    base = _workbook()
    once = _rewrite(base, add={"xl/embeddings/self.xlsx": base})
    path.write_bytes(_rewrite(base, add={"xl/embeddings/self.xlsx": once}))


def billion_laughs_sheet(path: Path) -> None:
    prolog = LAUGHS.replace(b"lolz", b"worksheet")
    path.write_bytes(
        _rewrite(
            _workbook(),
            replace={
                "xl/worksheets/sheet1.xml": _sheet(_header_rows(_inline_row(2, b"text", b"q1", b"&lol9;")), prolog)
            },
        )
    )


def billion_laughs_shared_strings(path: Path) -> None:
    strings = LAUGHS.replace(b"lolz", b"sst") + (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>&lol9;</t></si></sst>"
    )
    path.write_bytes(_rewrite(_workbook(), add={"xl/sharedStrings.xml": strings}))


def quadratic_blowup(path: Path) -> None:
    entity = b"x" * 50_000
    strings = (
        b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY a "' + entity + b'">]>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + b"&a;" * 50_000
        + b"</t></si></sst>"
    )
    path.write_bytes(_rewrite(_workbook(), add={"xl/sharedStrings.xml": strings}))


def xxe_local_file(path: Path) -> None:
    prolog = b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    path.write_bytes(
        _rewrite(
            _workbook(),
            replace={
                "xl/worksheets/sheet1.xml": _sheet(_header_rows(_inline_row(2, b"note", b"leak", b"&xxe;")), prolog)
            },
        )
    )


def xxe_local_network(path: Path, port: int) -> None:
    strings = (
        b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY net SYSTEM "http://127.0.0.1:%d/steal">]>\n'
        % port
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&net;</t></si></sst>"
    )
    path.write_bytes(_rewrite(_workbook(), add={"xl/sharedStrings.xml": strings}))


def xxe_parameter_entity(path: Path, port: int) -> None:
    # The lower-case/whitespace variant: a parameter entity fetching a remote DTD.
    prolog = (
        b'<?xml version="1.0"?>\n<!doctype worksheet [ <!entity %% remote SYSTEM '
        b'"http://127.0.0.1:%d/evil.dtd"> %%remote; ]>\n' % port
    )
    path.write_bytes(
        _rewrite(
            _workbook(),
            replace={"xl/worksheets/sheet1.xml": _sheet(_header_rows(_inline_row(2, b"text", b"q1", b"x")), prolog)},
        )
    )


def path_traversal(path: Path) -> None:
    path.write_bytes(_rewrite(_workbook(), add={"../../x.xml": b"<x/>", "xl/../../../etc/cron.d/x.rels": b"<x/>"}))


def absolute_member(path: Path) -> None:
    path.write_bytes(_rewrite(_workbook(), add={"/tmp/sauti-owned.xml": b"<x/>"}))


def symlink_member(path: Path) -> None:
    out = io.BytesIO(_workbook())
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo("xl/media/passwd.xml")
        info.create_system = 3  # Unix, so the mode bits count
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    path.write_bytes(out.getvalue())


def _with_macros(base: bytes) -> bytes:
    data = _rewrite(base, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
    return _rewrite(data, replace={"[Content_Types].xml": types})


def macros_xlsm(path: Path) -> None:
    path.write_bytes(_with_macros(_workbook()))


def macro_part_zip_bomb(path: Path) -> None:
    # macros are ignored, never unpacked past the limits: a huge vbaProject.bin is still a bomb
    data = _with_macros(_workbook())
    path.write_bytes(_rewrite(data, replace={"xl/vbaProject.bin": b"\0" * (40 * 1024 * 1024)}))


def many_rows(path: Path) -> None:
    _streamed_sheet(path, 100_000, lambda i: _inline_row(i + 2, b"text", b"q%d" % i, b"Question"))


def many_columns(path: Path) -> None:
    cells = b"".join(b'<c t="inlineStr"><is><t>c%d</t></is></c>' % i for i in range(200_000))
    path.write_bytes(_rewrite(_workbook(), replace={"xl/worksheets/sheet1.xml": _sheet(b"<row>" + cells + b"</row>")}))


def huge_cell(path: Path) -> None:
    path.write_bytes(_workbook(survey=[*SURVEY, ("text", "q3", "L" * 1_000_000)]))


def wrong_types(path: Path) -> None:
    import datetime as dt

    path.write_bytes(
        _workbook(
            survey=[
                ("type", "name", "label"),
                (123, dt.date(2020, 1, 1), 4.5),
                (True, None, dt.datetime(2020, 1, 1)),
                ("=1+1", '=HYPERLINK("x")', 7),
            ]
        )
    )


def missing_survey_sheet(path: Path) -> None:
    path.write_bytes(_workbook(sheets=("choices", "settings")))


def garbage_xls_with_magic(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(64_000))


def garbage_xls(path: Path) -> None:
    path.write_bytes(os.urandom(100_000))


def csv_nul_bytes(path: Path) -> None:
    path.write_bytes(b"survey,type,name,label\n,text,q1,Why\x00\x00\x00\n" * 10)


def csv_huge_line(path: Path) -> None:
    path.write_bytes(b"survey,type,name,label\n,text,q1," + b"A" * 9_000_000 + b"\n")


def csv_invalid_utf8(path: Path) -> None:
    path.write_bytes(b"survey,type,name,label\n,text,q1,\xff\xfe\xc3\x28 broken\n")


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


def exe_renamed(path: Path) -> None:
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(20_000))


def png_renamed(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(5_000))


def yaml_billion_laughs(path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(ord("b"), ord("j")):
        previous = chr(i - 1)
        lines.append(f"{chr(i)}: &{chr(i)} [{', '.join(['*' + previous] * 9)}]")
    path.write_text("\n".join(lines) + "\n")


def yaml_python_tags(path: Path) -> None:
    path.write_text(
        "sauti: 1\nid: !!python/object/apply:os.system ['touch /tmp/sauti-owned']\nversion: !!python/name:os.system\n"
    )


def yaml_deep_nesting(path: Path) -> None:
    path.write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")


def markdown_huge(path: Path) -> None:
    row = "| | text | q{} | A question that goes on for a while to fill the form up |\n"
    path.write_text("| survey |\n| | type | name | label |\n" + "".join(row.format(i) for i in range(120_000)))


def catastrophic_regex(path: Path) -> None:
    path.write_text(
        "| survey |\n| | type | name | label | constraint |\n| | text | q1 | Your word | regex(., '^(a+)+$') |\n"
    )


def oversized(path: Path) -> None:
    path.write_bytes(b"| survey |\n" + b"|" * (17 * 1024 * 1024))


# name: (builder, file name, words the refusal must contain, case-insensitively, on the web and in the CLI)
CASES: dict[str, tuple[Callable, str, tuple[str, ...]]] = {
    "zip bomb": (zip_bomb, "form.xlsx", ("zip bomb",)),
    "zip bomb with a lying directory": (lying_zip_bomb, "form.xlsx", ("xlsx",)),
    "10,000-member zip": (many_members, "form.xlsx", ("parts",)),
    "nested zips in an embedded object": (nested_zip, "form.xlsx", ("embedded",)),
    "workbook embedding itself": (self_referencing_zip, "form.xlsx", ("embedded",)),
    "billion laughs in a sheet": (billion_laughs_sheet, "form.xlsx", ("entities",)),
    "billion laughs in sharedStrings": (billion_laughs_shared_strings, "form.xlsx", ("entities",)),
    "quadratic blowup in sharedStrings": (quadratic_blowup, "form.xlsx", ("entities",)),
    "XXE to /etc/passwd": (xxe_local_file, "form.xlsx", ("entities",)),
    "XXE to http://127.0.0.1": ("network", "form.xlsx", ("entities",)),
    "XXE parameter entity, lower case": ("parameter", "form.xlsx", ("entities",)),
    "../ member names": (path_traversal, "form.xlsx", ("name",)),
    "absolute member name": (absolute_member, "form.xlsx", ("name",)),
    "symlink member": (symlink_member, "form.xlsx", ("link",)),
    "zip bomb in a macro-enabled workbook's macros": (macro_part_zip_bomb, "form.xlsm", ("zip bomb",)),
    "100,000-row sheet": (many_rows, "form.xlsx", ("rows",)),
    "200,000-column row": (many_columns, "form.xlsx", ("cells",)),
    "1 MB cell": (huge_cell, "form.xlsx", ("characters",)),
    "wrong cell types": (wrong_types, "form.xlsx", ("type",)),
    "no survey sheet": (missing_survey_sheet, "form.xlsx", ("survey",)),
    ".xls garbage behind the OLE magic": (garbage_xls_with_magic, "form.xls", ("xls",)),
    ".xls of random bytes": (garbage_xls, "form.xls", ("xls",)),
    "CSV with NUL bytes": (csv_nul_bytes, "form.csv", ("binary",)),
    "CSV with a 9 MB line": (csv_huge_line, "form.csv", ("characters",)),
    "CSV not UTF-8": (csv_invalid_utf8, "form.csv", ("utf-8",)),
    "empty file": (empty_file, "form.xlsx", ("empty",)),
    ".exe renamed .xlsx": (exe_renamed, "form.xlsx", ("xlsx",)),
    ".exe as itself": (exe_renamed, "setup.exe", ("'.exe'", "choose an xlsform")),
    ".png renamed .xlsx": (png_renamed, "form.xlsx", ("xlsx",)),
    "YAML billion laughs (anchors)": (yaml_billion_laughs, "form.yaml", ("aliases",)),
    "YAML python tags": (yaml_python_tags, "form.yaml", ("python",)),
    "YAML nested 50,000 deep": (yaml_deep_nesting, "form.yaml", ("nests",)),
    "huge Markdown form": (markdown_huge, "form.md", ("lines",)),
    "catastrophic regex in a constraint": (catastrophic_regex, "form.md", ("repeats",)),
    "file over the size limit": (oversized, "form.md", ("large",)),
}


# ----------------------------------------------------------------------------- measuring in a child
def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _measured(step: Callable[[], tuple]) -> dict:
    """Run one step with at most 512 MB more address space; report time and peak memory growth."""
    resident = _memory_kb("VmRSS")
    try:  # reset the peak (VmHWM) to the current resident size
        Path("/proc/self/clear_refs").write_text("5")
        peak_before = None
    except OSError:
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_memory_kb("VmSize") * 1024 + MEGABYTES * 1024 * 1024, hard))
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        outcome = step()
    except MemoryError:
        outcome = ("MemoryError", "")
    seconds, wall = time.process_time() - cpu_started, time.perf_counter() - started
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    peak = _memory_kb("VmHWM") if peak_before is None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown = peak - (resident if peak_before is None else min(peak_before, peak))
    return {"outcome": outcome, "seconds": seconds, "wall": wall, "megabytes": grown / 1024}


def _child(app, client, path: str, filename: str, results) -> None:
    from survey.cli import instruments_validate
    from survey.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's

    def web() -> tuple:
        with open(path, "rb") as handle:
            response = client.post(
                "/admin/instruments", data={"file": (handle, filename)}, content_type="multipart/form-data"
            )
        return response.status_code, response.get_data(as_text=True)

    def cli() -> tuple:
        runner = app.test_cli_runner()
        named = os.path.join(os.path.dirname(path), filename)
        os.replace(path, named)
        try:
            result = runner.invoke(instruments_validate, [named])
        finally:
            os.replace(named, path)
        return result.exit_code, result.output + (repr(result.exception) if result.exit_code not in (0, 1) else "")

    results.put(json.dumps({"web": _measured(web), "cli": _measured(cli)}))


def _run_case(app, client, path: Path, filename: str) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    process = context.Process(target=_child, args=(app, client, str(path), filename, results))
    process.start()
    try:
        report = json.loads(results.get(timeout=WALL_SECONDS))
    except Exception:  # noqa: BLE001 - a hung or killed child is the failure being tested for
        hung = {"outcome": ("no answer", ""), "seconds": float("inf"), "wall": float("inf"), "megabytes": 0}
        report = {"web": hung, "cli": hung}
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join()
    return report


@pytest.fixture
def admin(app, make_user):
    make_user("ada", "admin")
    client = app.test_client()
    assert sign_in(client, "ada").status_code == 302
    return client


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that an XXE would have to call."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


@pytest.mark.slow
def test_every_hostile_file_is_refused_quickly_and_within_memory(app, admin, listener, tmp_path) -> None:
    port = listener.getsockname()[1]
    failures = []
    worst = {"seconds": 0.0, "megabytes": 0.0}
    for name, (builder, filename, words) in CASES.items():
        path = tmp_path / f"case-{len(failures)}-{abs(hash(name))}.bin"
        if builder == "network":
            xxe_local_network(path, port)
        elif builder == "parameter":
            xxe_parameter_entity(path, port)
        else:
            builder(path)
        report = _run_case(app, admin, path, filename)
        path.unlink()
        web_status, web_text = report["web"]["outcome"]
        cli_status, cli_text = report["cli"]["outcome"]
        problems = []
        if not (isinstance(web_status, int) and 400 <= web_status < 500):
            problems.append(f"web answered {web_status}")
        if not any(word.lower() in web_text.lower() for word in words):
            problems.append(f"the web page does not say {words}")
        if cli_status != 1 or not any(word.lower() in cli_text.lower() for word in words):
            problems.append(f"the CLI exited {cli_status} saying {cli_text[-300:]!r}")
        for step in ("web", "cli"):
            worst["seconds"] = max(worst["seconds"], report[step]["seconds"])
            worst["megabytes"] = max(worst["megabytes"], report[step]["megabytes"])
            if report[step]["seconds"] > SECONDS or report[step]["megabytes"] > MEGABYTES:
                problems.append(f"{step} took {report[step]['seconds']:.1f} s and {report[step]['megabytes']:.0f} MB")
        print(
            f"{name}: web {web_status} {report['web']['seconds']:.2f} s CPU ({report['web']['wall']:.2f} s), "
            f"{report['web']['megabytes']:.0f} MB; cli {cli_status} {report['cli']['seconds']:.2f} s CPU, "
            f"{report['cli']['megabytes']:.0f} MB"
        )
        if problems:
            failures.append((name, problems))
    with pytest.raises(BlockingIOError):
        listener.accept()  # no XXE ever called home
    print(f"{len(CASES)} hostile files; worst {worst['seconds']:.2f} s CPU, {worst['megabytes']:.0f} MB more memory")
    assert failures == [], "\n".join(f"{name}: {'; '.join(problems)}" for name, problems in failures)
    assert len(CASES) >= 20
    # Nothing hostile was stored.
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import InstrumentVersion

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InstrumentVersion)) == 0


def test_the_untampered_workbook_these_files_start_from_is_accepted(app, admin) -> None:
    # The control: each refusal above comes from what was done to the file, not from the base.
    response = admin.post(
        "/admin/instruments", data={"file": (io.BytesIO(_workbook()), "form.xlsx")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and "hostile" in response.get_data(as_text=True)
    assert not _active_parts(_workbook())


def test_a_macro_enabled_workbook_is_read_with_its_macros_ignored(app, admin, tmp_path) -> None:
    # Issue 19: pyxform reads .xlsm forms; the macros are never run, only the sheets are read.
    path = tmp_path / "form.xlsm"
    macros_xlsm(path)
    response = admin.post(
        "/admin/instruments",
        data={"file": (io.BytesIO(path.read_bytes()), "form.xlsm")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "hostile" in page and "macros were ignored" in page
    from survey.cli import instruments_validate

    result = app.test_cli_runner().invoke(instruments_validate, [str(path)])
    assert result.exit_code == 0 and "macros were ignored" in result.output


def _active_parts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [n for n in archive.namelist() if "vba" in n or "embeddings" in n]
