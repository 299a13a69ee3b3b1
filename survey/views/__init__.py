"""Blueprints.  Views are thin: parse the request, call a service, render or redirect."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    from survey.views import admin, auth, facilitate, participate, profiles, programme, reports, safeguarding, staff
    from survey.views import sync as sync_views

    return (participate.bp, auth.bp, staff.bp, facilitate.bp, reports.bp, programme.bp, safeguarding.bp, admin.bp,
            profiles.bp, sync_views.bp, sync_views.console)
