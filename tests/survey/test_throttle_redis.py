"""Throttling shared across real server processes through Redis, and failing closed without it.

Two `sauti serve --workers 1` servers (one Granian worker process each) on 127.0.0.1 share one
database and one Redis (127.0.0.1:6379, database 13 on SQLite and 14 on PostgreSQL, emptied first:
CI runs the two at the same time).  Requests alternate between them, so a limit that each process
kept in its own memory would let twice as many attempts through: the test shows the combined limit
holds (10 code guesses a minute per client; 5 failed sign-ins per name), and that forged
X-Forwarded-For / X-Real-IP headers make no new client (the server passes the connection's own
address, whatever the headers say).  Then a server whose Redis is a closed port refuses every
code, even a real one, saying the service is briefly unavailable (503): never unlimited; sign-in,
counted in the database, goes on working and limited.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack

import pytest
import redis

from tests.conftest import STRONG_PASSWORD, _postgres_url, free_port, scratch_database_url, wait_until_serving

pytestmark = pytest.mark.slow

# One Redis database per test database: CI's SQLite and PostgreSQL runs go at the same time, and
# each empties its own and counts only its own guesses.
REDIS_DB = 14 if _postgres_url() else 13
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SAUTI = [sys.executable, "-c", "from survey.cli import main; main()"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _Browser:
    """One device: its own cookies; forms are fetched first for their CSRF token."""

    def __init__(self, headers: dict | None = None) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        self.headers = headers or {}

    def call(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body, headers=self.headers), timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def form(self, url: str, data: dict) -> tuple[int, str]:
        _, html = self.call(url)
        match = TOKEN.search(html)
        return self.call(url, {**data, "csrf_token": match.group(1) if match else ""})


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A database with the demo consultation (its session open, codes issued) and one staff user."""
    tmp_path = tmp_path_factory.mktemp("throttle")
    with scratch_database_url(tmp_path, "sauti_throttle") as url:
        yield _demo_database(tmp_path, url)


def _demo_database(tmp_path, url: str) -> tuple[dict, list[str]]:
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": url,
        "SAUTI_SESSION_COOKIE_SECURE": "false",
    }
    setup = subprocess.run(
        [*SAUTI, "demo", "--no-serve", "--codes", "3"], env=env, capture_output=True, text=True, check=True, timeout=180
    )
    codes = [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
    subprocess.run(
        [*SAUTI, "users", "create", "fiona", "--role", "facilitator", "--password-stdin"],
        env=env,
        input=STRONG_PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return env, codes


def _serve(stack: ExitStack, env: dict, storage: str) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*SAUTI, "serve", "--port", str(port), "--workers", "1"],
        env={**env, "SAUTI_RATELIMIT_STORAGE_URI": storage},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def stop() -> None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    stack.callback(stop)
    wait_until_serving(base + "/notes", seconds=60)
    return base


def _wrong_code(n: int) -> str:
    return f"ZZZZZ-{n:05d}"[:11]


def test_limits_hold_across_two_processes_sharing_redis(database) -> None:
    env, codes = database
    storage = f"redis://127.0.0.1:6379/{REDIS_DB}"
    store = redis.Redis.from_url(storage)
    store.flushdb()
    with ExitStack() as stack:
        servers = [_serve(stack, env, storage), _serve(stack, env, storage)]

        # Code guesses: 30 from one device, alternating between the two processes.
        statuses = []
        for n in range(30):
            status, _ = _Browser().form(servers[n % 2] + "/", {"code": _wrong_code(n)})
            statuses.append(status)
        evaluated = [s for s in statuses if s != 429]
        assert len(evaluated) == 10, statuses  # 10 a minute per client, together, not 10 per process
        assert statuses[10:] == [429] * 20
        assert any(b"code:client:" in key for key in store.keys())
        # Forged forwarding headers do not make a new client: still refused unseen.
        forged = [
            _Browser({"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"}).form(
                servers[n % 2] + "/", {"code": _wrong_code(100 + n)}
            )[0]
            for n in range(20)
        ]
        assert forged == [429] * 20

        # Sign-in failures for one name, alternating: the sixth attempt is refused on either
        # process, even with the right password.
        sign_ins = [
            _Browser().form(servers[n % 2] + "/staff/sign-in", {"username": "fiona", "password": "wrong password!!"})[0]
            for n in range(5)
        ]
        assert sign_ins == [401] * 5
        for base in servers:
            status, html = _Browser().form(base + "/staff/sign-in", {"username": "fiona", "password": STRONG_PASSWORD})
            assert status == 429 and "Too many failed sign-ins" in html
        # Another name is not locked out by fiona's failures (the per-name limit is per name).
        assert (
            _Browser().form(servers[1] + "/staff/sign-in", {"username": "nobody", "password": "wrong password!!"})[0]
            == 401
        )
    store.flushdb()
    store.close()


def test_with_redis_down_sign_in_and_codes_are_refused_never_unlimited(database) -> None:
    env, codes = database
    with ExitStack() as stack:
        closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        base = _serve(stack, env, closed)
        # Sign-in failures are counted in the database, so sign-in works without Redis and is
        # still limited; unlocked by an administrator, fiona gets in.
        for _ in range(6):
            _Browser().form(base + "/staff/sign-in", {"username": "fiona", "password": "wrong password!!"})
        status, html = _Browser().form(base + "/staff/sign-in", {"username": "fiona", "password": STRONG_PASSWORD})
        assert status == 429 and "Too many failed sign-ins" in html
        subprocess.run([*SAUTI, "users", "unlock", "fiona"], env=env, check=True, capture_output=True, timeout=60)
        assert _Browser().form(base + "/staff/sign-in", {"username": "fiona", "password": STRONG_PASSWORD})[0] == 302
        refused = [_Browser().form(base + "/", {"code": _wrong_code(n)})[0] for n in range(25)]
        assert refused == [503] * 25
        # Even a real code is refused while guesses cannot be counted (fail closed), and the
        # child is told the service is briefly unavailable, not that they tried too often.
        status, html = _Browser().form(base + "/", {"code": codes[0]})
        assert status == 503
        assert "try again in a minute" in html.lower() and "too many tries" not in html.lower()
