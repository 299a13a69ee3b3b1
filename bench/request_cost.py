"""CPU time of one child's requests inside the served app, without an HTTP server or other load.

The load benchmark (``load_children.py``) says how the whole server copes; this says what each of
a child's requests costs the app itself, which is what decides the former on a 2-core machine.
It builds the app as a server worker does (:func:`survey.wsgi.create_served_app`), on a fresh
instance folder with ``sauti demo`` data, and takes N children through the bundled band-C
consultation with Werkzeug's test client, following every redirect as a browser does (a redirect
that only passes the child on counts as a request, under "hop").  Only the time inside the app's
WSGI callable is counted (the test client's own work is not), as CPU time of the calling thread.

    .venv/bin/python bench/request_cost.py                # 60 children, figures per request type
    .venv/bin/python bench/request_cost.py --profile 40   # and the 40 costliest functions (cProfile)
    .venv/bin/python bench/request_cost.py --instructions # instructions per request (needs valgrind)

The machine's speed drifts by up to 40 % over minutes on shared virtual machines: compare two
builds in alternating runs, not against a figure from another hour.  ``--instructions`` drifts
much less: it runs this script twice under valgrind's cachegrind (1 child, then 11, after the same
warm-up) and divides the difference in instructions executed by the requests of the 10 extra
children (about two minutes on a quiet machine).  Some work runs on the clock (the country
profile read again every 30 s, the form token made every minute, the cookie re-signed every 10
minutes), so a run slowed down by other load counts a little more of it (3.83 M against 3.67 M
for the same build, at a load average of 10-16 against 4): count two builds side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from load_children import PAGE_PATH, PAGE_TOKEN, TOKEN, answers_on, cpu_model, kind_of  # noqa: E402


class TimedApp:
    """A WSGI wrapper adding the CPU time of each call (response body included) to a list by kind."""

    def __init__(self, app) -> None:  # a WSGI callable
        self.app = app
        self.profiler: cProfile.Profile | None = None  # set once the warm-up is done
        self.kind = "other"
        self.times: dict[str, list[float]] = {}

    def __call__(self, environ, start_response):  # WSGI
        if self.profiler:
            self.profiler.enable()
        started = time.thread_time()
        body = b"".join(self.app(environ, start_response))
        self.times.setdefault(self.kind, []).append(time.thread_time() - started)
        if self.profiler:
            self.profiler.disable()
        return [body]


def take_survey(client, timed: TimedApp, code: str) -> tuple[int, int]:  # a Werkzeug test client
    """One child from the code to the thank-you page, following every redirect as a browser
    does; the number of pages saved and of requests made."""
    requests = 0

    def get(path: str):
        nonlocal requests
        for _ in range(10):
            timed.kind = kind_of("GET", path)
            requests += 1
            response = client.get(path)
            if response.status_code not in (302, 303):
                return path, response
            path = response.headers["Location"]
        raise SystemExit(f"more than 10 redirects from {path}")

    def post(path: str, form: dict):
        nonlocal requests
        timed.kind = kind_of("POST", path)
        requests += 1
        response = client.post(path, data=form)
        if response.status_code not in (302, 303):
            raise SystemExit(f"POST {path} answered {response.status_code}")
        return get(response.headers["Location"])

    path, response = get("/")
    saved = 0
    for _ in range(300):
        html = response.text
        token = TOKEN.search(html).group(1) if TOKEN.search(html) else ""
        where = path.split("?")[0]
        if where == "/":
            path, response = post("/", {"code": code, "csrf_token": token})
        elif where == "/p/age":
            path, response = post(where, {"age": "15", "csrf_token": token})
        elif where == "/p/about":
            path, response = post(where, {"check_0": "0", "check_1": "0", "decision": "yes", "csrf_token": token})
        elif PAGE_PATH.search(where):
            form = {
                "csrf_token": token,
                "page_token": PAGE_TOKEN.search(html).group(1),
                "nav": "next",
                **answers_on(html),
            }
            path, response = post(where, form)
            saved += 1
        elif where == "/p/end":
            path, response = post(where, {"decision": "yes", "csrf_token": token})
        elif where == "/p/done":
            return saved, requests
        else:
            raise SystemExit(f"unexpected page {path} ({response.status_code})")
    raise SystemExit("the survey did not end")


def count_instructions(output: str, encrypted: bool = False) -> int:
    """Instructions per request: this script under cachegrind with 1 and with 11 children."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    counts, requests = {}, {}
    for children in (1, 11):
        with tempfile.TemporaryDirectory() as folder:
            figures = os.path.join(folder, "figures.json")
            run = subprocess.run(
                [
                    "valgrind",
                    "--tool=cachegrind",
                    "--cache-sim=no",
                    "--cachegrind-out-file=/dev/null",
                    sys.executable,
                    __file__,
                    "--children",
                    str(children),
                    "--warm-up",
                    "2",
                    "--output",
                    figures,
                    *(["--encrypted"] if encrypted else []),
                ],
                env={**os.environ, "PYTHONHASHSEED": "0"},
                capture_output=True,
                text=True,
                check=True,
            )
            counts[children] = int(re.search(r"I\s+refs:\s+([\d,]+)", run.stderr).group(1).replace(",", ""))
            result = json.loads(Path(figures).read_text())
            requests[children] = sum(kind["requests"] for kind in result["per_request_type"].values())
    counted = requests[11] - requests[1]
    per_request = (counts[11] - counts[1]) / counted
    print(
        f"{per_request / 1e6:.3f} million instructions per request ({counted} requests of 10 children: "
        f"{counted / 10:g} a child, {(counts[11] - counts[1]) / 10 / 1e6:.1f} million instructions a child)"
    )
    Path(output).write_text(
        json.dumps(
            {
                "instructions_per_request": round(per_request),
                "requests_counted": counted,
                "requests_per_child": counted / 10,
                "instructions_per_child": round((counts[11] - counts[1]) / 10),
                "cpu_model": cpu_model(),
            },
            indent=2,
        )
        + "\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=60)
    parser.add_argument("--warm-up", type=int, default=5, help="children taken through first, not counted")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print the N functions with the most cumulative time (cProfile)",
    )
    parser.add_argument("--profile-out", default=None, metavar="FILE", help="write the cProfile statistics to FILE")
    parser.add_argument(
        "--instructions", action="store_true", help="instructions executed per request, counted by valgrind (see above)"
    )
    parser.add_argument(
        "--encrypted", action="store_true", help="the database encrypted as on a field laptop (`sauti sync protect`)"
    )
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    results = ROOT / "bench" / "results"
    if args.instructions:
        name = "request_cost_instructions_encrypted.json" if args.encrypted else "request_cost_instructions.json"
        return count_instructions(args.output or str(results / name), args.encrypted)
    args.output = args.output or str(
        results / ("request_cost_encrypted.json" if args.encrypted else "request_cost.json")
    )

    instance = tempfile.mkdtemp(prefix="sauti-cost-")
    os.environ.update(
        {
            "SAUTI_INSTANCE_PATH": instance,
            "SAUTI_SECRET_KEY": secrets.token_urlsafe(32),
            "SAUTI_SESSION_COOKIE_SECURE": "false",
            "SAUTI_CODE_ATTEMPTS_PER_CLIENT": json.dumps("100000 per minute"),
            "SAUTI_CODE_ATTEMPTS_GLOBAL": json.dumps("100000 per minute"),
        }
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance}/sauti.sqlite")
    setup = subprocess.run(
        [
            sys.executable,
            "-c",
            "from survey.cli import main; main()",
            "demo",
            "--no-serve",
            "--codes",
            str(args.children + args.warm_up),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    codes = [line.split()[0] for line in setup.stdout.splitlines() if "withdrawal:" in line]
    if args.encrypted:
        passphrase = secrets.token_urlsafe(16)
        subprocess.run(
            [sys.executable, "-c", "from survey.cli import main; main()", "sync", "protect", "--passphrase-stdin"],
            input=passphrase + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        # The key unsealed once in a helper (as `sauti serve` hands it to its workers): Argon2id
        # is a start-up cost, not a request's, and would take minutes under valgrind.
        unsealed = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from survey.sync import protect; "
                "print(protect.open_key(protect.key_file(sys.argv[1]).read_bytes(), sys.argv[2]).hex())",
                instance,
                passphrase,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        os.environ["SAUTI_DATABASE_KEY"] = unsealed.stdout.strip()

    from survey.wsgi import create_served_app

    app = create_served_app()
    app.logger.disabled = True
    profiler = cProfile.Profile() if args.profile or args.profile_out else None
    timed = TimedApp(app.wsgi_app)
    app.wsgi_app = timed
    for code in codes[: args.warm_up]:
        take_survey(app.test_client(), timed, code)
    timed.times.clear()
    timed.profiler = profiler
    walks = [take_survey(app.test_client(), timed, code) for code in codes[args.warm_up :]]
    pages = sum(saved for saved, _requests in walks)

    summary = {
        kind: {
            "requests": len(values),
            "mean_ms": round(1000 * statistics.fmean(values), 3),
            "median_ms": round(1000 * statistics.median(values), 3),
        }
        for kind, values in sorted(timed.times.items())
    }
    every = [value for values in timed.times.values() for value in values]
    result = {
        "children": len(codes) - args.warm_up,
        "pages_saved": pages,
        "requests_per_child": round(statistics.fmean(requests for _saved, requests in walks), 2),
        "database": "sqlcipher" if args.encrypted else "sqlite",
        "per_request_type": summary,
        "mean_ms_all_requests": round(1000 * statistics.fmean(every), 3),
    }
    for kind, figures in summary.items():
        print(
            f"{kind:11s} {figures['requests']:6d} requests  mean {figures['mean_ms']:7.3f} ms  "
            f"median {figures['median_ms']:7.3f} ms"
        )
    print(
        f"all requests: mean {result['mean_ms_all_requests']:.3f} ms; {result['requests_per_child']} requests a child"
    )
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    if profiler and args.profile_out:
        profiler.dump_stats(args.profile_out)
    if profiler and args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
