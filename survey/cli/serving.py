"""``sauti serve`` and ``sauti demo``, and the process supervisor behind them: Granian's worker
processes (one per core, at most two) or waitress where Granian cannot be imported, the open-files
limit, the LAN address, and the quick exit when the outside cannot be reached."""

from __future__ import annotations

import os
import socket
import sys
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from survey.cli.base import with_appcontext

if TYPE_CHECKING:
    from flask import Flask


# --------------------------------------------------------------------------- serving
def lan_address() -> str:
    """This computer's address on the local network, without sending any packet."""
    candidates = []
    try:
        candidates = [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


#: Threads per worker process that run the app (survey.serving.BufferedFront's pool).  Python code
#: holds the GIL, so threads of one worker take turns on its core, and every turn costs the
#: waiting threads up to the switch interval.  Measured on 2 cores (bench/load_children.py):
#: two threads saved 213-252 pages a second against 188-212 with four, and kept 500 children's
#: p99 at 0.9 s instead of 2.0 s while an analyst downloaded the PDF report every 10 s.  One
#: thread is faster still, but a slow request (a report, an export) would then stall every
#: child on that worker until it finished; two leave a thread for the children.
DEFAULT_THREADS = 2

#: Connections one worker process holds open at once.  Granian does not even accept a
#: connection beyond its "backpressure" (by default 1024 / workers), and every phone keeps its
#: connection open between pages: a whole school's worth, on any one worker.
CONNECTIONS_PER_WORKER = 1000

#: Seconds a stopping worker process may take to finish its requests before it is killed.
WORKERS_KILL_TIMEOUT_S = 10


def default_workers() -> int:
    """Worker processes for `sauti serve`: one per core, two at most on a laptop.

    Two processes let a 2-core laptop use both cores for a classroom; more than the cores only
    adds context switches.  Granian runs one worker on Windows; without Granian, one waitress
    process serves.
    """
    if sys.platform == "win32" or not _has_granian():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _has_granian() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:  # no wheel for this platform, or a broken install
        return False
    return True


#: Seconds ``--lan`` waits to learn whether the quick exit's neutral site can be reached.
REACH_TIMEOUT_S = 3.0


def outside_reachable(url: str, timeout: float = REACH_TIMEOUT_S) -> bool:
    """Whether this computer can open a connection to ``url``'s host within ``timeout`` seconds.

    Only a TCP connection is opened and closed again: no request, nothing about anyone is sent.
    The attempt runs in a thread, so that a name lookup with no network cannot hold start-up.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    reached: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
                reached.append(True)
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=attempt, name="sauti-reach", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(reached)


def _quick_exit_for_lan(app: Flask) -> None:
    """With ``--lan`` and no internet, send the quick exit to this server's own neutral page.

    A quick exit to a site nobody can reach would leave a child on the browser's "This site
    can't be reached" page, which shows where they were.  The setting goes into the environment
    too, for Granian's worker processes, which build their own app.
    """
    from survey.services.safeguarding import help_context_source

    if app.config.get("QUICK_EXIT_LOCAL"):
        return
    url = app.config.get("QUICK_EXIT_URL") or help_context_source(None).quick_exit_url
    if url.startswith("/") or outside_reachable(url):
        return
    app.config["QUICK_EXIT_LOCAL"] = True
    os.environ["SAUTI_QUICK_EXIT_LOCAL"] = "true"
    click.echo("No internet here: the quick exit goes to a neutral page on this computer.")


def _public_url(app: Flask, address: str) -> None:
    """Print ``address`` on code cards (unless set already); into the environment too, for
    Granian's worker processes, which build their own app."""
    if app.config.get("PUBLIC_URL"):
        return
    app.config["PUBLIC_URL"] = address
    os.environ["SAUTI_PUBLIC_URL"] = address


def _serve(app: Flask, host: str, port: int, lan: bool, threads: int, workers: int = 1) -> None:
    from survey.services import retention_schedule

    _end_command_session()
    retention_schedule.enable(app, here=not _has_granian())  # daily, without cron (README, "Retention")
    if lan:
        host = "0.0.0.0"  # noqa: S104 # nosec B104 - --lan exists to let the classroom's devices join
        _quick_exit_for_lan(app)
        address = f"http://{lan_address()}:{port}/"
        _public_url(app, address.rstrip("/"))
        click.echo(f"Children's devices on this network can join at: {address}")
        import segno

        segno.make(address, error="m").terminal(compact=True)
    if host not in ("127.0.0.1", "localhost"):
        click.echo("Serving plain HTTP on the network: use a private Wi-Fi, or put HTTPS in front.")
    shown = "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104 # nosec B104 - a comparison, no bind
    if not _has_granian():
        if workers > 1:
            click.echo("Several workers need Granian (pip install granian); serving with one process.")
        click.echo(f"Sauti is running at http://{shown}:{port}/ (press Ctrl+C to stop)")
        from survey.sync import autopush

        autopush.start(app)  # as each Granian worker does (survey/wsgi.py): concern records go first
        _end_command_session()
        _serve_waitress(app, host, port, threads)
        return
    if workers > 1 and sys.platform == "win32":
        click.echo("Granian runs one worker process on Windows; serving with one.")
        workers = 1
    several = f" with {workers} worker processes" if workers > 1 else ""
    click.echo(f"Sauti is running at http://{shown}:{port}/{several} (press Ctrl+C to stop)")
    _serve_granian(app, host, port, threads, workers)


def _end_command_session() -> None:
    """End the command's own database session before the server starts, and again just before
    it serves.

    ``sauti demo`` (and whatever ``sauti serve`` read on the way) used the session of the
    command's app context, which stays open while the server runs.  On SQLite its last read
    kept a snapshot open for the life of the process: no checkpoint could pass it, so the
    write-ahead log grew without end and kept every deleted answer in its old pages until the
    server stopped.  Removing the session rolls that read back and returns its connection.
    """
    from flask import has_app_context

    from survey.extensions import db

    if has_app_context():  # a command's; a server built elsewhere has none to end
        db.session.remove()


def _serve_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    """One process, where Granian cannot be imported."""
    import waitress

    # waitress speaks plain HTTP, and browsers drop Secure cookies on plain HTTP away from
    # localhost; deployments with HTTPS put a proxy in front and keep them Secure.
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["SESSION_COOKIE_NAME"] = app.config["SESSION_COOKIE_NAME"].removeprefix("__Host-")
    # Every phone keeps a connection open between pages: allow a whole school's worth (waitress's
    # default of 100 would make the 101st child wait; select() on Windows stops near 512).
    # waitress reads each body in its own event loop before a thread sees it (no slow-body
    # stall, unlike Granian's WSGI interface: survey/serving.py) and drops connections idle for
    # channel_timeout.  Forwarding headers reach the app only when TRUSTED_PROXIES says a proxy
    # is there (survey.serving.init_app applies them).
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="Sauti",
        channel_timeout=30,
        clear_untrusted_proxy_headers=not app.config.get("TRUSTED_PROXIES"),
        connection_limit=500 if sys.platform == "win32" else 1000,
    )


def _serve_granian(app: Flask, host: str, port: int, threads: int, workers: int) -> None:
    """Granian: worker processes sharing one listening socket, each building its own app.

    Each worker runs :func:`survey.serving.create_served_front` (Granian's RSGI interface): the
    front reads every request whole before one of ``threads`` app threads sees it, so slow
    clients cannot hold those threads.  It builds the app with
    :func:`survey.wsgi.create_served_app` from the environment,
    so this process passes its instance folder and the serve-time settings there: the session
    cookie loses Secure (Granian here speaks plain HTTP, and browsers drop Secure cookies on
    plain HTTP away from localhost; deployments with HTTPS put a proxy in front and keep them
    Secure), and ``THROTTLE_WORKERS`` tells :mod:`survey.throttle` how many processes count
    code guesses each in its own memory when there is no shared store (Redis), so the limits
    are divided between them and never add up to more.  SQLite in WAL mode takes several
    processes; writes queue on ``BEGIN IMMEDIATE`` behind a lock file.

    Granian writes no access log (it would write client addresses), no forwarding header is
    trusted unless ``TRUSTED_PROXIES`` says so (:mod:`survey.serving`), and Granian's own log goes through
    :func:`survey.log_config.logging_config` at WARNING.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import MPServer

    from survey.extensions import db
    from survey.log_config import logging_config
    from survey.serving import HEADER_READ_TIMEOUT_MS, create_served_front

    os.environ["SAUTI_INSTANCE_PATH"] = app.instance_path
    os.environ["SAUTI_SESSION_COOKIE_SECURE"] = "false"
    # On a free-threaded Python, Granian's workers are threads of one process sharing one memory.
    os.environ["SAUTI_THROTTLE_WORKERS"] = str(workers if Granian is MPServer else 1)
    os.environ["SAUTI_SERVE_THREADS"] = str(threads)
    # Workers are forked on Linux: no database connection of this process may cross the fork,
    # nor stay open here (a read transaction held in this process blocks every checkpoint).
    _end_command_session()
    with app.app_context():
        db.engine.dispose()
    _allow_open_files(CONNECTIONS_PER_WORKER + 256)  # per process: each worker has its own

    server = Granian(
        # RSGI, not WSGI: survey.serving.BufferedFront reads every body on the event loop within
        # a deadline before a thread runs the app (Granian's WSGI body read has no time limit).
        "survey.serving:create_served_front",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        backpressure=CONNECTIONS_PER_WORKER,
        # Browsers speak HTTP/2 only over TLS, which a proxy in front would terminate.
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        # A worker that dies (killed, out of memory) is replaced, as gunicorn's arbiter did;
        # without this, Granian would shut the whole server down.
        respawn_failed_workers=True,
        # On stopping, a worker gets this long to finish its requests, then is killed: a worker
        # that was still building the app when the stop signal came never stops by itself
        # (Granian 2.8), and Ctrl+C would otherwise wait for ever.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
        log_level=LogLevels.warning,
        log_access=False,
        log_dictconfig=logging_config(app.config["LOG_LEVEL"], app.config["LOG_JSON"]),
    )
    # The loader is called in each worker; passing the function itself (not a "module:name"
    # string) spares Granian putting the current folder first on the workers' import path.
    server.serve(target_loader=create_served_front, wrap_loader=False)


def _allow_open_files(wanted: int) -> None:
    """Raise the open-file limit of this process and the workers it starts towards ``wanted``.

    Every kept-alive connection is an open file; laptops often start at 1024 (Linux) or 256
    (macOS), below a school's worth of phones.  Only the soft limit moves, never past the hard one.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # macOS refuses more than OPEN_MAX: keep what there is
        pass


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--lan", is_flag=True, help="Let devices on the local network join; prints the address.")
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker process that run the app.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (Granian).  Default: one per core, at most 2; 1 on Windows, or (waitress) without Granian.",
)
@with_appcontext
def serve(host: str, port: int, lan: bool, threads: int, workers: int | None) -> None:
    """Run the production server: Granian worker processes, or waitress without Granian."""
    from flask import current_app

    _serve(
        current_app._get_current_object(), host, port, lan, threads, default_workers() if workers is None else workers
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--lan", is_flag=True, help="Let devices on the local network join.")
@click.option("--codes", "code_count", default=30, show_default=True, type=click.IntRange(1, 500))
@click.option("--no-serve", is_flag=True, help="Set everything up, print it, and exit.")
@click.option(
    "--languages",
    default="",
    metavar="CODES",
    help="Comma-separated, e.g. en,sw,ar: the shipped translations are approved for the demo only.",
)
@with_appcontext
def demo(host: str, port: int, lan: bool, code_count: int, no_serve: bool, languages: str) -> None:
    """Set up a demonstration (database, consultation, accounts, codes) and serve it."""
    from flask import current_app

    from survey.services.demo import DemoLanguageError, set_up_demo

    try:
        result = set_up_demo(code_count, [code.strip() for code in languages.split(",") if code.strip()])
    except DemoLanguageError as error:
        raise click.ClickException(str(error)) from error
    if lan:
        # The cards and this listing carry the address children's devices can reach.
        address = f"http://{lan_address()}:{port}"
        _public_url(current_app._get_current_object(), address)
        click.echo(result.describe(address, lan=True))
    else:
        click.echo(result.describe(f"http://{host}:{port}"))
    if not no_serve:
        _serve(current_app._get_current_object(), host, port, lan, threads=DEFAULT_THREADS, workers=default_workers())
