"""schemathesis against the served API (issue 23): every operation of the OpenAPI document, with
no token and with a token of each scope (and of all of them), on the bundled consultation with a
release.  Pass: no response >= 500, every response conforming to the document (status, media type,
headers, body schema), refusal without a token, and schemathesis's other checks.

Examples per operation: ``SAUTI_API_FUZZ_EXAMPLES``, else ``SAUTI_FUZZ_EXAMPLES`` (the route fuzz's
setting: 25 for a quick run, 200 in CI), shared equally by the five token kinds (none, each scope,
all scopes); some put ids that exist into the path, so the fuzz reaches past 404.
"""

from __future__ import annotations

import logging
import os

import pytest
import schemathesis
from flask import got_request_exception
from hypothesis import HealthCheck, Phase, given, settings

from tests.survey.api_seed import TOKEN_KINDS, bearer, make_api_world

EXAMPLES = int(os.environ.get("SAUTI_API_FUZZ_EXAMPLES") or os.environ.get("SAUTI_FUZZ_EXAMPLES") or "25")
KINDS = (None, *TOKEN_KINDS)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


@pytest.fixture
def fuzzed(make_app, make_user):
    """The app under test, its world, and what went wrong inside it (exceptions, ERROR logs)."""
    # A limit no fuzz run reaches, so that every example gets an answer rather than 429
    # (tests/survey/test_api.py checks the shipped limit).
    app = make_app(API_RATE_LIMIT="1000000 per minute")
    world = make_api_world(app, make_user)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    raised: list[str] = []

    def on_exception(sender, exception, **extra) -> None:
        raised.append(repr(exception)[:200])

    got_request_exception.connect(on_exception, app)
    with app.app_context():
        from survey.extensions import db
        from survey.models import ReleaseTable

        key = db.session.scalars(db.select(ReleaseTable.key).limit(1).offset(3)).first()
        from survey.models import Consultation, User
        from survey.services import export_approvals

        export_approvals.approve(
            db.session.get(Consultation, world.consultation),
            actor=db.session.get(User, world.user_ids["owner"]),
            reason="The programme's evaluation team analyses the answers offline.",
        )
    known = {
        "consultation_id": world.consultation,
        "number": world.release,
        "key": key,
        "instrument_id": "reporting-mechanisms",
        "version": "1.1.0",
        "profile_id": "example-ke",
    }
    yield app, world, known, errors, raised
    got_request_exception.disconnect(on_exception, app)
    logging.getLogger().removeHandler(errors)


def test_every_operation_conforms_and_never_fails(fuzzed) -> None:
    """schemathesis's Python API (its pytest plug-in does not run on pytest 9.2): one hypothesis
    run per operation, each example a generated request (valid and invalid parameters) sent with
    a drawn token kind and checked by every one of schemathesis's checks."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation import GenerationMode

    app, world, known, errors, raised = fuzzed
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    with app.test_request_context():
        from survey.api import spec_dict

        documented = sum(1 for item in spec_dict()["paths"].values() for method in item if method != "parameters")
    assert len(operations) == documented >= 20
    calls: dict[str, dict[int, int]] = {}

    def fuzz(operation, kind: str | None) -> None:  # an APIOperation
        strategy = operation.as_strategy(GenerationMode.POSITIVE)
        names = [parameter.name for parameter in operation.path_parameters]
        if names:  # ids that exist (drawn first), so that the fuzz reaches past 404
            strategy = (
                operation.as_strategy(GenerationMode.POSITIVE, path_parameters={n: known[n] for n in names}) | strategy
            )
        if names or operation.query:
            strategy = strategy | operation.as_strategy(GenerationMode.NEGATIVE)
        statuses = calls.setdefault(operation.label, {})

        @given(case=strategy)
        @settings(
            max_examples=per_kind,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case) -> None:
            token = world.tokens[kind] if kind else None
            # A case whose headers are the invalid part (no Authorization) is sent as generated.
            if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
                token = None
            response = case.call_and_validate(headers=bearer(token))
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500
            assert raised == [] and errors.records == []

        run()

    per_kind = -(-EXAMPLES // len(KINDS))  # EXAMPLES or more per operation, shared by the token kinds
    for operation in operations:
        for kind in KINDS:
            fuzz(operation, kind)
    # Every operation answered its purpose at least once (200), not only refusals; the record-level
    # export of this world's 30 children is refused by the microdata risk check (409) even with an
    # approval (tests/survey/test_api.py downloads one).
    purpose = {label: {200, 409} if label.endswith("/export.csv") else {200} for label in calls}
    assert {label for label, seen in calls.items() if not purpose[label] & set(seen)} == set(), calls
