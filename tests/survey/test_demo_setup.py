"""Issue 17: `sauti demo` creates an administrator too, staffs its consultation's team, and says
plainly where children's devices can reach it (`--lan` puts the network address on the cards)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Consultation, User
from tests.browser.test_facilitator_flow import pdf_pages_and_text
from tests.conftest import sign_in


def _password(output: str, username: str) -> str:
    return re.search(rf"{username}  password: (\S+)", output).group(1)


def test_the_demo_has_an_administrator_and_a_staffed_team(app, runner) -> None:
    result = runner.invoke(args=["demo", "--no-serve", "--codes", "2"])
    assert result.exit_code == 0, result.output
    passwords = {name: _password(result.output, name) for name in ("demo-facilitator", "demo-analyst", "demo-admin")}
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "demo-admin"))
        assert admin.role_set == {"admin"}
        consultation = db.session.scalar(sa.select(Consultation.id))
    # Without --lan the demo says that phones cannot reach 127.0.0.1, and what to do.
    assert "Phones and tablets cannot reach this address" in result.output and "sauti demo --lan" in result.output
    clients = {}
    for name, password in passwords.items():
        clients[name] = app.test_client()
        assert sign_in(clients[name], name, password).status_code == 302
    assert clients["demo-admin"].get("/admin/users").status_code == 200
    assert clients["demo-analyst"].get(f"/reports/{consultation}/").status_code == 200
    team = clients["demo-facilitator"].get(f"/facilitate/{consultation}/team").get_data(as_text=True)
    assert "demo-analyst" in team and "Add to the team" in team  # the facilitator owns it
    # Passwords are shown once: a second run does not print them again.
    again = runner.invoke(args=["demo", "--no-serve", "--codes", "1"])
    assert "demo-admin already exists" in again.output and "  password: " not in again.output


def test_with_lan_the_cards_carry_the_network_address(app, runner, monkeypatch) -> None:
    import survey.cli.serving

    monkeypatch.setenv("SAUTI_PUBLIC_URL", "")
    monkeypatch.delenv("SAUTI_PUBLIC_URL")  # restored (absent) afterwards: the demo sets it
    monkeypatch.setattr(survey.cli.serving, "lan_address", lambda: "192.168.1.23")
    result = runner.invoke(args=["demo", "--no-serve", "--lan", "--codes", "2"])
    assert result.exit_code == 0, result.output
    assert "http://192.168.1.23:5000/ with one of these codes" in result.output
    assert "cannot reach" not in result.output
    with app.app_context():
        consultation = db.session.scalar(sa.select(Consultation.id))
    client = app.test_client()
    sign_in(client, "demo-facilitator", _password(result.output, "demo-facilitator"))
    assert "cannot reach it" not in client.get(f"/facilitate/{consultation}/").get_data(as_text=True)
    pdf = client.post(f"/facilitate/{consultation}/codes", data={"count": "1"})
    assert pdf.mimetype == "application/pdf"
    _pages, text = pdf_pages_and_text(pdf.data)
    assert "192.168.1.23:5000" in text and "127.0.0.1" not in text and "localhost" not in text


def test_cards_made_on_127_0_0_1_without_lan_are_flagged(app, runner, monkeypatch) -> None:
    monkeypatch.setenv("SAUTI_PUBLIC_URL", "")
    result = runner.invoke(args=["demo", "--no-serve", "--codes", "1"])
    with app.app_context():
        consultation = db.session.scalar(sa.select(Consultation.id))
    client = app.test_client()
    here = "http://127.0.0.1:5000"
    client.post(
        "/staff/sign-in",
        base_url=here,
        data={"username": "demo-facilitator", "password": _password(result.output, "demo-facilitator")},
    )
    page = client.get(f"/facilitate/{consultation}/", base_url=here).get_data(as_text=True)
    assert "phones and tablets cannot reach it" in page and "--lan" in page
