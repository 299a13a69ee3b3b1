"""What makes each app cheaper to build keeps it the same app: the API's OpenAPI document built
once per process."""

from __future__ import annotations


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
