"""Static staff forms.  (Children's survey pages are built at run time elsewhere.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey.config import ROLES


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(_l("Your code"), validators=[DataRequired(), Length(max=64)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false", "inputmode": "text"})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    labels = {"admin": _l("Administrator"), "facilitator": _l("Facilitator"), "analyst": _l("Analyst")}
    return [SelectChoice(role, labels[role]) for role in ROLES]


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    password = PasswordField(_l("Password (at least 12 characters)"),
                             validators=[DataRequired(), Length(min=12, max=256)],
                             render_kw={"autocomplete": "new-password"})
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices(), validators=[DataRequired()])


class EditUserForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices(), validators=[DataRequired()])
    active = BooleanField(_l("Account active"))
    password = PasswordField(_l("New password (leave empty to keep)"),
                             validators=[Optional(), Length(min=12, max=256)],
                             render_kw={"autocomplete": "new-password"})
