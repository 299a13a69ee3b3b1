"""Kill -9 the real server three times while children save pages: no acknowledged answer is lost.

The server is `sauti serve --workers 2` (two Granian worker processes), on SQLite or, when the
tests run on PostgreSQL, on a scratch schema there; each kill takes the whole process group.
Every page save that got its "302 Found" must be in the database afterwards, exactly once, and
SQLite's integrity check must pass.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import _postgres_url, free_port, scratch_database_url, wait_until_serving

pytestmark = pytest.mark.slow

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _Child:
    def __init__(self, base: str, code: str) -> None:
        self.base, self.code = base, code
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        self.acknowledged: list[str] = []

    def call(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Location", "")

    def form(self, path: str, data: dict) -> tuple[int, str]:
        status, html, _ = self.call(path)
        status, _, location = self.call(path, {**data, "csrf_token": TOKEN.search(html).group(1)})
        return status, location

    def run(self, stop: threading.Event) -> None:
        stage = 0
        index = 0
        while not stop.is_set():
            try:
                if stage == 0:
                    self.form("/", {"code": self.code})
                    self.form("/p/age", {"age": "12"})
                    self.form("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes"})
                    stage = 1
                status, html, location = self.call(f"/p/q/{index}")
                if status != 200:
                    match = re.search(r"/p/q/(\d+)", location)
                    index = int(match.group(1)) if match else 0
                    if not match:
                        stage = 0 if location.endswith("/") else stage
                        time.sleep(0.1)
                    continue
                token = PAGE_TOKEN.search(html).group(1)
                status, _, location = self.call(
                    f"/p/q/{index}", {"csrf_token": TOKEN.search(html).group(1), "page_token": token, "nav": "next"}
                )
                if status == 302:
                    self.acknowledged.append(token)
                    match = re.search(r"/p/q/(\d+)", location)
                    index = int(match.group(1)) if match else 0
            except (OSError, AttributeError, http.client.HTTPException):
                time.sleep(0.2)  # the server is down, or a page came back half-written: try again


def _start(command: list[str], env: dict, base: str) -> subprocess.Popen:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    wait_until_serving(base + "/")
    return process


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database_url(tmp_path, "sauti_kill") as url:
        yield url


def test_kill_nine_three_times_loses_no_acknowledged_answer(tmp_path, scratch_url: str) -> None:
    instance = tmp_path / "instance"
    postgres, url = _postgres_url(), scratch_url
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SAUTI_CODE_ATTEMPTS_PER_CLIENT": '"100000 per minute"',
        "SAUTI_CODE_ATTEMPTS_GLOBAL": '"100000 per minute"',
    }
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    setup = subprocess.run(
        [*sauti, "demo", "--no-serve", "--codes", "12"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    codes = [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*sauti, "serve", "--port", str(port), "--workers", "2", "--threads", "8"]
    server = _start(command, env, base)
    children = [_Child(base, code) for code in codes]
    stop = threading.Event()
    threads = [threading.Thread(target=child.run, args=(stop,)) for child in children]
    for thread in threads:
        thread.start()

    def wait_for_saves(count: int) -> None:
        # Kill only once the children have saved more pages since the last kill (a busy
        # machine is slower; the test waits for real work instead of a fixed time).
        target = sum(len(child.acknowledged) for child in children) + count
        deadline = time.monotonic() + 60
        while sum(len(child.acknowledged) for child in children) < target and time.monotonic() < deadline:
            time.sleep(0.1)

    try:
        for _ in range(3):
            wait_for_saves(8)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
            server = _start(command, env, base)
        wait_for_saves(8)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)

    acknowledged = [token for child in children for token in child.acknowledged]
    assert len(acknowledged) >= 32, "the load did too little to prove anything"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = set(connection.exec_driver_sql("SELECT token FROM page_save").scalars())
        duplicates = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM (SELECT participant_id, item FROM answer GROUP BY participant_id, item "
            "HAVING COUNT(*) > 1) AS twice"
        ).scalar()
    engine.dispose()
    assert set(acknowledged) <= stored
    assert len(acknowledged) == len(set(acknowledged)) and duplicates == 0
    if not postgres:
        with sqlite3.connect(tmp_path / "sauti.sqlite") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
