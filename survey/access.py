"""Who may reach which route: every view declares it, and one hook enforces it.

Each view function carries an :class:`AccessRule` set by one of the decorators below.  The
``before_request`` hook installed by :func:`init_app` looks the rule up for the matched endpoint
and refuses the request before the view runs.  A view without a rule is refused (fail closed),
and ``tests/survey/test_access_matrix.py`` walks the URL map to prove every route has one.

Kinds of rule:

``public``
    anyone (the sign-in page, the child's code-entry page, static files).
``child``
    a child holding a live participant session (set after a valid code);
``child_assented``
    as ``child``, and the child has said Yes (the consent gate: questions and answers only here).
``staff(*roles)``
    a signed-in staff member with one of ``roles``.
``member(*roles, arg="consultation_id", admins=False)``
    a signed-in member of the consultation's team named by the URL argument ``arg`` in one of
    those team roles (owner, facilitator, analyst, safeguarding), still holding the account role
    that team role needs; with ``admins=True`` an administrator too (programme records, the team).
``api_token(*scopes)``
    an API call carrying a live personal access token with every one of ``scopes``
    (:mod:`survey.api.auth`); the staff session cookie counts for nothing here.

The same hook first checks a form's CSRF token (Flask-WTF's ``protect``, with its ``exempt``
views and blueprints), only on the methods that change something (``WTF_CSRF_METHODS``):
``WTF_CSRF_CHECK_DEFAULT`` is off, Flask-WTF's documented way to call ``protect`` from the app's
own hook, so that a GET no longer runs Flask-WTF's hook with its five context look-ups.  A
view marked :func:`checks_own_form_token` (the question pages) is exempt and checks its token
itself; the hook does not call ``protect`` for it at all.

The team check itself is :func:`permits`, the one place that says who may do what on a
consultation; views and templates that show or hide a link ask it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from consent.states import ANSWERING_STATES
from survey.child_session import CHILD_SESSION_KEY, current_participant
from survey.extensions import csrf, login_manager

F = TypeVar("F", bound=Callable[..., Any])


#: The roles on a consultation's team.  The owner runs the team (adds and removes members, as an
#: administrator can); facilitators run sessions; analysts see results; the safeguarding lead
#: reviews concerns.
TEAM_ROLES = ("owner", "facilitator", "analyst", "safeguarding")
#: The account roles each team role needs: someone who loses the account role loses the access.
MEMBERSHIP_NEEDS = {
    "owner": ("facilitator", "admin"),
    "facilitator": ("facilitator",),
    "analyst": ("analyst",),
    "safeguarding": ("facilitator", "admin"),
}


def team_roles(user: Any, consultation_id: int) -> frozenset[str]:
    """The team roles ``user`` holds on the consultation and may use (account role still held)."""
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import Membership

    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return frozenset()
    held = db.session.scalars(
        sa.select(Membership.role).where(Membership.user_id == user.id, Membership.consultation_id == consultation_id)
    )
    return frozenset(role for role in held if user.has_role(*MEMBERSHIP_NEEDS.get(role, (role,))))


def permits(user: Any, consultation_id: int, roles: tuple[str, ...] = (), *, admins: bool = False) -> bool:
    """Whether ``user`` may act on the consultation in one of the team ``roles`` (any role when
    empty); with ``admins`` an administrator may too.  The one role check of the application."""
    if admins and getattr(user, "is_authenticated", False) and user.has_role("admin"):
        return True
    held = team_roles(user, consultation_id)
    return bool(held.intersection(roles) if roles else held)


def may_manage_team(user: Any, consultation_id: int) -> bool:
    """An administrator or the consultation's owner adds and removes team members."""
    return permits(user, consultation_id, ("owner",), admins=True)


@dataclasses.dataclass(frozen=True)
class AccessRule:
    kind: str  # public | child | staff | member | token
    roles: tuple[str, ...] = ()
    arg: str | None = None
    admins: bool = False  # member rules only: administrators pass without membership

    @property
    def child_facing(self) -> bool:
        return self.kind == "child"


def _declare(rule: AccessRule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.__sauti_access__ = rule  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    return _declare(AccessRule("public"))(view)


def public_child_facing(view: F) -> F:
    """Public, and seen by children (code entry, help): held to the child-facing rules."""
    return _declare(AccessRule("public", arg="child-facing"))(view)


def child(view: F) -> F:
    """A child with a live session, before or after assent (age, information, stop)."""
    return _declare(AccessRule("child"))(view)


def child_assented(view: F) -> F:
    """A child who has said Yes: the only rule under which answers can be reached or stored."""
    return _declare(AccessRule("child", arg="assented"))(view)


def checks_own_form_token(view: F) -> F:
    """A view that checks its form's CSRF token itself (a question page, so that a stale token
    shows the page again with the child's answers instead of an error page): Flask-WTF's
    ``exempt``, and the hook does not ask Flask-WTF at all (its exemption look-up reads the
    request through five context proxies, on every saved page)."""
    view.__sauti_own_form_token__ = True  # type: ignore[attr-defined]
    return csrf.exempt(view)


def staff(*roles: str) -> Callable[[F], F]:
    return _declare(AccessRule("staff", roles=roles))


def member(*roles: str, arg: str = "consultation_id", admins: bool = False) -> Callable[[F], F]:
    return _declare(AccessRule("member", roles=roles, arg=arg, admins=admins))


def api_token(*scopes: str) -> Callable[[F], F]:
    """An API call with a token holding ``scopes`` (survey/api/auth.py checks it)."""
    return _declare(AccessRule("token", roles=scopes))


# Endpoints registered by Flask or extensions rather than by our blueprints.
BUILTIN_RULES = {"static": AccessRule("public", arg="child-facing")}


def rule_for(app: Flask, endpoint: str | None) -> AccessRule | None:
    if endpoint is None:
        return None
    if endpoint in BUILTIN_RULES:
        return BUILTIN_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    return getattr(view, "__sauti_access__", None)


def is_child_facing(rule: AccessRule | None) -> bool:
    return rule is not None and (rule.kind == "child" or rule.arg == "child-facing")


def request_is_child_facing(app: Flask, endpoint: str | None, path: str) -> bool:
    """Whether this request's page is a child's: its route's rule, or, for an address no route
    matches (a mistyped link, a half-remembered address), a child's unless every route under its
    first path segment is for staff.  A child who mistypes an address still gets the quick exit
    and the helplines; ``/staff/nonsense`` keeps the staff layout."""
    if endpoint is not None:
        return is_child_facing(rule_for(app, endpoint))
    return path.lstrip("/").split("/", 1)[0] not in _staff_only_segments(app)


def _staff_only_segments(app: Flask) -> frozenset[str]:
    known = app.extensions.get("sauti_staff_only_segments")
    if known is None:
        child_seen: dict[str, bool] = {}
        for url_rule in app.url_map.iter_rules():
            segment = url_rule.rule.lstrip("/").split("/", 1)[0]
            here = is_child_facing(rule_for(app, url_rule.endpoint))
            child_seen[segment] = child_seen.get(segment, False) or here
        known = frozenset(segment for segment, child in child_seen.items() if segment and not child)
        app.extensions["sauti_staff_only_segments"] = known
    return known


def _enforce() -> Any:
    asked = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up, not five
    endpoint = asked.endpoint
    if endpoint is None:  # 404/405: nothing to protect, the error handler answers
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if (
        asked.method in config["WTF_CSRF_METHODS"]
        and config["WTF_CSRF_ENABLED"]
        and not getattr(app.view_functions.get(endpoint), "__sauti_own_form_token__", False)
    ):
        csrf.protect(apply_exemptions=True)  # a CSRFError (400) for a missing or wrong token
    if any(isinstance(value, str) and "\x00" in value for value in (asked.view_args or {}).values()):
        # No id or name Sauti stores holds a NUL, and PostgreSQL refuses one in a query (a 500):
        # such a URL names nothing, for every route at once.
        abort(404)
    rule = rule_for(app, endpoint)
    g._get_current_object().access_rule = rule
    if rule is None:
        current_app.logger.error("route without an access rule refused", extra={"endpoint": request.endpoint})
        abort(403)
    if rule.kind == "public":
        return None
    if rule.kind == "token":
        from survey.api.auth import enforce

        return enforce(rule.roles)
    if rule.kind == "child":
        participant = current_participant()
        if participant is None:
            ended = stopped_card(session.pop(CHILD_SESSION_KEY, None))
            return redirect(url_for("participate.card_stopped" if ended else "participate.start"))
        if rule.arg == "assented" and participant.state not in ANSWERING_STATES:
            # The consent gate: no page of questions, and no answer, before an affirmative assent.
            return redirect(url_for("participate.welcome"))
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if rule.kind == "staff" and rule.roles and not current_user.has_role(*rule.roles):
        abort(403)
    if rule.kind == "member":
        consultation_id = (request.view_args or {}).get(rule.arg or "")
        if consultation_id is None or not permits(current_user, consultation_id, rule.roles, admins=rule.admins):
            abort(403)
    return None


def stopped_card(participant_id: Any) -> bool:
    """Whether this device's child session ended because the card's permission was withheld.

    Asked only when the session no longer holds a live participant (not on every request).  A
    guardian's withholding ends a child's session wherever they are
    (:func:`survey.services.journey.guardian_withheld`); the child then sees a calm page that
    says their answers were deleted and blames nobody, instead of the code box without a word.
    """
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import Participant
    from survey.states import CardState

    if not isinstance(participant_id, str):
        return False
    permission = db.session.scalar(sa.select(Participant.permission).where(Participant.id == participant_id))
    return permission == CardState.WITHHELD


def init_app(app: Flask) -> None:
    app.before_request(_enforce)
