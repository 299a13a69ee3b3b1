"""The `sauti` command: users, demo, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Consultation, Participant, User
from tests.conftest import free_port


def test_users_create_and_list(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "Fiona", "--role", "facilitator", "--role", "analyst", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["users", "list"])
    assert "fiona\tfacilitator analyst\tactive" in listing.output
    refused = runner.invoke(args=["users", "create", "x", "--role", "admin", "--password-stdin"], input="short\n")
    assert refused.exit_code != 0 and "12 characters" in refused.output
    bad_role = runner.invoke(args=["users", "create", "y", "--role", "king", "--password-stdin"])
    assert bad_role.exit_code == 2


def test_users_generate_password_prints_it_once(app, runner) -> None:
    result = runner.invoke(args=["users", "create", "ada", "--role", "admin", "--generate-password"])
    assert result.exit_code == 0 and "Password (shown once):" in result.output
    password = result.output.rsplit(": ", 1)[1].strip()
    client = app.test_client()
    assert client.post("/staff/sign-in", data={"username": "ada", "password": password}).status_code == 302


def test_demo_sets_everything_up(app, runner) -> None:
    result = runner.invoke(args=["demo", "--no-serve", "--codes", "5"])
    assert result.exit_code == 0, result.output
    assert "demo-facilitator  password:" in result.output
    cards = [line.split() for line in result.output.splitlines() if "withdrawal:" in line]
    codes = [card[0] for card in cards]
    assert len(codes) == 5 and all(len(code) == 14 and code.count("-") == 2 for code in codes)
    assert len({card[2] for card in cards} | set(codes)) == 10  # ten different codes
    with app.app_context():
        consultation = db.session.scalar(sa.select(Consultation))
        assert consultation.state == "open"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 5
        assert {u.username for u in db.session.scalars(sa.select(User))} == {
            "demo-facilitator",
            "demo-analyst",
            "demo-admin",
        }
    # A printed code lets a child in.
    client = app.test_client()
    assert client.post("/", data={"code": codes[0].lower()}).status_code == 302
    # Running the demo again keeps the accounts and adds a fresh sheet of codes.
    again = runner.invoke(args=["demo", "--no-serve", "--codes", "2"])
    assert "already exists" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 7


def test_sauti_serve_runs_a_real_server(tmp_path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
    }
    env.pop("SAUTI_SECRET_KEY", None)
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    subprocess.run([*sauti, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        [*sauti, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    assert response.status == 200
                    assert response.headers["Server"] == "Sauti"
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert "csrf_token" in body
        # The secret key was generated into the instance folder, readable by the owner only.
        config = tmp_path / "instance" / "config.py"
        assert "SECRET_KEY" in config.read_text() and oct(config.stat().st_mode)[-3:] == "600"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
        server.stderr.close()


def test_instruments_validate_import_export_preview(app, runner, tmp_path) -> None:
    from instruments.bundled import __file__ as bundled_init

    bundled = str(__import__("pathlib").Path(bundled_init).parent / "reporting-mechanisms.yaml")
    valid = runner.invoke(args=["instruments", "validate", bundled])
    assert valid.exit_code == 0 and "0 error(s)" in valid.output
    broken = tmp_path / "broken.md"
    broken.write_text(
        "| survey |        |      |       |\n|        | type   | name | label |\n"
        "|        | select_one nowhere | q1 | Pick |\n"
    )
    refused = runner.invoke(args=["instruments", "validate", str(broken)])
    assert refused.exit_code != 0
    imported = runner.invoke(args=["instruments", "import", bundled, "--approve"])
    assert imported.exit_code == 0 and "Stored reporting-mechanisms" in imported.output
    target = tmp_path / "out.xlsx"
    exported = runner.invoke(
        args=["instruments", "export", "reporting-mechanisms", "--format", "xlsform", "-o", str(target)]
    )
    assert exported.exit_code == 0 and target.stat().st_size > 1000
    again = runner.invoke(args=["instruments", "validate", str(target)])
    assert again.exit_code == 0, again.output
    preview = runner.invoke(args=["instruments", "preview", bundled, "--band", "A", "--lang", "en"])
    assert preview.exit_code == 0 and "(band A, en)" in preview.output
    missing = runner.invoke(args=["instruments", "export", "nothing-here"])
    assert missing.exit_code != 0 and "No stored instrument" in missing.output
