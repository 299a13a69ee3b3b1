"""The API for dashboards and other tools (issue 23): ``/api/v1/``, released results only.

Built with flask-smorest (see docs/api.md for why): marshmallow schemas describe each response,
and the OpenAPI 3.1 document is generated from the views' decorators.  This module binds it to
the app: the spec (served at ``/api/v1/openapi.json``, and as a plain HTML page at
``/api/v1/docs``, with nothing loaded from another host), problem+json errors for API requests
only (:mod:`survey.api.problems`), CSRF exemption for the token-authenticated blueprints, and
one audit record per call (:func:`survey.services.api_tokens.note_use`).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request
from flask_smorest import Api
from flask_smorest.spec import prepare_response

from survey.access import public
from survey.api.problems import MEDIA_TYPE, PREFIX, ProblemSchema, is_api_request, problem

log = logging.getLogger("sauti.api")

DESCRIPTION = """Released results of Sauti consultations, for dashboards (Power BI, Excel, R, Python).

The API serves **releases** only: the frozen, checked snapshots of results that the results page
shows, never live answers.  Every number it serves is a number of a release.  Record-level answers
leave only through the gated de-identified export.

Authenticate with a personal access token made on the console's *API tokens* page:
`Authorization: Bearer sauti_...`.  Each operation names the scope it needs (`releases:read`,
`records:read`, `admin`).  Errors are problem details (RFC 9457).  Lists are paginated (`page`,
`page_size`; the `X-Pagination` header tells the totals) and responses carry an `ETag`
(send it back in `If-None-Match` to get 304 Not Modified)."""


class SautiApi(Api):
    """flask-smorest's Api with problem+json errors, documented as such, and no error handler of
    its own (it would answer every page of the app in JSON: survey/errors.py asks first)."""

    ERROR_SCHEMA = ProblemSchema

    # The OpenAPI document is built when first asked for (:func:`spec_dict`), not with every app:
    # describing the API's views cost about a fifth of ``create_app``, and most apps (every test's)
    # never serve it.  ``self.spec`` stays None until then.
    def _init_spec(self, **spec_kwargs: Any) -> None:
        self._deferred_spec_kwargs = spec_kwargs
        self._documented: list[tuple[Any, str, Any]] = []

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:  # flask-smorest's signature
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._documented.append((blp, name, parameters))

    def build_spec(self) -> dict[str, Any]:
        """The OpenAPI document of this app's API, built afresh (see :func:`spec_dict`)."""
        super()._init_spec(**self._deferred_spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal access token from the console's API tokens page (scopes: releases:read, "
                "records:read, admin).",
            },
        )
        for blp, name, parameters in self._documented:
            blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
            self.spec.tag({"name": name, "description": blp.description})
        return self.spec.to_dict()

    def spec_key(self) -> tuple:
        """Everything the document depends on besides the code: the API's settings and the
        API's routes as this app has them."""
        names = {name for _, name, _ in self._documented}
        settings = tuple(
            sorted(
                (key, repr(value)) for key, value in self._app.config.items() if key.startswith(("API_", "OPENAPI_"))
            )
        )
        routes = tuple(
            sorted(
                (rule.rule, rule.endpoint, tuple(sorted(rule.methods or ())))
                for rule in self._app.url_map.iter_rules()
                if rule.endpoint.split(".", 1)[0] in names
            )
        )
        return (repr(self._deferred_spec_kwargs), tuple(sorted(names)), settings, routes)

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self) -> None:
        # The header is JSON text: documented as a string (an object schema would be read as the
        # "simple" comma-separated form by clients and checkers).
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata as JSON text: total, total_pages, first_page, last_page, page, "
                "previous_page, next_page",
                "schema": {"type": "string"},
            },
            lazy=True,
        )


docs = Blueprint("api-docs", __name__, url_prefix=PREFIX)


@docs.route("/openapi.json")
@public
def openapi_json():
    return jsonify(spec_dict())


@docs.route("/docs")
@public
def documentation():
    """The OpenAPI document as a plain HTML page (no script, nothing from another host)."""
    return render_template("api/docs.html", spec=spec_dict(), operations=_operations(spec_dict()))


#: OpenAPI documents already built in this process, by :meth:`SautiApi.spec_key`: the document
#: depends only on the code and on the key, so each app with the same settings shares one.
#: Read-only: callers never change the dict they are given.
_SPECS: dict[tuple, dict[str, Any]] = {}


def spec_dict() -> dict[str, Any]:
    """The app's OpenAPI document (built once per process for each set of API settings)."""
    cached = current_app.extensions.get("sauti_api_spec")
    if cached is None:
        api: SautiApi = current_app.extensions["sauti_api"]
        key = api.spec_key()
        cached = _SPECS.get(key)
        if cached is None:
            cached = _SPECS[key] = api.build_spec()
        current_app.extensions["sauti_api_spec"] = cached
    return cached


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of the document, by tag then path, with what a reader needs."""
    out = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [
                p if "$ref" not in p else spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                for p in op.get("parameters", [])
            ]
            scopes = [s for sec in op.get("security", []) for s in next(iter(sec.values()), [])]
            responses = []
            for status, resp in op.get("responses", {}).items():
                if "$ref" in resp:
                    resp = spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
                responses.append((str(status), resp.get("description", ""), sorted(resp.get("content", {}))))
            out.append(
                {
                    "tag": (op.get("tags") or [""])[0],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "scopes": scopes,
                    "parameters": params,
                    "responses": responses,
                    "anchor": op.get("operationId") or f"{method}-{path}",
                }
            )
    return sorted(out, key=lambda o: (o["tag"], o["path"], o["method"]))


def _after_api_request(response):  # a Response
    if not is_api_request():
        return response
    response.headers.setdefault("Cache-Control", "private, no-cache")
    response.vary.add("Authorization")
    if request.blueprint == "api-docs":
        return response
    from survey.services import api_tokens

    try:
        api_tokens.note_use(
            g.get("api_caller"), request.endpoint or "unmatched", g.get("api_audit_ids", ""), response.status_code
        )
    except Exception:  # fail closed: no answer leaves without its audit record
        log.warning("an API call could not be recorded in the audit log: answered 503", exc_info=True)
        return problem(503, headers={"Retry-After": "60"})
    return response


def init_app(app: Flask) -> None:
    from survey.api.views import BLUEPRINTS
    from survey.extensions import csrf

    app.config.setdefault("API_TITLE", "Sauti API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    api = SautiApi(app, spec_kwargs={"info": {"description": DESCRIPTION}})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
        # Token-authenticated only: the API never reads the session cookie CSRF rides on.
        csrf.exempt(blueprint)
    app.register_blueprint(docs)
    app.extensions["sauti_api"] = api
    app.after_request(_after_api_request)
