"""`sauti serve --workers N`: several Granian worker processes on one SQLite file, limits that
never add up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from survey.throttle import hit
from tests.conftest import free_port, wait_until_serving
from tests.survey.test_throttle_redis import _Browser, _wrong_code

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_enforces_its_share_of_a_limit_kept_in_memory(make_app) -> None:
    app = make_app(THROTTLE_WORKERS=2)
    with app.test_request_context():
        allowed = sum(hit("10 per minute", "code:client:test") for _ in range(20))
    assert allowed == 5  # two workers, each 5: never more than the 10 configured


def test_one_process_enforces_the_whole_limit(make_app) -> None:
    app = make_app()
    with app.test_request_context():
        assert sum(hit("10 per minute", "code:client:test") for _ in range(20)) == 10


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _serve_two_workers(tmp_path, port: int) -> subprocess.Popen:  # pytest's tmp_path
    """`sauti serve --workers 2` on a fresh SQLite file (its output kept in ``server.stdout``)."""
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
    }
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    subprocess.run([*sauti, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    return subprocess.Popen(
        [*sauti, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="counts worker processes through /proc")
def test_sauti_serve_runs_two_worker_processes(tmp_path) -> None:
    port = free_port()
    server = _serve_two_workers(tmp_path, port)
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    assert response.headers["Server"] == "Sauti"
                    assert "csrf_token" in response.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert len(_children_of(server.pid)) == 2
        # The workers learnt that they are two (THROTTLE_WORKERS, through the environment): each
        # allows half of the 10 code guesses a minute per client, so together never more than 10.
        statuses = [_Browser().form(f"http://127.0.0.1:{port}/", {"code": _wrong_code(n)})[0] for n in range(30)]
        assert 5 <= sum(status != 429 for status in statuses) <= 10, statuses
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()


@pytest.mark.skipif(sys.platform != "linux", reason="finds worker processes through /proc")
def test_workers_stop_when_the_server_process_is_killed_outright(tmp_path) -> None:
    """A main process killed with SIGKILL must not leave workers answering on the port."""
    port = free_port()
    server = _serve_two_workers(tmp_path, port)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", seconds=40)
        workers = _children_of(server.pid)
        assert len(workers) == 2
    finally:
        server.kill()
        server.wait(timeout=20)
        server.stdout.close()
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{pid}") and not _is_zombie(pid) for pid in workers):
        assert time.monotonic() < deadline, "the workers went on running without their server"
        time.sleep(0.2)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_requests_never_carry_the_server_process_environment() -> None:
    """Granian copies the process environment into every request: the served app drops it."""
    from survey.wsgi import _without_process_environment

    seen: dict = {}

    def inner(environ, start_response):  # a WSGI app
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    process = {
        "SAUTI_SECRET_KEY": "s3cret",
        "DATABASE_URL": "postgresql://u:pw@db/x",
        "HTTP_PROXY": "http://evil",
        "PATH_INFO": "/from-the-environment",
        "HOME": "/root",
    }
    request = {
        **process,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/p/q/1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    _without_process_environment(inner, process)(request, lambda *_: None)
    assert not {"SAUTI_SECRET_KEY", "DATABASE_URL", "HTTP_PROXY", "HOME"} & set(seen)
    assert seen["PATH_INFO"] == "/p/q/1" and seen["HTTP_HOST"] == "127.0.0.1" and seen["REQUEST_METHOD"] == "GET"


def test_the_helper_process_ends_when_its_server_worker_dies(tmp_path) -> None:
    """A worker killed outright (no shutdown) must not leave its helper behind, holding memory."""
    script = tmp_path / "worker.py"
    script.write_text(
        "import os\n"
        "from survey import create_app\n"
        "from survey.services import offload\n"
        "if __name__ == '__main__':  # the helper is spawned, and imports this file again\n"
        f"    app = create_app({{'TESTING': True, 'SECRET_KEY': 'x' * 40, 'OFFLOAD_HEAVY_WORK': True, "
        f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/unused.sqlite'}}, instance_path={str(tmp_path)!r})\n"
        "    with app.app_context():\n"
        "        print(offload.run(os.getpid), flush=True)\n"
        "    os._exit(0)  # as a SIGKILLed worker: no atexit, no pool shutdown\n"
    )
    with open(tmp_path / "stderr.txt", "w") as stderr:
        # Not subprocess.run: a helper left behind would keep its stdout open for ever.
        worker = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT
        )
        line = worker.stdout.readline()
        worker.stdout.close()
        assert worker.wait(timeout=120) == 0, (tmp_path / "stderr.txt").read_text()
    helper = int(line)
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{helper}") and not _is_zombie(helper):
        assert time.monotonic() < deadline, "the report helper went on running without its worker"
        time.sleep(0.1)


def test_the_served_app_sends_reports_to_the_helper_process(monkeypatch, tmp_path) -> None:
    from survey.wsgi import create_served_app

    monkeypatch.setenv("SAUTI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SAUTI_SECRET_KEY", "k" * 40)
    # No field laptop's concern push: its thread would outlive this test, trying every 30 s a
    # database that has no tables and logging after pytest has closed its output.
    monkeypatch.setenv("SAUTI_SYNC_CONCERN_PUSH_SECONDS", "0")
    monkeypatch.delenv("SAUTI_OFFLOAD_HEAVY_WORK", raising=False)
    assert create_served_app().config["OFFLOAD_HEAVY_WORK"] is True
    monkeypatch.setenv("SAUTI_OFFLOAD_HEAVY_WORK", "false")
    assert create_served_app().config["OFFLOAD_HEAVY_WORK"] is False
