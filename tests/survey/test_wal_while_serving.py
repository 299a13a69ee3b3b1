"""A running server leaves no deleted answer on disk, and its write-ahead log stays small.

Found by an outside review of ``sauti demo``: the command's own database session kept a read
transaction open for the life of the server, so on SQLite no checkpoint could pass it, the
``-wal`` file grew without end and a child's deleted answers stayed readable in it until the
server stopped.  These tests run the real ``sauti demo`` (Granian worker processes, SQLite in
WAL mode) and look at the files from outside, as the reviewer did.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="Granian's worker processes")]

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="(q_[^"]+)"')
RADIO = re.compile(r'<input[^>]*type="radio"[^>]*name="(q_[^"]+)"[^>]*value="([^"_][^"]*)"')
CODE = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"
CODES = re.compile(rf"^\s+({CODE})\s+withdrawal: ({CODE})$", re.M)
#: What two children write, to look for in the database files after they delete it.
MARKERS = ("quetzalmarmaladeorbit", "pangolinharmonicadusk")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the child follows redirects itself
        return None


class Phone:
    """One child's browser: its own cookies, redirects followed by hand."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.requests = 0

    def _send(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        self.requests += 1
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as answer:
            location = answer.headers.get("Location", "")
            return answer.code, urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl(), ""

    def get(self, path: str) -> tuple[str, str]:
        """The address reached and its page, redirects followed."""
        for _ in range(10):
            status, location, page = self._send(path)
            if status not in (302, 303):
                assert status == 200, f"GET {path}: HTTP {status}"
                return path, page
            path = location
        raise AssertionError(f"too many redirects from {path}")

    def post(self, path: str, page: str, form: dict) -> tuple[str, str]:
        status, location, _ = self._send(path, {"csrf_token": CSRF.search(page).group(1), **form})
        assert status in (302, 303), f"POST {path}: HTTP {status}"
        return self.get(location)


def _answer_pages(phone: Phone, code: str, written: str, pages: int, *, until_written: bool = False) -> tuple[str, str]:
    """Code, age, Yes, then up to ``pages`` question pages answered (``written`` in every box;
    ``until_written``: stop after the first page with a box)."""
    where, page = phone.post("/", phone.get("/")[1], {"code": code})
    assert where == "/p/age", where
    where, page = phone.post(where, page, {"age": "15"})
    where, page = phone.post(where, page, {"check_0": "0", "check_1": "0", "decision": "yes"})
    for _ in range(pages):
        if not re.fullmatch(r"/p/q/\d+", where):
            break
        answers = dict.fromkeys(TEXTAREA.findall(page), written)
        boxes = bool(answers)
        for name, value in RADIO.findall(page):
            answers.setdefault(name, value)
        form = {**answers, "page_token": PAGE_TOKEN.search(page).group(1), "nav": "next"}
        where, page = phone.post(where, page, form)
        if boxes and until_written:
            break
    return where, page


def _checkpoint_from_outside(database: Path) -> tuple[int, int, int]:
    connection = sqlite3.connect(database, timeout=2)
    try:
        return connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()


def _file_bytes(database: Path) -> bytes:
    return b"".join(path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists())


@pytest.fixture
def demo(tmp_path):
    """``sauti demo`` serving on a free port; (port, database, codes, log)."""
    database = tmp_path / "demo.sqlite"
    env = {**os.environ, "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("SAUTI_RETENTION_SCHEDULE", None)
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", "from survey.cli import main; main()", "demo", "--codes", "6", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while '"retention run"' not in log.read_text(errors="replace"):  # the start-up run is done
            assert server.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        # The start-up retention run can finish before Granian listens on the port.
        wait_until_serving(f"http://127.0.0.1:{port}/", 60)
        yield port, database, CODES.findall(log.read_text()), log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_stop_and_delete_and_the_withdrawal_code_leave_nothing_in_a_running_servers_files(demo) -> None:
    port, database, codes, log = demo
    # Children answering, and one who reads pages on after the others deleted.
    reader = Phone(port)
    _answer_pages(reader, codes[0][0], "A helpline that answers at night", 2)
    stopper = Phone(port)
    where, page = _answer_pages(stopper, codes[1][0], f"I would tell {MARKERS[0]} first", 40, until_written=True)
    assert re.fullmatch(r"/p/q/\d+", where), where
    finisher = Phone(port)
    where_f, page_f = _answer_pages(finisher, codes[2][0], f"Ask {MARKERS[1]} at school", 40)
    assert where_f == "/p/end", where_f
    finisher.post(where_f, page_f, {"decision": "yes"})
    assert [marker for marker in MARKERS if marker.encode() in _file_bytes(database)] == list(MARKERS)

    # Stop and delete, then the withdrawal code of the finished response.
    where, page = stopper.get("/p/stop")
    stopper.post("/p/stop", page, {"choice": "delete"})
    withdrawing = Phone(port)
    form = {"csrf_token": CSRF.search(withdrawing.get("/change")[1]).group(1), "code": codes[2][1]}
    assert withdrawing._send("/change", form)[0] == 200  # the page says what happened
    for _ in range(3):  # the other child goes on reading and answering
        reader.get("/p/")

    # Neither the database nor its write-ahead log holds a deleted word: the server made sure ...
    left = _file_bytes(database)
    assert not [marker for marker in MARKERS if marker.encode() in left], log.read_text(errors="replace")[-3000:]
    assert "checkpoint deferred" not in log.read_text(errors="replace")
    # ... and, idle between requests, no connection of the server holds a snapshot.
    assert _checkpoint_from_outside(database)[0] == 0


def test_the_write_ahead_log_stays_small_over_many_requests(demo) -> None:
    port, database, codes, _log = demo
    phones = [Phone(port) for _ in codes[:4]]
    at = [_answer_pages(phone, code, "Somebody to talk to", 2) for phone, (code, _) in zip(phones, codes, strict=False)]
    step = 0
    while sum(phone.requests for phone in phones) < 300:  # saving the same pages again and again
        for number, phone in enumerate(phones):
            where, page = at[number]
            answers = dict.fromkeys(TEXTAREA.findall(page), f"Somebody to talk to, take {step}")
            form = {**answers, "page_token": PAGE_TOKEN.search(page).group(1), "nav": ("back", "next")[step % 2]}
            at[number] = phone.post(where, page, form)
        step += 1
    # With no snapshot held, SQLite's automatic checkpoints (every 1000 pages) reuse the log
    # from its start instead of appending to it for ever.
    size = Path(f"{database}-wal").stat().st_size
    print(f"write-ahead log after {sum(phone.requests for phone in phones)} requests: {size} bytes")
    assert size < 6 * 1024 * 1024
    assert _checkpoint_from_outside(database)[0] == 0
