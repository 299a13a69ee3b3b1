"""The consent texts' review states, read for a whole registry at once (two queries), are each
text's own review state: the latest step wins, demo-only approvals count only in a demo, and an
approval recorded before review steps existed still counts."""

from __future__ import annotations

from consent.texts.model import TextStatus
from survey.extensions import db


def test_reviewed_registry_agrees_with_each_texts_own_state(app) -> None:
    from survey.models import TextApproval
    from survey.services.consent_rules import text_registry
    from survey.services.translations import reviewed_registry, set_text_state, text_state

    with app.app_context():
        texts = [text for text in text_registry() if text.status is not TextStatus.APPROVED][:5]
        later_withdrawn, demo_only, legacy, approved, untouched = texts
        set_text_state(later_withdrawn.text_id, "approved", by="Reviewer")
        set_text_state(later_withdrawn.text_id, "reviewed", by="Reviewer", note="a change")
        set_text_state(demo_only.text_id, "approved", by="Reviewer", demo_only=True)
        db.session.add(TextApproval(text_id=legacy.text_id, content_hash=legacy.content_hash, approved_by="Old"))
        db.session.commit()
        set_text_state(approved.text_id, "approved", by="Reviewer")
        expected = {
            True: {later_withdrawn: False, demo_only: True, legacy: True, approved: True, untouched: False},
            False: {later_withdrawn: False, demo_only: False, legacy: True, approved: True, untouched: False},
        }
        for demo, wanted in expected.items():
            reviewed = reviewed_registry(text_registry(), demo=demo)
            for text, is_approved in wanted.items():
                assert (reviewed.get(text.text_id).status is TextStatus.APPROVED) is is_approved, (demo, text.text_id)
            for text in text_registry():
                own = text_state(text, demo=demo).approved_for(demo=demo)
                assert (reviewed.get(text.text_id).status is TextStatus.APPROVED) is own, (demo, text.text_id)
