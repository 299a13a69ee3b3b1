"""Concern records go first whenever there is a connection (issue 22): nobody has to run a push.

A laptop provisioned for a central server at 127.0.0.1; a child takes part and a concern is
recorded while the central server is down: the laptop's pusher fails, keeps everything and waits
longer; once a real HTTP server (a thread serving the central app) answers, the background loop
delivers the concern alone (the children's answers wait for a full push), with its receipt,
and a later concern follows, never twice.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from survey.extensions import db
from survey.models import Answer, ConcernFlag, FieldBundle
from survey.services import sync
from survey.sync.autopush import ConcernPusher
from tests.conftest import free_port
from tests.survey import test_sync_merge as merge
from tests.survey.child_walk import enter, walk
from tests.survey.test_sync_merge import _package, _provision

central, make_laptop = merge.central, merge.make_laptop  # the fixtures: a central app, laptop apps

pytestmark = pytest.mark.slow  # a child's whole walk and a real HTTP server


def _concern(laptop, package_id: str, excerpt: str) -> None:
    from survey.database import write_transaction

    with laptop.app_context():
        consultation_id = sync.package_named(package_id).consultation_id
        with write_transaction() as session:  # as the concern service writes, beside the pusher's writes
            session.add(ConcernFlag(consultation_id=consultation_id, item="ideas", excerpt=excerpt, concerns="abuse"))


def _central_excerpts(central) -> list[str]:
    with central.app_context():
        return sorted(db.session.scalars(sa.select(ConcernFlag.excerpt)))


def test_a_laptop_pushes_concern_records_by_itself_once_the_central_server_can_be_reached(
    central, make_consultation, make_laptop
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cid = make_consultation()
    made = _package(central, cid, cards=2)
    laptop = make_laptop()
    package_id = _provision(laptop, made, central_url=url)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    _concern(laptop, package_id, "someone at home hurts me")

    pusher = ConcernPusher(laptop, check_every=0.05, max_wait=0.2)
    # Offline: nothing lost, one bundle waits in the outbox (not one more per try), waits grow.
    assert pusher.tick() == -1 and pusher.tick() == -1
    assert pusher.failures == 2 and pusher.wait_seconds() == 0.2
    with laptop.app_context():
        package = sync.package_named(package_id)
        assert package.sequence == 1 and sync.waiting_bundle(package) is not None
        assert len(sync.unsent_concerns(package)) == 1

    server = make_server("127.0.0.1", port, central, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    loop = threading.Thread(target=pusher.run_forever, daemon=True)
    try:
        loop.start()
        deadline = time.monotonic() + 30
        while not _central_excerpts(central):
            assert time.monotonic() < deadline, "the concern never reached the central server"
            time.sleep(0.05)
        _concern(laptop, package_id, "I am scared to go home")
        while len(_central_excerpts(central)) < 2:
            assert time.monotonic() < deadline, "the second concern never reached the central server"
            time.sleep(0.05)
        pusher.stop()
        loop.join(timeout=30)
        assert pusher.failures == 0
        assert pusher.tick() == 0  # nothing new: no bundle
    finally:
        pusher.stop()
        server.shutdown()
        serving.join(timeout=10)

    assert _central_excerpts(central) == ["I am scared to go home", "someone at home hurts me"]  # each once
    with central.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0  # answers wait their turn
    with laptop.app_context():
        bundles = db.session.scalars(sa.select(FieldBundle).order_by(FieldBundle.sequence)).all()
        assert [b.sequence for b in bundles] == [1, 2] and all(b.confirmed_on for b in bundles)
        assert sync.unsent_concerns(sync.package_named(package_id)) == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0  # kept for the full push
