"""Benchmark: one field laptop's bundle of 2,000 simulated children (issue 22).

A central server on PostgreSQL (a scratch database, dropped afterwards; SQLite with
``--sqlite``) makes a field package with 2,000 code cards for a site; a laptop on SQLite imports
it; 2,000 children are simulated on the laptop by writing what their journey writes (a
completed participant, an answer to every question of band B's pages of the bundled
consultation, a page save per page, an assent event).  Then:

* export: ``sync.export_bundle`` (collect, compress, seal to the central key, sign);
* transfer: ``sauti sync push``'s upload (512 KiB pieces) to a real ``sauti serve`` over
  127.0.0.1, without the final import;
* import: the upload's finish request, in which the central server checks and merges the bundle
  (one transaction), and the same bundle again (already imported: nothing changes).

Prints the figures and writes bench/results/sync_bundle.json.

    .venv/bin/python bench/sync_bundle.py                 # 2,000 children
    .venv/bin/python bench/sync_bundle.py --children 500  # fewer
    .venv/bin/python bench/sync_bundle.py --encrypted     # the laptop's database encrypted first
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "bench-central-secret-not-for-production"


def _config(url: str, secret: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }


def _app(url: str, instance: Path, secret: str):
    from flask_migrate import upgrade

    from survey import create_app

    app = create_app(_config(url, secret), instance_path=str(instance))
    with app.app_context():
        upgrade()
    return app


def _open_consultation(app) -> int:
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import consultations, instrument_store, sessions

    with app.app_context():
        stored = instrument_store.store_bundled()
        instrument = instrument_store.instrument_for_version(stored)
        consultation = consultations.create_consultation(
            title="Bench",
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=["en"],
            age_bands=["A", "B", "C"],
            country_profile="example-uk",
            details={
                "organisation": "Bench",
                "contact": "the team",
                "independent_contact": "the board",
                "audience": "the council",
                "influence_scope": "help",
                "ethics_reference": "REC-1",
                "feedback_due": dt.date(2027, 3, 1),
                "analysis_cutoff": dt.date(2027, 1, 31),
            },
        )
        consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
        sessions.set_pin(db.session.get(Consultation, consultation.id), "2468")
        return consultation.id


def _simulate(laptop, children: int) -> int:
    """Write what ``children`` completed journeys write; the number of answers."""
    from survey.extensions import db
    from survey.models import Answer, AssentEvent, PageSave, Participant, new_uuid
    from survey.services import instrument_store, sync
    from survey.services.retention import holder_tag

    with laptop.app_context():
        package = sync.only_package()
        consultation = db.session.get(sync.Consultation, package.consultation_id)
        instrument = instrument_store.instrument_for(consultation)
        pages = instrument.pages_for_band("B", False)
        today = dt.date.today()
        ids = list(db.session.scalars(sa.select(Participant.id).where(Participant.consultation_id == consultation.id)))[
            :children
        ]
        answers, saves, events = [], [], []
        for number, pid in enumerate(ids):
            for page in pages:
                for item in page.items:
                    choices = [c.name for c in instrument.choices_for(item, "B")]
                    value = choices[number % len(choices)] if choices else "_rns"
                    answers.append(
                        {"id": new_uuid(), "participant_id": pid, "item": item.name, "value": value, "saved_on": today}
                    )
                saves.append({"token": uuid.uuid4().hex, "participant_id": pid, "digest": uuid.uuid4().hex})
            events.append(
                {
                    "id": new_uuid(),
                    "consultation_id": consultation.id,
                    "text_id": "child_information/en/B",
                    "text_hash": "0" * 64,
                    "outcome": "yes",
                    "method": "screen",
                    "recorded_on": today,
                    "holder_tag": holder_tag(pid),
                }
            )
        db.session.execute(
            sa.update(Participant)
            .where(Participant.id.in_(ids))
            .values(state="completed", band="B", language="en", last_active_on=today)
        )
        db.session.execute(sa.insert(Answer), answers)
        db.session.execute(sa.insert(PageSave), saves)
        db.session.execute(sa.insert(AssentEvent), events)
        db.session.commit()
        return len(answers)


def _serve(env: dict, port: int) -> subprocess.Popen:
    import urllib.request

    server = subprocess.Popen(
        [sys.executable, "-c", "from survey.cli import main; main()", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the central server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--sqlite", action="store_true", help="the central server on SQLite, not PostgreSQL")
    parser.add_argument(
        "--encrypted", action="store_true", help="the laptop's database encrypted (`sauti sync protect`) before export"
    )
    args = parser.parse_args()

    import json as _json
    import socket

    from survey.extensions import db
    from survey.models import Answer, Consultation
    from survey.services import sync
    from survey.sync import client

    folder = Path(tempfile.mkdtemp(prefix="sauti-sync-bench-"))
    name = f"sauti_sync_bench_{uuid.uuid4().hex[:8]}"
    admin = None
    if args.sqlite:
        central_url = f"sqlite:///{folder / 'central.sqlite'}"
    else:
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        central_url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        central = _app(central_url, folder / "central", SECRET)
        cid = _open_consultation(central)
        with central.app_context():
            made = sync.make_package(db.session.get(Consultation, cid), "school-1", cards=args.children)
        laptop = _app(f"sqlite:///{folder / 'laptop.sqlite'}", folder / "laptop", "bench-laptop-secret-not-for-prod")
        with laptop.app_context():
            sync.import_package(made.data, enrol_token=made.enrol_token, fingerprint=made.fingerprint)
        answers = _simulate(laptop, args.children)
        if args.encrypted:  # as `sauti sync protect` does, with the key handed on as `sauti serve` does
            from survey.sync import protect

            with laptop.app_context():
                db.session.remove()
                db.engine.dispose()
            key = os.urandom(32)
            protect.write_private(folder / "laptop" / protect.KEY_FILE, protect.seal_key(key, "bench passphrase"))
            protect.encrypt_database(str(folder / "laptop.sqlite"), key)
            os.environ[protect.KEY_VARIABLE] = key.hex()
            laptop_url = f"sqlite:///{folder / 'laptop.sqlite'}"
            laptop = _app(laptop_url, folder / "laptop", "bench-laptop-secret-not-for-prod")

        with laptop.app_context():
            started = time.perf_counter()
            exported = sync.export_bundle(sync.only_package())
            export_s = time.perf_counter() - started
            package = sync.only_package()
            start_request = sync.device_request(package, client.upload_description(exported.data))
        with central.app_context():
            db.session.remove()
            db.engine.dispose()

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": central_url,
            "SAUTI_INSTANCE_PATH": str(folder / "central"),
            "SAUTI_SECRET_KEY": SECRET,
        }
        server = _serve(env, port)
        base = f"http://127.0.0.1:{port}"
        data = exported.data
        # The laptop registers its key (as `sauti sync pull` does), then sends the bundle.
        with laptop.app_context():
            registration = sync.registration_request(sync.only_package())
        sync_answer = client.post_signed(base, "devices", registration)
        with laptop.app_context():
            sync.accept_registration(sync.only_package(), sync_answer)
        # Transfer: the pieces only (start + PUTs); the finish request is the import.
        started = time.perf_counter()
        begun = _json.loads(client.post_signed(base, "uploads", start_request))
        offset = 0
        while offset < len(data):
            piece = data[offset : offset + client.CHUNK_BYTES]
            answer = _json.loads(
                client._request("PUT", f"{base}/sync/api/uploads/{begun['upload']}?offset={offset}", piece)[1]
            )
            offset = int(answer["received"])
        transfer_s = time.perf_counter() - started
        started = time.perf_counter()
        finished = _json.loads(client._request("POST", f"{base}/sync/api/uploads/{begun['upload']}/finish", b"")[1])
        import_s = time.perf_counter() - started
        with laptop.app_context():
            again_request = sync.device_request(sync.only_package(), client.upload_description(data))
        started = time.perf_counter()
        again = client.push_bundle(base, data, again_request)
        again_s = time.perf_counter() - started
        central = _app(central_url, folder / "central", SECRET)
        with central.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
            db.session.remove()
            db.engine.dispose()
        result = {
            "children": args.children,
            "answers": answers,
            "answers_stored_centrally": stored,
            "central_database": "sqlite" if args.sqlite else "postgresql",
            "laptop_database": "sqlcipher" if args.encrypted else "sqlite",
            "bundle_bytes": len(data),
            "bytes_per_child": round(len(data) / args.children),
            "export_s": round(export_s, 2),
            "transfer_s": round(transfer_s, 2),
            "import_s": round(import_s, 2),
            "same_bundle_again_s": round(again_s, 2),
            "already": again.already,
            "counts": finished["counts"],
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        print(
            f"{args.children:,} children, {answers:,} answers: bundle {len(data) / 1e6:.2f} MB "
            f"({result['bytes_per_child']} bytes a child)"
        )
        print(
            f"export {export_s:.2f} s, transfer (127.0.0.1, 512 KiB pieces) {transfer_s:.2f} s, "
            f"import {import_s:.2f} s, the same bundle again {again_s:.2f} s"
        )
        print(f"stored centrally: {stored:,} answers ({'all' if stored == answers else 'NOT all'})")
        out = ROOT / "bench" / "results" / ("sync_bundle_encrypted.json" if args.encrypted else "sync_bundle.json")
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return 0 if stored == answers else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if admin is not None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
