"""Every child-facing page shows the profile's helplines; the quick exit goes where the profile says."""

from __future__ import annotations

from consent.profiles import load_profile


def test_help_panel_shows_the_default_profiles_helplines(client) -> None:
    generic = load_profile("generic")
    for path in ("/", "/help"):
        html = client.get(path).get_data(as_text=True)
        for helpline in generic.helplines:
            assert helpline.number in html
        # The shipped profiles are examples, and the page says so plainly.
        assert "These helpline details are examples" in html


def test_child_in_a_session_sees_their_consultations_profile(app, world) -> None:
    from survey.extensions import db
    from survey.models import Consultation

    with app.app_context():
        db.session.get(Consultation, world.consultation).country_profile = "example-ke"
        db.session.commit()
    html = world.clients["child"].get("/p/age").get_data(as_text=True)
    for helpline in load_profile("example-ke").helplines:
        assert helpline.number in html


def test_quick_exit_follows_the_profile_unless_pinned(make_app) -> None:
    app = make_app(QUICK_EXIT_URL="")
    response = app.test_client().post("/leave")
    assert response.status_code == 303
    assert response.location == load_profile("generic").quick_exit_url
