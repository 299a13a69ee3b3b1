"""Load benchmark: simulated children taking the bundled consultation on a real server.

Starts ``sauti serve`` (Granian; SQLite by default, set DATABASE_URL for PostgreSQL) on
127.0.0.1, then lets N children (band C, age 15), arriving over the first 30 s, work through
code -> age -> assent -> every page -> the end, each reading every screen for 1-3 s before
answering it, and following every redirect as a phone's browser does.
Each child is one keep-alive connection, as a phone's browser is; the generator is one asyncio
process with a small HTTP/1.1 client, so that it takes little of the CPU it shares with the server.

It prints completed surveys, page saves per second, p50/p95/p99 latency per request type and
errors (with the first server errors from the server's log, which is kept), then checks in the
database that every acknowledged answer is stored, exactly once and with the value sent, and
writes bench/results/load_children*.json.

    .venv/bin/python bench/load_children.py                      # 500 children, 1-3 s think time
    .venv/bin/python bench/load_children.py --throughput          # no think time, 64 connections
    .venv/bin/python bench/load_children.py --workers 1           # one Granian worker process
    .venv/bin/python bench/load_children.py --reports-every 5     # and an analyst downloading the PDF report
    .venv/bin/python bench/load_children.py --server-cpus 1       # a slower laptop: the server on one core,
                                                                  # the generator on the others

Targets (issue 5): 0 lost or duplicated answers, 0 server errors, p95 <= 300 ms and p99 <= 1 s
with 500 children; >= 200 page saves per second in throughput mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'(\w+)="([^"]*)"')
PAGE_PATH = re.compile(r"/p/q/(\d+)")


class Connection:
    """One keep-alive HTTP/1.1 connection with its own cookies (one child's phone)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept-Encoding: identity"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                await self._open()
            try:
                self.writer.write(payload)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                # A kept-alive connection the server closed while idle: reconnect once, as a
                # browser does (only when nothing of a response was read).
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, dict, str]:
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie, _, attrs = value.partition(";")
                key, _, val = cookie.partition("=")
                if not val or "max-age=0" in attrs.lower() or "1970" in attrs:
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
            else:
                headers[name] = value
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(c[:-2] for c in chunks)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, data.decode("utf-8", "replace")


def answers_on(html: str) -> dict[str, str]:
    """The first real choice of every radio group on the page (never a reserved code)."""
    chosen: dict[str, str] = {}
    for tag in INPUT.findall(html):
        attrs = dict(ATTR.findall(tag))
        name, value = attrs.get("name", ""), attrs.get("value", "")
        if attrs.get("type") == "radio" and name.startswith("q_") and value and not value.startswith("_"):
            chosen.setdefault(name, value)
    return chosen


class Child:
    def __init__(self, code: str, connection: Connection, stats: dict) -> None:
        self.code, self.http, self.stats = code, connection, stats
        self.saves: list[tuple[str, dict[str, str]]] = []  # acknowledged (page token, answers sent)
        self.completed = False
        self.requests = 0
        self.errors: list[str] = []

    async def request(self, kind: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        started = time.perf_counter()
        self.requests += 1
        try:
            status, headers, text = await self.http.request("POST" if form is not None else "GET", path, form)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.stats["latency"].append((time.perf_counter() - started, kind))
            self.errors.append(f"{kind} {path}: {type(error).__name__} {error}")
            raise
        self.stats["latency"].append((time.perf_counter() - started, kind))
        if status >= 500:
            self.errors.append(f"{kind} {path}: HTTP {status}")
        return status, headers, text

    async def run(self, think: tuple[float, float]) -> None:
        try:
            await self._run(think)
        except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError) as error:
            if not self.errors:
                self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            self.http.close()

    async def _get(self, path: str) -> tuple[str, int, str]:
        """GET ``path`` and follow its redirects as a browser does; the address reached, status, page."""
        for _ in range(10):
            status, headers, html = await self.request(kind_of("GET", path), path)
            if status not in (302, 303):
                return path, status, html
            path = urllib.parse.urlsplit(headers.get("location", ""))._replace(scheme="", netloc="").geturl()
        raise ValueError(f"more than 10 redirects, last to {path}")

    async def _post(self, path: str, form: dict) -> tuple[str, int, str]:
        """POST a form and follow the redirect that answers it (any other answer is an error)."""
        status, headers, _ = await self.request(kind_of("POST", path), path, form)
        if status not in (302, 303):
            self.errors.append(f"{kind_of('POST', path)} {path}: HTTP {status}")
            raise ValueError(f"POST {path} answered {status}")
        return await self._get(urllib.parse.urlsplit(headers["location"])._replace(scheme="", netloc="").geturl())

    async def _run(self, think: tuple[float, float]) -> None:
        # Every screen is read before it is answered: the think time comes before each POST.
        path, status, html = await self._get("/")
        for _ in range(300):  # more than the screens of any bundled consultation
            where = path.split("?")[0]
            if where == "/p/done":
                self.completed = status == 200
                return
            token = TOKEN.search(html)
            if status != 200 or token is None:
                self.errors.append(f"{where}: HTTP {status}")
                return
            await asyncio.sleep(random.uniform(*think))
            form: dict[str, str] = {"csrf_token": token.group(1)}
            if where == "/":
                form["code"] = self.code
            elif where == "/p/age":
                form["age"] = "15"
            elif where == "/p/about":
                form.update({"check_0": "0", "check_1": "0", "decision": "yes"})
            elif where == "/p/end":
                form["decision"] = "yes"
            elif PAGE_PATH.search(where) and PAGE_TOKEN.search(html):
                answers = answers_on(html)
                page_token = PAGE_TOKEN.search(html).group(1)
                form.update({"page_token": page_token, "nav": "next", **answers})
                path, status, html = await self._post(where, form)
                self.saves.append((page_token, answers))  # acknowledged: the save was answered with a redirect
                continue
            else:
                self.errors.append(f"unexpected page {path} (HTTP {status})")
                return
            path, status, html = await self._post(where, form)


def kind_of(method: str, path: str) -> str:
    """The request type a latency is counted under, from the address (a browser's way through)."""
    path = path.split("?")[0]
    if path == "/":
        name = "start"
    elif path.startswith("/p/q/"):
        name = "page"
    elif path in ("/p/age", "/p/about", "/p/end", "/p/done"):
        name = path.removeprefix("/p/")
    else:
        name = "hop"  # /p/ and anything else a redirect only passes through
    if method == "POST":
        return "save" if name == "page" else f"{name}_post"
    return name


class Analyst:
    """Programme staff downloading the consultation's PDF report now and then while children answer.

    A report is the slowest request Sauti serves; this shows what it does to the children's
    pages on the same server (``--reports-every``).
    """

    def __init__(self, username: str, password: str, connection: Connection, every_s: float) -> None:
        self.username, self.password, self.http, self.every_s = username, password, connection, every_s
        self.latency_ms: list[float] = []  # reports received
        self.not_yet = 0
        self.errors: list[str] = []

    async def run(self, children_done: asyncio.Event) -> None:
        try:
            _, _, html = await self.http.request("GET", "/staff/sign-in")
            status, _, _ = await self.http.request(
                "POST",
                "/staff/sign-in",
                {"username": self.username, "password": self.password, "csrf_token": TOKEN.search(html).group(1)},
            )
            _, _, home = await self.http.request("GET", "/staff/")
            found = re.search(r"/reports/(\d+)/", home)
            if status not in (302, 303) or found is None:
                self.errors.append(f"analyst: could not sign in and find the consultation (HTTP {status})")
                return
            while not children_done.is_set():
                started = time.perf_counter()
                status, _, body = await self.http.request("GET", f"/reports/{found.group(1)}/report.pdf")
                if status == 409:
                    self.not_yet += 1  # too few children have finished for a report to be released
                elif status != 200 or not body.startswith("%PDF"):
                    self.errors.append(f"analyst report: HTTP {status}")
                else:
                    self.latency_ms.append((time.perf_counter() - started) * 1000)
                try:
                    await asyncio.wait_for(children_done.wait(), timeout=self.every_s)
                except TimeoutError:
                    pass
        except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError) as error:
            self.errors.append(f"analyst: {type(error).__name__}: {error}")
        finally:
            self.http.close()


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by the server process and its workers (Linux /proc; else None)."""
    if not os.path.isdir("/proc"):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # the server, or one of its workers
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def default_threads() -> int:
    from survey.cli import DEFAULT_THREADS

    return DEFAULT_THREADS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def drive(
    children: list[Child], think: tuple[float, float], ramp_s: float, analyst: Analyst | None = None
) -> float:
    started = time.perf_counter()

    async def arrive(number: int, child: Child) -> None:
        # Children arrive over the first seconds, not in one instant.
        await asyncio.sleep(ramp_s * number / max(1, len(children)))
        await child.run(think)

    await _with_analyst(asyncio.gather(*(arrive(n, c) for n, c in enumerate(children))), analyst)
    return time.perf_counter() - started


async def _with_analyst(children_running: asyncio.Future, analyst: Analyst | None) -> None:
    if analyst is None:
        await children_running
        return
    children_done = asyncio.Event()
    downloads = asyncio.ensure_future(analyst.run(children_done))
    try:
        await children_running
    finally:
        children_done.set()
        await downloads


def check_database(url: str, secret: str, children: list[Child]) -> dict:
    """Every acknowledged page save and answer stored exactly once, with the value sent."""
    from consent.codes import hash_code

    if not url.startswith("sqlite"):
        return {}
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        tokens = set(connection.execute("SELECT token FROM page_save").fetchall())
        tokens = {t for (t,) in tokens}
        acknowledged = {token for child in children for token, _ in child.saves}
        duplicated = connection.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM answer GROUP BY participant_id, item HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        lost_answers = wrong_values = checked = 0
        for child in children:
            row = connection.execute(
                "SELECT id FROM participant WHERE code_hash = ?", (hash_code(child.code, secret),)
            ).fetchone()
            stored = (
                dict(
                    connection.execute("SELECT item, value FROM answer WHERE participant_id = ?", (row[0],)).fetchall()
                )
                if row
                else {}
            )
            sent: dict[str, str] = {}
            for _token, answers in child.saves:
                sent.update(answers)
            for field, value in sent.items():
                checked += 1
                name = field.removeprefix("q_")
                if name in stored:
                    wrong_values += stored[name] != value
                    continue
                # A matrix row: stored as one JSON object under the item's name.
                matrix = next((item for item in stored if name.startswith(item + "_")), None)
                if matrix is None:
                    lost_answers += 1
                elif json.loads(stored[matrix]).get(name[len(matrix) + 1 :]) != value:
                    wrong_values += 1
    finally:
        connection.close()
    return {
        "page_saves_in_database": len(tokens & acknowledged),
        "lost_saves": len(acknowledged - tokens),
        "stored_but_not_acknowledged": len(tokens - acknowledged),
        "answers_checked": checked,
        "lost_answers": lost_answers,
        "wrong_values": wrong_values,
        "duplicated_answers": duplicated,
    }


def pct(values: list[float], q: float) -> float | None:
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None


def split_cpus(server_cpus: int | None) -> tuple[set[int] | None, set[int] | None]:
    """The CPUs for the server and for the load generator when the server is pinned to ``server_cpus``."""
    if server_cpus is None:
        return None, None
    available = sorted(os.sched_getaffinity(0))
    if not 0 < server_cpus < len(available):
        raise SystemExit(
            f"--server-cpus must be between 1 and {len(available) - 1} on this machine "
            f"({len(available)} CPUs available): the generator needs at least one of its own"
        )
    return set(available[:server_cpus]), set(available[server_cpus:])


def cpu_model() -> str:
    """The processor's model name as Linux reports it (figures mean little without it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="no think time, 64 connections at once: the maximum page saves per second",
    )
    parser.add_argument("--connections", type=int, default=64, help="connections in throughput mode")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument(
        "--ramp",
        type=float,
        default=30.0,
        help="seconds over which the children arrive (a class does not type 500 codes at once)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads running the app per server worker process (default: sauti serve's own)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="server worker processes (default: sauti serve's own default)"
    )
    parser.add_argument(
        "--server",
        choices=["sauti", "waitress"],
        default="sauti",
        help="sauti: `sauti serve` as a facilitator runs it; waitress (an old name): "
        "`sauti serve --workers 1`, one Granian worker process (sauti serve runs waitress "
        "only where Granian cannot be imported)",
    )
    parser.add_argument(
        "--reports-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="an analyst downloads the PDF report every SECONDS while the children answer",
    )
    parser.add_argument(
        "--server-cpus",
        type=int,
        default=None,
        metavar="N",
        help="pin the server (and its workers) to the first N CPUs and this generator to the "
        "others, to see how a slower laptop copes (for example 1 on a 2-core machine)",
    )
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    server_cpus, generator_cpus = split_cpus(args.server_cpus)
    if args.server == "waitress":
        args.workers = 1
    if args.throughput:
        args.think = (0.0, 0.0)
        if args.children == parser.get_default("children"):
            args.children = 2 * args.connections  # each connection takes two children through
    output = args.output or str(
        ROOT / "bench" / "results" / ("load_children_throughput.json" if args.throughput else "load_children.json")
    )

    instance = tempfile.mkdtemp(prefix="sauti-load-")
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": instance,
        "SAUTI_SECRET_KEY": secret,
        # The benchmark's 500 codes are entered within seconds from one address.
        "SAUTI_CODE_ATTEMPTS_PER_CLIENT": json.dumps("100000 per minute"),
        "SAUTI_CODE_ATTEMPTS_GLOBAL": json.dumps("100000 per minute"),
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{instance}/sauti.sqlite")
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    codes: list[str] = []
    analyst_password = None
    while len(codes) < args.children:  # `sauti demo` issues at most 500 cards at a time
        setup = subprocess.run(
            [*sauti, "demo", "--no-serve", "--codes", str(min(500, args.children - len(codes)))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        codes += [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
        analyst_password = analyst_password or re.search(r"demo-analyst\s+password: (\S+)", setup.stdout).group(1)
    port = free_port()
    log_path = os.path.join(instance, "server.log")
    server_log = open(log_path, "w")  # closed after the run
    command = [*sauti, "serve", "--port", str(port)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    # The affinity is set in the child before exec, so every worker process the server starts inherits it.
    pin_server = None if server_cpus is None else (lambda: os.sched_setaffinity(0, server_cpus))
    server = subprocess.Popen(
        command, env=env, stdout=server_log, stderr=subprocess.STDOUT, preexec_fn=pin_server
    )  # only sched_setaffinity, no threads yet
    if generator_cpus is not None:
        os.sched_setaffinity(0, generator_cpus)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server did not start; see {log_path}") from None
                time.sleep(0.2)
        time.sleep(1.0)  # let every worker finish starting
        stats: dict = {"latency": []}
        children = [Child(code, Connection("127.0.0.1", port), stats) for code in codes[: args.children]]
        analyst = (
            None
            if args.reports_every is None
            else Analyst("demo-analyst", analyst_password, Connection("127.0.0.1", port), args.reports_every)
        )
        cpu_before, server_before = os.times(), server_cpu_seconds(server.pid)
        if args.throughput:
            # 64 connections, each taking children through one after another, no think time.
            async def lane(lane_children: list[Child]) -> None:
                for child in lane_children:
                    await child.run(args.think)

            async def run_lanes() -> float:
                started = time.perf_counter()
                await _with_analyst(
                    asyncio.gather(*(lane(children[i :: args.connections]) for i in range(args.connections))), analyst
                )
                return time.perf_counter() - started

            elapsed = asyncio.run(run_lanes())
        else:
            elapsed = asyncio.run(drive(children, tuple(args.think), args.ramp, analyst))
        cpu_after, server_after = os.times(), server_cpu_seconds(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        log_lines = handle.readlines()
    errors_logged = [
        line
        for line in log_lines
        if '"levelname": "ERROR"' in line or "Traceback" in line or "database is locked" in line
    ]
    for line in errors_logged[:5]:
        print("server log:", line[:3000], file=sys.stderr)
    client_errors = [e for c in children for e in c.errors] + (analyst.errors if analyst else [])
    for error in client_errors[:10]:
        print("client:", error, file=sys.stderr)

    latency = stats["latency"]
    all_ms = sorted(seconds * 1000 for seconds, _ in latency)
    by_kind: dict[str, list[float]] = {}
    for seconds, kind in latency:
        by_kind.setdefault(kind, []).append(seconds * 1000)
    acknowledged = sum(len(c.saves) for c in children)
    saves_ms = sorted(by_kind.get("save", []) + by_kind.get("page", []))
    result = {
        "mode": "throughput" if args.throughput else "children",
        "children": len(children),
        "think_seconds": list(args.think),
        "connections": args.connections if args.throughput else len(children),
        "database": env["DATABASE_URL"].split(":")[0],
        "server": "sauti serve" + (f" --workers {args.workers}" if args.workers else " (default workers)"),
        "threads_per_worker": args.threads or default_threads(),
        "requests": len(all_ms),
        "elapsed_s": round(elapsed, 1),
        "requests_per_s": round(len(all_ms) / elapsed, 1),
        "p50_ms": pct(all_ms, 0.50),
        "p95_ms": pct(all_ms, 0.95),
        "p99_ms": pct(all_ms, 0.99),
        "max_ms": round(all_ms[-1], 1) if all_ms else None,
        "question_page_and_save": {
            "p50_ms": pct(saves_ms, 0.5),
            "p95_ms": pct(saves_ms, 0.95),
            "p99_ms": pct(saves_ms, 0.99),
        },
        "by_request_type": {
            kind: {
                "n": len(v),
                "p50_ms": pct(sorted(v), 0.5),
                "p95_ms": pct(sorted(v), 0.95),
                "p99_ms": pct(sorted(v), 0.99),
                "max_ms": round(max(v), 1),
            }
            for kind, v in sorted(by_kind.items())
        },
        **(
            {}
            if analyst is None
            else {
                "analyst_pdf_reports": {
                    "every_s": args.reports_every,
                    "received": len(analyst.latency_ms),
                    "refused_too_few_finished": analyst.not_yet,
                    "p50_ms": pct(sorted(analyst.latency_ms), 0.5),
                    "max_ms": round(max(analyst.latency_ms), 1) if analyst.latency_ms else None,
                }
            }
        ),
        "surveys_completed": sum(1 for c in children if c.completed),
        "requests_per_completed_child": round(
            sum(c.requests for c in children if c.completed) / max(1, sum(1 for c in children if c.completed)), 1
        ),
        "page_saves_acknowledged": acknowledged,
        "page_saves_per_s": round(acknowledged / elapsed, 1),
        **check_database(env["DATABASE_URL"], secret, children),
        "errors_5xx": sum(1 for e in client_errors if "HTTP 5" in e),
        "client_errors": len(client_errors),
        "server_errors_logged": len(errors_logged),
        "database_locked_logged": sum("database is locked" in line for line in log_lines),
        "server_cpu_s": None if server_before is None else round(server_after - server_before, 1),
        "server_cpu_ms_per_request": None
        if server_before is None or not all_ms
        else round(1000 * (server_after - server_before) / len(all_ms), 2),
        "generator_cpu_s": round((cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system), 1),
        "load_average_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "server_cpus": sorted(server_cpus) if server_cpus is not None else "all",
        "generator_cpus": sorted(generator_cpus) if generator_cpus is not None else "all",
        "server_log": log_path,
    }
    print(json.dumps(result, indent=2))
    Path(output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = (
        not client_errors
        and not result.get("lost_saves")
        and not result.get("lost_answers")
        and not result.get("wrong_values")
        and not result.get("duplicated_answers")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
