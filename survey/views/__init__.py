"""Blueprints.  Views are thin: parse the request, call a service, render or redirect."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    from survey.views import (
        admin,
        auth,
        facilitate,
        fieldwork,  # noqa: F401  # its routes join facilitate.bp before it is registered
        participate,
        profiles,
        programme,
        reports,
        safeguarding,
        staff,
        tokens,
        translations,
    )
    from survey.views import sync as sync_views
    from survey.views.audio import bp as audio_bp  # read-aloud: the play controls, the audio, the console

    return (
        participate.bp,
        auth.bp,
        staff.bp,
        facilitate.bp,
        reports.bp,
        programme.bp,
        safeguarding.bp,
        admin.bp,
        profiles.bp,
        tokens.bp,
        translations.bp,
        audio_bp,
        sync_views.bp,
        sync_views.console,
    )
