"""Configuration: safe defaults in code, then the instance config file, then the environment.

Load order (later wins):

1. :class:`DefaultConfig` below: safe for a laptop, never holds a real secret.
2. ``<instance folder>/config.py`` (not committed): a deployment's own settings.
3. ``SAUTI_*`` environment variables (``SAUTI_SECRET_KEY`` → ``SECRET_KEY``; values are
   parsed as JSON where they can be, like Flask's ``from_prefixed_env``), and ``DATABASE_URL``
   choosing the database.
4. The mapping passed to ``create_app(config=...)`` (tests).
"""

from __future__ import annotations

import os
from datetime import timedelta

#: The development key: a deployment that still uses it is refused at start (outside debug/testing).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - the key create_app refuses

#: UI languages that ship with translated catalogues.  Right-to-left ones are derived, not listed.
SUPPORTED_LOCALES = ("en", "fr", "es", "ar", "sw")
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "dv", "yi", "ckb"})

ROLES = ("admin", "facilitator", "analyst")


class DefaultConfig:
    SECRET_KEY = DEV_SECRET_KEY
    # Where children's devices reach this server (printed on code cards), e.g. the address
    # ``sauti serve --lan`` / ``sauti demo --lan`` prints; empty: the address the page was asked on.
    PUBLIC_URL = ""
    # The SQLite file lives in the instance folder; create_app fills the path in.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 10_000

    # One session cookie, for children and staff alike (DP-04).
    SESSION_COOKIE_NAME = "sauti"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    # A laptop serving a classroom over plain HTTP on its Wi-Fi cannot use Secure cookies;
    # `sauti serve` turns this off only for --lan and says so.  Server deployments keep it on.
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=2)
    # The cookie is re-issued every few minutes by survey.child_cache.SignedCookieSessions instead.
    SESSION_REFRESH_EACH_REQUEST = False
    STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    # However active, a staff session ends this long after sign-in (OWASP ASVS 7.3.2).
    STAFF_SESSION_LIFETIME = timedelta(hours=12)
    # Reverse proxies in front that set X-Forwarded-For/-Proto (0: none; survey/serving.py).
    TRUSTED_PROXIES = 0

    # Flask-WTF: the token lives as long as the session, so a slow child never meets an
    # expired-form error page.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_ENABLED = True
    # Checked by the access hook (survey/access.py) on POST, PUT, PATCH and DELETE only.
    WTF_CSRF_CHECK_DEFAULT = False

    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    SUPPORTED_LOCALES = SUPPORTED_LOCALES

    # argon2id parameters (argon2-cffi's defaults, RFC 9106 low-memory profile).
    ARGON2_PARAMETERS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

    # Rate limits.  memory:// works for one process; point it at Redis for several workers.
    RATELIMIT_STORAGE_URI = "memory://"
    # Failed staff sign-ins, counted in the database (survey/services/accounts.py): free
    # failures per account from one client, per client, and per account from devices it has
    # never signed in from; then waits that double, up to SIGNIN_MAX_DELAY.
    SIGNIN_MAX_FAILURES = 5
    SIGNIN_MAX_FAILURES_PER_CLIENT = 20
    SIGNIN_MAX_FAILURES_PER_ACCOUNT = 20
    SIGNIN_MAX_DELAY = timedelta(minutes=15)
    SIGNIN_FAILURE_MEMORY = timedelta(hours=1)
    # Wrong codes only (right ones cost nothing, so a class behind one address all gets in):
    # per client, and server-wide this much for each open consultation.
    CODE_FAILURES_PER_CLIENT = "10 per minute"
    CODE_FAILURES_PER_CONSULTATION = "300 per minute"
    # Calls per API token (survey/api/auth.py), counted in the same store.
    API_RATE_LIMIT = "120 per minute"

    # The deployment's own country profile (consent/profiles/ id or an uploaded one), pinned for the
    # pages seen before a child has entered a code when the open consultations use several profiles
    # or none is open.  Empty: those pages show the open consultations' profiles' helplines, and
    # the generic example only when nothing is open (survey/services/safeguarding.py).
    DEFAULT_COUNTRY_PROFILE = ""
    # Where the quick exit goes.  Empty: the consultation's country profile decides.
    QUICK_EXIT_URL = ""
    # True: the quick exit goes to the neutral page this server serves (/notes), for a room with
    # no internet.  `sauti serve --lan` / `sauti demo --lan` set it when the outside is unreachable.
    QUICK_EXIT_LOCAL = False

    # Age bands: code -> (youngest, oldest).  Only the band is ever stored.
    AGE_BANDS = {"A": (8, 10), "B": (11, 13), "C": (14, 17)}

    # Reports and exports in a helper process at a lower CPU priority (survey/services/offload.py),
    # so that children's pages never wait for them; the served app (survey/wsgi.py) turns it on.
    OFFLOAD_HEAVY_WORK = False

    # `sauti serve` and `sauti demo` turn this on: the server runs the retention rules at start and
    # again whenever the date (UTC) has changed, looking every RETENTION_CHECK_SECONDS
    # (survey/services/retention_schedule.py).  SAUTI_RETENTION_SCHEDULE=false leaves it to cron.
    RETENTION_SCHEDULE = False
    RETENTION_CHECK_SECONDS = 600
    # A field laptop's server pushes unsent concern records to the central server this often
    # (seconds; longer after failures), whenever it can be reached (survey/sync/autopush.py); 0: off.
    SYNC_CONCERN_PUSH_SECONDS = 30

    LOG_LEVEL = "INFO"
    LOG_JSON = True


def environment_overrides(environ: os._Environ[str] | dict[str, str] | None = None) -> dict:
    """Read ``SAUTI_*`` variables and ``DATABASE_URL`` into a config mapping.

    Values that parse as JSON (numbers, booleans, lists) are converted, as Flask's
    ``from_prefixed_env`` does; anything else stays a string.
    """
    import json

    environ = os.environ if environ is None else environ
    values: dict = {}
    for key, raw in environ.items():
        if not key.startswith("SAUTI_"):
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        values[key.removeprefix("SAUTI_")] = value
    if environ.get("DATABASE_URL"):
        values["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if "REDIS_URL" in values and "RATELIMIT_STORAGE_URI" not in values:
        values["RATELIMIT_STORAGE_URI"] = values["REDIS_URL"]
    return values


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given the way Heroku-style hosts write them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
