"""The app as Granian's worker processes build it (``sauti serve``, or Granian run by hand).

Granian's workers are separate processes (forked on Linux, spawned on macOS and Windows) that
each build the app by calling :func:`create_served_app`.  It builds it the way the ``sauti``
command does, with :func:`survey.create_app`, which reads everything from the environment:
``SAUTI_INSTANCE_PATH`` (the instance folder, with the secret key), ``DATABASE_URL`` and the
other ``SAUTI_*`` settings.  ``sauti serve`` puts its serve-time settings there before starting
Granian, so every worker gets them:

- ``SAUTI_INSTANCE_PATH``: the instance folder the command used;
- ``SAUTI_SESSION_COOKIE_SECURE=false``: the server speaks plain HTTP (see ``survey.cli.serving._serve``);
- ``SAUTI_THROTTLE_WORKERS``: the number of worker processes, among which
  :mod:`survey.throttle` divides the code-guess limits when there is no shared (Redis) store.

Run by hand behind an HTTPS proxy (README, "Deploying on a server"; docs/deploy.md), through the
front that reads each request whole before the app sees it (:mod:`survey.serving`)::

    granian --interface rsgi --factory survey.serving:create_served_front
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping

from flask import Flask


def create_served_app() -> Flask:
    """Build the app for one server worker process."""
    from survey import create_app
    from survey.child_cache import settle_startup_objects
    from survey.services import retention_schedule
    from survey.sync import autopush as sync_autopush

    app = create_app()
    if "SAUTI_OFFLOAD_HEAVY_WORK" not in os.environ:
        app.config["OFFLOAD_HEAVY_WORK"] = True  # reports never hold up children's pages
    # Python's default switch interval (5 ms) is left alone: 1 ms measured worse under load (four
    # threads a worker then take turns five times as often; README, "Performance").

    app.wsgi_app = _without_process_environment(app.wsgi_app, os.environ)
    retention_schedule.start(app)  # when `sauti serve` turned it on; one worker runs it
    sync_autopush.start(app)  # a field laptop: concern records go first whenever there is a connection
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), name="sauti-parent-watch", daemon=True).start()
    settle_startup_objects()  # last: everything built above stays out of full collections
    return app


#: What a request's WSGI environ legitimately holds besides ``HTTP_*`` headers and ``wsgi.*``.
REQUEST_KEYS = frozenset(
    {
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REQUEST_URI",
        "RAW_URI",
        "GATEWAY_INTERFACE",
        "SERVER_SOFTWARE",
    }
)


def _without_process_environment(wsgi_app: Callable, process_environment: Mapping[str, str]) -> Callable:
    """Drop the server process's environment variables from every request's environ.

    Granian copies the whole process environment into each request, as CGI did: the secret key,
    DATABASE_URL with its password, and any ``HTTP_*`` variable (``HTTP_PROXY``), which would look
    like a header the client sent.  Nothing in Sauti reads them there; removing them keeps an error
    page, a log line or a future debugging aid from ever showing them.
    """
    names = tuple(name for name in process_environment if name not in REQUEST_KEYS and not name.startswith("wsgi."))

    def app(environ: dict, start_response: Callable):  # a WSGI iterable
        for name in names:
            environ.pop(name, None)
        return wsgi_app(environ, start_response)

    return app


def _stop_when_orphaned(parent: int, every_s: float = 1.0) -> None:
    """End this worker when the server process that started it is gone.

    Granian's workers outlive a main process killed outright (SIGKILL, an out-of-memory kill)
    and would go on answering on the port, so a restarted server would share it with workers
    of the old one.  Exiting at once loses nothing acknowledged: a save commits before its reply.
    """
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)
