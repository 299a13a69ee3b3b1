"""Arbitrary form data, query strings and headers to every route: never a 500.

The number of examples per route comes from SAUTI_FUZZ_EXAMPLES (default 25 for a quick local
run; raise it for a soak).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World

EXAMPLES = int(os.environ.get("SAUTI_FUZZ_EXAMPLES", "25"))
FIELD_NAMES = ["code", "seat", "age", "decision", "check_0", "check_1", "explained", "nav", "page_token",
               "q_who", "q_feel", "q_ways", "q_grid__safe", "q_order__1", "rns_ideas", "choice", "username",
               "password", "roles", "display_name", "active", "count", "card", "action", "status", "to",
               "title", "instrument", "languages", "age_bands", "country_profile", "feedback_due", "csrf_token"]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
form_data = st.dictionaries(st.sampled_from(FIELD_NAMES) | text, text | st.lists(text, max_size=3), max_size=8)
queries = st.dictionaries(st.sampled_from(["code", "lang", "next", "kept", "shared", "deleted"]) | text, text,
                          max_size=3)


def _concrete_paths(app, world: World) -> list[tuple[str, str]]:
    values = {"consultation_id": world.consultation, "user_id": world.user_ids["facilitator"],
              "filename": "css/sauti.css", "index": 0, "signal_id": 1, "text_id": "child_information/en/A/v1",
              "flag_id": 1, "fmt": "html", "record_id": 1}
    paths = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                paths.append((method, url))
    return paths


def test_no_route_answers_500_to_arbitrary_input(app, world: World) -> None:
    paths = _concrete_paths(app, world)
    clients = [world.clients[v] for v in ("child", "anonymous", "admin", "facilitator")]
    errors: list[tuple] = []

    @settings(max_examples=EXAMPLES * len(paths), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(route=st.sampled_from(paths), client_index=st.integers(0, len(clients) - 1), data=form_data,
           query=queries, language=text)
    def probe(route, client_index, data, query, language) -> None:  # noqa: ANN001
        method, url = route
        response = clients[client_index].open(url, method=method, data=data, query_string=query,
                                              headers={"Accept-Language": "".join(language.split())[:40]})
        response.close()
        if response.status_code >= 500:
            errors.append((method, url, client_index, data, query, response.status_code))

    probe()
    assert errors == []
