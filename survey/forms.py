"""Static staff forms.  (Children's survey pages are built at run time elsewhere.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
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
    seat = StringField(_l("Your seat or table number, if the adult asks for it (never your name)"),
                       validators=[Optional(), Length(max=20)], render_kw={"autocomplete": "off"})


class CodeCardsForm(FlaskForm):
    count = IntegerField(_l("How many cards?"), default=30, validators=[DataRequired(), NumberRange(1, 500)])


class CardActionForm(FlaskForm):
    card = IntegerField(_l("Card number"), validators=[DataRequired(), NumberRange(1, 100000)])


class WithdrawForm(FlaskForm):
    code = StringField(_l("The code on the part you tore off"), validators=[DataRequired(), Length(max=64)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class AgeForm(FlaskForm):
    """How old are you?  Only the age band is kept, never the age."""

    age = RadioField(_l("How old are you?"), validators=[DataRequired()], validate_choice=False)

    @classmethod
    def for_bands(cls, bands: list[str]) -> AgeForm:
        from flask import current_app

        limits = current_app.config["AGE_BANDS"]
        ages = sorted({a for band in bands for a in range(limits[band][0], limits[band][1] + 1)})
        form = cls()
        form.age.choices = [SelectChoice(str(a), str(a)) for a in ages] + [
            SelectChoice("rns", _l("I'd rather not say"))]
        form.bands = bands
        form.limits = limits
        return form

    def validate_age(self, field) -> None:  # noqa: ANN001 - WTForms inline validator
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("Please choose your age, or \"I'd rather not say\"."))

    def band_for_answer(self) -> str:
        if self.age.data == "rns":
            # Without an age, the youngest band: it sees the fewest sensitive questions.
            return min(self.bands, key=lambda b: self.limits[b][0])
        age = int(self.age.data)
        return next(b for b in self.bands if self.limits[b][0] <= age <= self.limits[b][1])


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
