"""Slow clients on the classroom Wi-Fi cannot stall `sauti serve` (survey/serving.py).

A real `sauti serve --workers 2` (Granian, two app threads per worker).  Fifty connections from
fifty addresses (127.0.0.2-51: all loopback on Linux) each declare a body and send it one byte a
second.  Meanwhile other children load and post pages: their p95 must stay under 1 s.  The slow
bodies are cut off at their deadline (408), and one address cannot hold more than four slow
bodies at once (429 for the rest).  On the old server (Granian's WSGI interface, where an app
thread reads the body) four such connections slowed everyone and six stopped the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from survey.serving import SLOW_BODIES_PER_CLIENT, body_deadline
from tests.conftest import free_port, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="binds client sockets to 127.0.0.N")]

DECLARED = 200_000  # bytes each slow body claims: a deadline of 13 s


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "SAUTI_CODE_FAILURES_PER_CLIENT": '"100000 per minute"',
        "SAUTI_CODE_FAILURES_PER_CONSULTATION": '"100000 per minute"',
    }
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    subprocess.run([*sauti, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(
        [*sauti, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/notes", seconds=60)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class SlowBody(threading.Thread):
    """One connection that sends its headers, then its body a byte at a time."""

    def __init__(self, port: int, source: str, every_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.port, self.source, self.every_s = port, source, every_s
        self.status: int | None = None
        self.reply = b""  # the start of the answer: status line and headers
        self.closed_after: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        sock = socket.socket()
        sock.bind((self.source, 0))
        sock.connect(("127.0.0.1", self.port))
        started = time.monotonic()
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {DECLARED}\r\n\r\n".encode()
        )
        sock.settimeout(self.every_s)
        try:
            while not self.stop.is_set():
                try:
                    reply = sock.recv(4096)
                except TimeoutError:
                    sock.sendall(b"x")
                    continue
                if reply.startswith(b"HTTP/1.1 "):
                    self.status = int(reply[9:12])
                    self.reply = reply
                break
        except OSError:
            pass
        finally:
            self.closed_after = time.monotonic() - started
            sock.close()


def _timed(url: str, data: bytes | None = None) -> tuple[float, int]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:  # 127.0.0.1
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        return 10.0, 0
    return time.monotonic() - started, status


def test_fifty_slow_bodies_do_not_stall_other_children(server) -> None:
    port = server
    slow = [SlowBody(port, f"127.0.0.{n}") for n in range(2, 52)]
    for connection in slow:
        connection.start()
    time.sleep(2)  # all fifty are now past "slow" and each holds a connection
    latencies, statuses = [], []
    base = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 8
    while time.monotonic() < until:
        for url, data in ((base + "/", None), (base + "/help", None), (base + "/", b"code=ZZZZ-ZZZZ-ZZZZ")):
            latency, status = _timed(url, data)
            latencies.append(latency)
            statuses.append(status)
    held = sum(connection.is_alive() for connection in slow)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\nslow connections held: {held}; other requests: {len(latencies)}, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    assert held == 50
    assert set(statuses) <= {200, 400}, statuses
    assert p95 < 1.0
    # Each slow body is refused once its deadline has passed: bounded, not held for ever.
    for connection in slow:
        connection.join(timeout=body_deadline(DECLARED) + 10)
    assert [connection.status for connection in slow] == [408] * 50
    assert max(connection.closed_after for connection in slow) < body_deadline(DECLARED) + 5


def test_one_address_holds_at_most_four_slow_bodies(server) -> None:
    slow = [SlowBody(server, "127.0.0.60", every_s=0.5) for _ in range(10)]
    for connection in slow:
        connection.start()
        time.sleep(0.05)
    time.sleep(3.5)  # slow after 1 s: the fifth and later are refused then
    refused = [connection for connection in slow if connection.status == 429]
    # Two worker processes, each holding its half (two): at most four held in all, fewer when the
    # kernel handed one worker fewer than two of the ten (CI once saw 1 + 2 held, 7 refused).
    assert 10 - SLOW_BODIES_PER_CLIENT <= len(refused) <= 10 - SLOW_BODIES_PER_CLIENT // 2
    assert all(connection.closed_after < 4 for connection in refused)
    # The front's own refusals carry the same security headers as the app's answers.
    for connection in refused:
        head = connection.reply.lower()
        assert b"content-security-policy: default-src 'self'" in head, head
        assert b"x-content-type-options: nosniff" in head and b"server: sauti" in head, head
    for connection in slow:
        connection.stop.set()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply:
            part = sock.recv(4096)
            if not part:
                break
            reply += part
        return reply


def test_bodies_whole_chunked_or_too_large(server) -> None:
    # Declared larger than MAX_CONTENT_LENGTH (16 MB): refused before a byte of it is read.
    started = time.monotonic()
    reply = _raw(
        server,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 17000000\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5
    assert b"connection: close" in reply.lower()
    # A chunked body reaches the app whole: a wrong code, so the form was read (400).
    body = b"code=ZZZZ-ZZZZ-ZZZZ"
    reply = _raw(
        server,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    # Headers and status come back once: no doubled Content-Length from the front.
    with urllib.request.urlopen(f"http://127.0.0.1:{server}/help", timeout=10) as response:
        assert len(response.headers.get_all("Content-Length")) == 1
        assert response.headers["Server"] == "Sauti"


def test_headers_sent_a_byte_at_a_time_are_cut_off(server) -> None:
    from survey.serving import HEADER_READ_TIMEOUT_MS

    with socket.create_connection(("127.0.0.1", server), timeout=1) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        while time.monotonic() - started < 40:
            try:
                sock.sendall(b"X")
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        # Granian's own limit (30 s by default) was in force before; now 10 s.
        assert closed and time.monotonic() - started < HEADER_READ_TIMEOUT_MS / 1000 + 5
