"""Double submits against the real server: ten identical page POSTs at once are stored once,
and a replay of the used page token with different answers gets 409.

tests/survey/test_journey.py checks the same through the Flask test client; here the requests
go over real sockets to `sauti serve --workers 2 --threads 8` (two Granian worker processes) on
SQLite or PostgreSQL, so the ten arrive truly concurrently, across processes too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from tests.conftest import free_port, scratch_database_url
from tests.survey.test_durability import PAGE_TOKEN, TOKEN, _Child, _start

pytestmark = pytest.mark.slow


def _radios(html: str) -> dict[str, list[str]]:
    """The page's choice groups (radio buttons and checkboxes): name -> values, in page order."""
    groups: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        attributes = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))
        if attributes.get("type") in ("radio", "checkbox") and attributes.get("name", "").startswith("q_"):
            groups.setdefault(attributes["name"], []).append(attributes["value"])
    return {name: values for name, values in groups.items() if len(values) > 1}


@pytest.fixture
def server(tmp_path):
    with scratch_database_url(tmp_path, "sauti_double") as url:
        yield from _serve_demo(tmp_path, url)


def _serve_demo(tmp_path, url: str):
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": url,
        "SAUTI_SESSION_COOKIE_SECURE": "false",
    }
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    setup = subprocess.run(
        [*sauti, "demo", "--no-serve", "--codes", "2"], env=env, capture_output=True, text=True, check=True, timeout=180
    )
    codes = [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*sauti, "serve", "--port", str(port), "--workers", "2", "--threads", "8"]
    process = _start(command, env, base)
    engine = sa.create_engine(url)
    yield base, codes, engine
    engine.dispose()
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def test_ten_concurrent_identical_posts_store_once_and_an_altered_replay_gets_409(server) -> None:
    base, codes, engine = server
    child = _Child(base, codes[0])
    assert child.form("/", {"code": child.code})[0] == 302
    assert child.form("/p/age", {"age": "12"})[0] == 302
    assert child.form("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes"})[0] == 302
    status, html, _ = child.call("/p/q/0")
    assert status == 200
    # The first page of the bundled consultation: answer every single-choice question on it.
    radios = _radios(html)
    choices = {name: values[0] for name, values in radios.items()}
    assert choices, "the first page has no choice question to answer"
    data = {
        **choices,
        "csrf_token": TOKEN.search(html).group(1),
        "page_token": PAGE_TOKEN.search(html).group(1),
        "nav": "next",
    }
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        barrier.wait()  # all ten leave together
        statuses.append(child.call("/p/q/0", data)[0])

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302] * 10
    with engine.connect() as connection:
        saves = connection.execute(
            sa.text("SELECT COUNT(*) FROM page_save WHERE token = :t"), {"t": data["page_token"]}
        ).scalar()
        answers = dict(connection.execute(sa.text("SELECT item, COUNT(*) FROM answer GROUP BY item")).all())
    assert saves == 1
    assert answers and set(answers.values()) == {1}  # one row per item, whatever the ten did
    assert set(answers) == {name.removeprefix("q_") for name in choices}

    # The same page token again, with a different answer: refused, and the stored answer stays.
    name = next(iter(choices))
    changed = next(v for v in radios[name] if v != choices[name])
    status, _, _ = child.call("/p/q/0", {**data, name: changed})
    assert status == 409
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT value FROM answer WHERE item = :i"), {"i": name.removeprefix("q_")}
        ).scalar()
    assert choices[name] in stored and changed not in stored
