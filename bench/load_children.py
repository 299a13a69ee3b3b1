"""Load benchmark: simulated children taking the bundled consultation on a real server.

Starts ``sauti serve`` (waitress, SQLite by default; set DATABASE_URL for PostgreSQL) on
127.0.0.1, then lets N children (band C, age 15) work through code → age → assent → every page
→ the end, each waiting 1-3 s between pages as a child would.  Prints completed surveys, page
saves per second and p50/p95/p99 latency per request type, checks in the database that every
acknowledged page save is stored exactly once, and writes bench/results/load_children.json.

    .venv/bin/python bench/load_children.py                      # 500 children, 1-3 s think time
    .venv/bin/python bench/load_children.py --throughput          # no think time, 64 connections

Targets (issue 5): 0 lost or duplicated answers, 0 server errors, p95 <= 300 ms and p99 <= 1 s
with 500 children; >= 200 page saves per second in throughput mode.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')
RADIO = re.compile(r'<input[^>]*type="radio"[^>]*name="(q_[^"]+)"[^>]*value="([^"_][^"]*)"'
                   r'|<input[^>]*name="(q_[^"]+)"[^>]*type="radio"[^>]*value="([^"_][^"]*)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class Child:
    def __init__(self, base: str, code: str, latencies: list, lock: threading.Lock) -> None:
        self.base, self.code, self.latencies, self.lock = base, code, latencies, lock
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
        self.saves = 0
        self.errors: list[str] = []

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                status, text, location = response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            status, text, location = error.code, error.read().decode(), error.headers.get("Location", "")
        elapsed = time.perf_counter() - started
        kind = ("save" if data is not None else "page") if path.startswith("/p/q/") else (
            path.strip("/").replace("/", "_") or "start") + ("_post" if data is not None else "")
        with self.lock:
            self.latencies.append((elapsed, kind))
        if status >= 500:
            self.errors.append(f"{status} {path}")
        return status, text, location

    def run(self, pages: int, think: tuple[float, float]) -> None:
        self.completed = False
        _, html, _ = self.request("/")
        self.request("/", {"code": self.code, "csrf_token": TOKEN.search(html).group(1)})
        _, html, _ = self.request("/p/age")
        self.request("/p/age", {"age": "15", "csrf_token": TOKEN.search(html).group(1)})
        _, html, _ = self.request("/p/about")
        self.request("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes",
                                  "csrf_token": TOKEN.search(html).group(1)})
        index = 0
        for _ in range(pages):
            time.sleep(random.uniform(*think))
            status, html, location = self.request(f"/p/q/{index}")
            if status in (301, 302, 303):
                match = re.search(r"/p/q/(\d+)", location)
                if not match:
                    break
                index = int(match.group(1))
                status, html, location = self.request(f"/p/q/{index}")
            if status != 200 or not PAGE_TOKEN.search(html):
                self.errors.append(f"page {index}: {status}")
                break
            data = {"csrf_token": TOKEN.search(html).group(1), "page_token": PAGE_TOKEN.search(html).group(1),
                    "nav": "next"}
            for match in RADIO.finditer(html):
                name, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
                data.setdefault(name, value)
            status, _, location = self.request(f"/p/q/{index}", data)
            if status == 302:
                self.saves += 1
                match = re.search(r"/p/q/(\d+)", location)
                if not match:
                    if location.endswith("/p/end"):
                        _, html, _ = self.request("/p/end")
                        status, _, _ = self.request("/p/end", {"decision": "yes",
                                                               "csrf_token": TOKEN.search(html).group(1)})
                        self.completed = status == 302
                    break
                index = int(match.group(1))
            else:
                self.errors.append(f"save {index}: {status}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--pages", type=int, default=100, help="stop after this many pages (default: all)")
    parser.add_argument("--throughput", action="store_true",
                        help="no think time, 64 children at once: the maximum page saves per second")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0))
    parser.add_argument("--threads", type=int, default=32, help="worker threads (per process)")
    parser.add_argument("--server", choices=["waitress", "gunicorn"], default="waitress",
                        help="waitress (`sauti serve`, one process) or gunicorn with --workers processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    if args.throughput:
        args.children, args.think = 64, (0.0, 0.0)
    output = args.output or str(ROOT / "bench" / "results" /
                                ("load_children_throughput.json" if args.throughput else "load_children.json"))

    instance = tempfile.mkdtemp(prefix="sauti-load-")
    env = {**os.environ, "SAUTI_INSTANCE_PATH": instance, "SAUTI_CODE_ATTEMPTS_PER_CLIENT": json.dumps(
        "100000 per minute"), "SAUTI_CODE_ATTEMPTS_GLOBAL": json.dumps("100000 per minute")}
    env.setdefault("DATABASE_URL", f"sqlite:///{instance}/sauti.sqlite")
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    setup = subprocess.run([*sauti, "demo", "--no-serve", "--codes", str(args.children)], env=env,
                           capture_output=True, text=True, check=True)
    codes = [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
    port = free_port()
    server_log = open(os.path.join(instance, "server.log"), "w")  # noqa: SIM115 - closed after the run
    if args.server == "gunicorn":
        env["SAUTI_SESSION_COOKIE_SECURE"] = "false"
        command = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads),
                   "-b", f"127.0.0.1:{port}", "survey:create_app()"]
    else:
        command = [*sauti, "serve", "--port", str(port), "--threads", str(args.threads)]
    server = subprocess.Popen(command, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1).close()  # noqa: S310 - our own server on 127.0.0.1
            break
        except OSError:
            time.sleep(0.2)
    latencies: list[tuple[float, bool]] = []
    lock = threading.Lock()
    children = [Child(base, code, latencies, lock) for code in codes]
    threads = [threading.Thread(target=c.run, args=(args.pages, tuple(args.think))) for c in children]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # children arrive over a few seconds, not in one instant
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.terminate()
    server.wait(timeout=20)
    server_log.close()
    errors_logged = [line for line in open(os.path.join(instance, "server.log"), encoding="utf-8")
                     if '"levelname": "ERROR"' in line]
    for line in errors_logged[:5]:
        print(line[:2000], file=sys.stderr)

    acknowledged = sum(c.saves for c in children)
    stored = duplicated = None
    if env["DATABASE_URL"].startswith("sqlite"):
        with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as connection:
            stored = connection.execute("SELECT COUNT(*) FROM page_save").fetchone()[0]
            duplicated = connection.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM answer GROUP BY participant_id, item HAVING COUNT(*) > 1)"
            ).fetchone()[0]
    all_ms = sorted(ms * 1000 for ms, _ in latencies)
    by_kind: dict[str, list[float]] = {}
    for seconds, kind in latencies:
        by_kind.setdefault(kind, []).append(seconds * 1000)

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else float("nan")

    result = {
        "children": len(children), "pages_each": args.pages, "think_seconds": list(args.think),
        "database": env["DATABASE_URL"].split(":")[0], "server": args.server, "threads": args.threads,
        "workers": args.workers if args.server == "gunicorn" else 1,
        "requests": len(all_ms), "elapsed_s": round(elapsed, 1),
        "p50_ms": pct(all_ms, 0.50), "p95_ms": pct(all_ms, 0.95), "p99_ms": pct(all_ms, 0.99),
        "by_request_type": {kind: {"n": len(v), "p50_ms": pct(sorted(v), 0.5), "p95_ms": pct(sorted(v), 0.95),
                                   "p99_ms": pct(sorted(v), 0.99)} for kind, v in sorted(by_kind.items())},
        "surveys_completed": sum(1 for c in children if getattr(c, "completed", False)),
        "page_saves_acknowledged": acknowledged,
        "page_saves_in_database": stored, "lost_saves": None if stored is None else acknowledged - stored,
        "duplicated_answers": duplicated,
        "errors_5xx": sum(len(c.errors) for c in children),
        "server_errors_logged": len(errors_logged),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "saves_per_s_mean": round(acknowledged / elapsed, 1),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    Path(output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["errors_5xx"] == 0 and not result["lost_saves"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
