"""Field laptops (issue 22), in one process: a central app and a laptop app on their own databases.

The finer rules of provisioning and merging, fast; ``test_sync_processes.py`` runs the same
through real servers and the ``sauti sync`` commands.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    AuditEvent,
    ConcernFlag,
    Consultation,
    FieldBundle,
    FieldCard,
    Participant,
    SyncImport,
)
from survey.services import sync
from survey.sync import bundle as fmt
from tests.conftest import SESSION_PIN, base_config
from tests.survey.child_walk import enter, walk


@pytest.fixture
def central(app):
    return app


@pytest.fixture
def make_laptop(sqlite_template, tmp_path):
    made = []

    def factory(name: str = "laptop"):
        target = tmp_path / f"{name}.sqlite"
        shutil.copy(sqlite_template, target)  # migrated once per run, on either database
        config = {**base_config(f"sqlite:///{target}"), "SECRET_KEY": f"{name}-secret-not-for-production"}
        laptop = create_app(config, instance_path=str(tmp_path / f"{name}-instance"))
        made.append(laptop)
        return laptop

    yield factory
    for laptop in made:
        with laptop.app_context():
            db.session.remove()
            db.engine.dispose()


def _package(central, consultation_id: int, site: str = "school-1", cards: int = 6):
    with central.app_context():
        return sync.make_package(db.session.get(Consultation, consultation_id), site, cards=cards)


def _provision(laptop, made, **options):
    with laptop.app_context():
        package = sync.import_package(made.data, enrol_token=made.enrol_token, fingerprint=made.fingerprint, **options)
        _start_session(laptop, package.consultation_id)
        return package.id


def _start_session(laptop, consultation_id: int) -> None:
    from survey.services import sessions

    with laptop.app_context():
        sessions.start(
            db.session.get(Consultation, consultation_id),
            pin=SESSION_PIN,
            checklist=list(sessions.CHECKLIST),
            trained_on=dt.date.today(),
            today=dt.date.today(),
            actor=None,
        )


def _export(laptop, package_id: str, **options) -> bytes:
    with laptop.app_context():
        return sync.export_bundle(sync.package_named(package_id), **options).data


def _import(central, data: bytes):
    with central.app_context():
        return sync.import_bundle(data)


def _central_answers(central, consultation_id: int) -> list[tuple[str, str]]:
    with central.app_context():
        return sorted(
            (pid, item)
            for pid, item in db.session.execute(
                sa.select(Answer.participant_id, Answer.item)
                .join(Participant)
                .where(Participant.consultation_id == consultation_id)
            )
        )


def test_a_field_package_sets_up_the_consultation_and_its_cards_on_the_laptop(
    central, make_consultation, make_laptop
) -> None:
    cid = make_consultation()
    made = _package(central, cid)
    assert len(made.cards) == 6
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    with laptop.app_context():
        package = sync.package_named(package_id)
        consultation = db.session.get(Consultation, package.consultation_id)
        assert consultation.state == "open" and consultation.site_code == "school-1"
        # A child choosing French on the laptop reads the consultation's French words (the
        # package once left them behind and the laptop showed the English ones).
        assert json.loads(consultation.wording)["fr"]["audience"]
        with central.app_context():
            assert consultation.wording == db.session.get(Consultation, cid).wording
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 6
    # The child's code from the printed card works on the laptop (hashes under the site's key).
    walk(enter(laptop, made.cards[0].code, 12), 12)
    with laptop.app_context():
        assert db.session.scalar(sa.select(Participant.state).where(Participant.card_number == 1)) == "completed"


def test_a_package_changed_expired_for_another_site_or_signed_by_another_key_is_refused(
    central, make_consultation, make_laptop
) -> None:
    cid = make_consultation()
    made = _package(central, cid)
    laptop = make_laptop()
    flipped = bytearray(made.data)
    flipped[len(flipped) // 2] ^= 0x01
    other_key = fmt.fingerprint(fmt.new_central_keys().sign_public)
    with laptop.app_context():
        for data, fingerprint, site, words in (
            (bytes(flipped), made.fingerprint, None, "changed or damaged"),
            (made.data, other_key, None, "not signed by the central server"),
            (made.data, made.fingerprint, "school-2", "is for site"),
            (made.data, "", None, "fingerprint"),
        ):
            with pytest.raises(sync.SyncRefused, match=words):
                sync.import_package(data, enrol_token=made.enrol_token, fingerprint=fingerprint, site=site)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0
    with central.app_context():
        from survey.models import SyncPackage

        db.session.get(SyncPackage, made.package_id).expires_on = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        content = fmt.unverified_document(
            fmt.PACKAGE_MAGIC,
            sync.package_content(db.session.get(Consultation, cid), db.session.get(SyncPackage, made.package_id)),
            "package",
        )
        expired = fmt.sign_document(fmt.PACKAGE_MAGIC, content, sync.central_keys().signing)
    with laptop.app_context(), pytest.raises(sync.SyncRefused, match="expired"):
        sync.import_package(expired, enrol_token=made.enrol_token, fingerprint=made.fingerprint)


def test_bundles_merge_once_withdrawal_wins_and_a_card_serves_one_device(
    central, make_consultation, make_laptop
) -> None:
    cid = make_consultation()
    made = _package(central, cid, cards=6)
    second = _package(central, cid, cards=0)  # a second laptop for the same site: the same cards
    laptop_a, laptop_b = make_laptop("a"), make_laptop("b")
    package_a, package_b = _provision(laptop_a, made), _provision(laptop_b, second)
    codes = [card.code for card in made.cards]
    for code in codes[:3]:
        walk(enter(laptop_a, code, 12), 12)
    walk(enter(laptop_b, codes[2], 12), 12)  # the same card on the other laptop (nobody could know)
    walk(enter(laptop_b, codes[3], 12), 12)
    with laptop_a.app_context():
        expected_a = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
    first = _export(laptop_a, package_a)
    result = _import(central, first)
    assert result.counts["participants_completed"] == 3 and result.counts["answers"] == expected_a
    again = _import(central, first)  # the same bundle twice
    assert again.already and again.counts == result.counts
    assert len(_central_answers(central, cid)) == expected_a
    # An overlapping later bundle (everything again, plus nothing new) changes nothing.
    _import(central, _export(laptop_a, package_a))
    assert len(_central_answers(central, cid)) == expected_a
    # A child withdraws on laptop A with the tear-off code: the next bundle deletes centrally.
    withdraw = laptop_a.test_client().post("/change", data={"code": made.cards[1].withdrawal_code})
    assert withdraw.status_code == 200
    assert _import(central, _export(laptop_a, package_a)).counts["withdrawals"] == 1
    with laptop_a.app_context():
        expected_a = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
    assert len(_central_answers(central, cid)) == expected_a
    # Laptop B's answers for the card laptop A used first are refused; its own card is taken.
    from_b = _import(central, _export(laptop_b, package_b))
    assert from_b.counts["cards_used_elsewhere"] == 1 and from_b.counts["participants_completed"] == 1
    with central.app_context():
        per_card = Counter(pid for pid, _item in _central_answers(central, cid))
        devices = dict(db.session.execute(sa.select(FieldCard.participant_id, FieldCard.laptop_id)).all())
        assert len(per_card) == 3 and len(set(filter(None, devices.values()))) == 2  # one withdrawn
        actions = [e.action for e in db.session.scalars(sa.select(AuditEvent))]
        assert actions.count("sync.import") == 4  # the replay was not imported again
        imports = db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "sync.import")).all()
        assert all("answer" not in target.split(":", 1)[0] for target in imports)
    with laptop_b.app_context():
        device_b = sync.package_named(package_b).laptop_id
    with central.app_context():
        status_b = sync.device_status(db.session.get(sync.SyncDevice, device_b))
    # Laptop B learns at its next pull that the card laptop A used is taken (its code stops working
    # there) and that the one withdrawn is withdrawn.
    with laptop_b.app_context():
        assert sync.apply_status(sync.package_named(package_b), status_b) == {"used_elsewhere": 1, "withdrawn": 1}
    taken = laptop_b.test_client()
    taken.environ_base["REMOTE_ADDR"] = "10.99.0.1"
    assert taken.post("/", data={"code": codes[0]}).status_code != 302


def test_a_withdrawal_on_the_central_server_wins_over_answers_arriving_later(
    central, make_consultation, make_laptop, client
) -> None:
    cid = make_consultation()
    made = _package(central, cid, cards=2)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    walk(enter(laptop, made.cards[1].code, 12), 12)
    # The child withdraws online, on the central server, before the laptop's bundle arrives.
    response = client.post("/change", data={"code": made.cards[0].withdrawal_code})
    assert response.status_code in (200, 302)
    result = _import(central, _export(laptop, package_id))
    assert result.counts["withdrawn_before_arrival"] == 1
    with central.app_context():
        states = dict(
            db.session.execute(
                sa.select(Participant.card_number, Participant.state).where(Participant.consultation_id == cid)
            ).all()
        )
        assert states[1] == "withdrawn" and states[2] == "completed"
        kept = {pid for pid, _ in _central_answers(central, cid)}
        withdrawn_id = db.session.scalar(sa.select(Participant.id).where(Participant.card_number == 1))
        assert withdrawn_id not in kept and len(kept) == 1
        status = sync.device_status(db.session.scalars(sa.select(sync.SyncDevice)).one())
    # The laptop learns at its next pull and deletes its copy of the withdrawn child's answers.
    with laptop.app_context():
        counts = sync.apply_status(sync.package_named(package_id), status)
        assert counts == {"withdrawn": 1}
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Answer).where(Answer.participant_id == withdrawn_id)
            )
            == 0
        )


def _permission_and_state(app, card_number: int) -> tuple[str, str]:
    with app.app_context():
        row = db.session.execute(
            sa.select(Participant.permission, Participant.state).where(Participant.card_number == card_number)
        ).one()
        return row.permission, row.state


def test_a_guardians_no_given_centrally_while_the_card_is_out_stops_the_laptops_answers(
    central, make_consultation, make_laptop
) -> None:
    from survey.services import facilitation

    cid = make_consultation()
    made = _package(central, cid, cards=3)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    walk(enter(laptop, made.cards[1].code, 12), 12)
    # The guardian's No for card 1 reaches the central office while the card is out on the
    # laptop (used there, nothing of it here yet); card 3 is withheld before anyone used it.
    with central.app_context():
        assert facilitation.apply_card(cid, 1, "mark_withheld", None) == "withheld"
        assert facilitation.apply_card(cid, 3, "mark_withheld", None) == "withheld"
    result = _import(central, _export(laptop, package_id))
    with central.app_context():
        kept = {pid for pid, _ in _central_answers(central, cid)}
        withheld_id = db.session.scalar(sa.select(Participant.id).where(Participant.card_number == 1))
        assert withheld_id not in kept and len(kept) == 1
    permission, state = _permission_and_state(central, 1)
    assert permission == "withheld" and state in sync.EMPTY_STATES  # the bundle did not undo the No
    assert result.counts.get("withheld_before_arrival") == 1 and result.counts["participants_completed"] == 1
    with central.app_context():
        status = sync.device_status(db.session.scalars(sa.select(sync.SyncDevice)).one())
    # The laptop learns at its next pull: its copy of card 1 goes, and card 3 no longer opens there.
    with laptop.app_context():
        assert sync.apply_status(sync.package_named(package_id), status) == {"withdrawn": 2}
        withheld_answers = sa.select(sa.func.count()).select_from(Answer).where(Answer.participant_id == withheld_id)
        assert db.session.scalar(withheld_answers) == 0
    refused = laptop.test_client()
    refused.environ_base["REMOTE_ADDR"] = "10.99.0.2"
    assert refused.post("/", data={"code": made.cards[2].code}).status_code != 302


def test_a_guardians_no_given_on_the_laptop_reaches_the_central_server(central, make_consultation, make_laptop) -> None:
    from survey.services import facilitation

    cid = make_consultation()
    made = _package(central, cid, cards=2)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    # The laptop's facilitator marks card 1 withheld before it is handed out; nobody used it.
    with laptop.app_context():
        consultation_id = sync.package_named(package_id).consultation_id
        assert facilitation.apply_card(consultation_id, 1, "mark_withheld", None) == "withheld"
    result = _import(central, _export(laptop, package_id))
    assert _permission_and_state(central, 1) == ("withheld", "issued")
    assert result.counts.get("withheld") == 1
    # On the central server too the card no longer leads past the information step; card 2 does.
    child = central.test_client()
    child.environ_base["REMOTE_ADDR"] = "10.99.0.3"
    assert child.post("/", data={"code": made.cards[0].code}).status_code == 302
    assert child.post("/p/age", data={"age": "12"}).status_code == 302
    yes = {"check_0": "0", "check_1": "0", "decision": "yes", "explained": "1"}
    about = child.post("/p/about", data=yes, follow_redirects=True)
    assert 'name="page_token"' not in about.get_data(as_text=True)  # no question page follows
    with central.app_context():
        assert _permission_and_state(central, 1)[1] == "issued"
    walk(enter(central, made.cards[1].code, 12), 12)


def test_a_bundle_changed_replayed_out_of_order_revoked_or_for_another_consultation_changes_nothing(
    central, make_consultation, make_laptop
) -> None:
    cid = make_consultation()
    other = make_consultation("Another")
    made = _package(central, cid, cards=3)
    other_made = _package(central, other, cards=1)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    one = _export(laptop, package_id)
    two = _export(laptop, package_id)
    flipped = bytearray(two)
    flipped[-40] ^= 0x01
    with pytest.raises(sync.SyncRefused, match="changed or damaged"):
        _import(central, bytes(flipped))
    _import(central, two)
    with pytest.raises(sync.SyncRefused, match="older than one already imported"):
        _import(central, one)
    # A bundle relabelled for another consultation does not pass its signature; one signed anew
    # by the laptop's key for another consultation's package is refused by its labels.
    with laptop.app_context():
        package = sync.package_named(package_id)
        header = fmt.read_header(two)
        forged = fmt.seal_bundle(
            {**header, "consultation": other, "sequence": 9},
            {"participants": []},
            sync.device_key(package_id),
            bytes.fromhex(package.central_box_key),
        )
    with pytest.raises(sync.SyncRefused, match="another consultation"):
        _import(central, forged)
    assert other_made.package_id  # the other consultation has its own package and device slot
    # A laptop that never registered (its enrolment code is wrong) is refused.
    stranger = make_laptop("stranger")
    with stranger.app_context():
        sync.import_package(other_made.data, enrol_token="not-the-code", fingerprint=other_made.fingerprint)
    with pytest.raises(sync.SyncRefused, match="enrolment code is wrong"):
        _import(central, _export(stranger, other_made.package_id))
    with central.app_context():
        sync.revoke_device(header["device"])
    with pytest.raises(sync.SyncRefused, match="revoked"):
        _import(central, _export(laptop, package_id))
    with central.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncImport)) == 1


def test_concerns_alone_go_first_and_the_receipt_lets_the_laptop_delete_its_copy(
    central, make_consultation, make_laptop, monkeypatch
) -> None:
    cid = make_consultation()
    made = _package(central, cid, cards=2)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    walk(enter(laptop, made.cards[1].code, 12), 12)
    with laptop.app_context():
        db.session.add(
            ConcernFlag(
                consultation_id=sync.package_named(package_id).consultation_id,
                item="q",
                excerpt="someone hurts me",
                concerns="abuse",
            )
        )
        db.session.commit()
    concerns = _import(central, _export(laptop, package_id, concerns_only=True))
    assert concerns.counts == {"concerns": 1, "sessions": 1}  # the session the lead needs to find the child
    full = _import(central, _export(laptop, package_id))
    assert "concerns" not in full.counts  # already there: not twice
    with laptop.app_context():
        package = sync.package_named(package_id)
        sync.accept_receipt(package, concerns.receipt)
        sync.accept_receipt(package, full.receipt)
        # Not yet: the profile's field_copy_days (7) after the receipt.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0
    # The second child withdraws here after the receipt: their card is kept until a bundle carries it.
    assert laptop.test_client().post("/change", data={"code": made.cards[1].withdrawal_code}).status_code == 200
    with laptop.app_context():
        assert sync.purge_confirmed(dt.date.today() + dt.timedelta(days=7)) == {"participants": 1, "concerns": 1}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 0
        assert db.session.scalar(sa.select(Participant.state).where(Participant.card_number == 2)) == "withdrawn"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConcernFlag)) == 0
        assert all(b.purged for b in db.session.scalars(sa.select(FieldBundle)))
        # A receipt signed by anyone else is refused.
        forged = fmt.sign_document(
            fmt.RECEIPT_MAGIC, json.loads(json.dumps({"kind": "receipt"})), fmt.new_central_keys().signing
        )
        with pytest.raises(sync.SyncRefused, match="signature"):
            sync.accept_receipt(package, forged)
    assert _import(central, _export(laptop, package_id)).counts["withdrawals"] == 1
    with central.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConcernFlag)) == 1
        assert len(_central_answers(central, cid)) > 0  # the first child's, kept centrally
        assert db.session.scalar(sa.select(Participant.state).where(Participant.card_number == 2)) == "withdrawn"


def test_synced_answers_reach_the_release_with_sites_as_a_disaggregation_small_sites_hidden(
    central, make_consultation, make_laptop
) -> None:
    """Part 5: the release ledger reads synced answers like central ones; a site is a group
    that the disclosure rules suppress when small (here 2 children beside 11)."""
    from survey.services import releases, reporting

    cid = make_consultation()
    big, small = _package(central, cid, "school-big", cards=11), _package(central, cid, "school-small", cards=2)
    for made, name in ((big, "big"), (small, "small")):
        laptop = make_laptop(name)
        package_id = _provision(laptop, made)
        for card in made.cards:
            walk(enter(laptop, card.code, 12), 12)
        _import(central, _export(laptop, package_id))
    with central.app_context():
        consultation = db.session.get(Consultation, cid)
        long, _cb = reporting.long_frame(consultation)
        per_site = long.groupby("site", observed=True)["response_id"].nunique().to_dict()
        assert per_site == {"school-big": 11, "school-small": 2}
        release = releases.make_release(consultation, None)
        assert release.n_children == 13
        assert "school-small" not in release.content  # two children: never a group of their own


def test_an_administrator_imports_a_bundle_in_the_console_and_downloads_its_receipt(
    central, make_consultation, make_laptop, make_user
) -> None:
    import io

    from tests.conftest import sign_in

    cid = make_consultation()
    made = _package(central, cid, cards=1)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    walk(enter(laptop, made.cards[0].code, 12), 12)
    data = _export(laptop, package_id)
    make_user("ada", "admin")
    make_user("fiona", "facilitator")
    admin, facilitator = central.test_client(), central.test_client()
    sign_in(admin, "ada")
    sign_in(facilitator, "fiona")
    assert facilitator.post("/admin/field-laptops/", data={"file": (io.BytesIO(data), "b.sauti")}).status_code == 403
    flipped = bytearray(data)
    flipped[-10] ^= 0x01
    refused = admin.post("/admin/field-laptops/", data={"file": (io.BytesIO(bytes(flipped)), "b.sauti")})
    assert refused.status_code == 400 and "changed or damaged" in refused.get_data(as_text=True)
    done = admin.post("/admin/field-laptops/", data={"file": (io.BytesIO(data), "b.sauti")}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Imported: " in page and "school-1" in page
    with central.app_context():
        import_id = db.session.scalar(sa.select(SyncImport.id))
    receipt = admin.get(f"/admin/field-laptops/imports/{import_id}/receipt")
    assert receipt.status_code == 200
    with laptop.app_context():
        assert sync.accept_receipt(sync.package_named(package_id), receipt.data)["sequence"] == 1
