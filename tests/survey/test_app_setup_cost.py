"""What makes each app cheaper to build keeps it the same app: the API's OpenAPI document built
once per process, and URL builders compiled on first use."""

from __future__ import annotations

from werkzeug.routing import BuildError, Map, Rule, ValidationError


def _document(app) -> dict:
    from survey.api import spec_dict

    with app.test_request_context():
        return spec_dict()


def test_apps_share_one_api_document_equal_to_a_fresh_one(make_app) -> None:
    first, second = make_app(), make_app()
    shared = _document(first)
    assert _document(second) is shared  # built once for both apps
    fresh = second.extensions["sauti_api"].build_spec()
    assert fresh == shared
    assert "bearerAuth" in shared["components"]["securitySchemes"]
    assert any(path.startswith("/api/v1/") for path in shared["paths"])
    served = first.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == fresh


def test_an_app_with_other_api_settings_gets_its_own_document(make_app) -> None:
    ordinary = _document(make_app())
    other = _document(make_app(API_VERSION="2", API_TITLE="Another title"))
    assert ordinary["info"]["version"] == "1" and ordinary["info"]["title"] == "Sauti API"
    assert other["info"]["version"] == "2" and other["info"]["title"] == "Another title"


def test_lazily_compiled_url_builders_build_what_werkzeug_builds(app) -> None:
    from survey.url_rules import LazyBuildRule

    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    assert all(isinstance(rule, LazyBuildRule) for rule in rules if rule.endpoint != "static")
    plain = Map(
        [Rule(r.rule, endpoint=r.endpoint, methods=r.methods, defaults=r.defaults) for r in rules],
        converters=app.url_map.converters,
    ).bind("localhost")
    ours = app.url_map.bind("localhost")
    built = 0
    for rule in rules:
        values = dict.fromkeys(rule.arguments, 7)
        for extra in ({}, {"page": "2", "q": "a b"}):
            # A value the rule cannot take (a date, a language code) fails alike in both.
            expected = _build(plain, rule.endpoint, {**values, **extra}, rule.methods)
            assert _build(ours, rule.endpoint, {**values, **extra}, rule.methods) == expected, rule.rule
            assert _build(ours, rule.endpoint, {**values, **extra}, rule.methods) == expected  # compiled now
            built += expected.startswith("/")
    assert built > 100


def _build(adapter, endpoint: str, values: dict, methods) -> str:
    try:
        return adapter.build(endpoint, values, method=sorted(methods or {"GET"})[0])
    except (BuildError, ValidationError, ValueError, TypeError) as error:  # the same failure, the same answer
        return f"{type(error).__name__}"
