"""Static staff forms.  (Children's survey pages are built at run time elsewhere.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey.config import ROLES


class ShortTextField(StringField):
    """A text box for something short (a code, a seat label): a value longer than ``max_length``
    is refused with a short message and never shown back, so a megabyte typed into it does not
    come back as a megabyte page."""

    def __init__(self, label=None, validators=(), *, max_length: int, **kwargs) -> None:
        self.max_length = max_length
        too_long = Length(max=max_length, message=_l("That is too long. Check what you typed and try again."))
        super().__init__(label, [*validators, too_long], **kwargs)

    def _value(self) -> str:
        value = super()._value()
        return "" if len(value) > self.max_length else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=80)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )


class CodeForm(FlaskForm):
    code = ShortTextField(
        _l("Your code"),
        validators=[DataRequired()],
        max_length=64,
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "inputmode": "text",
            "dir": "ltr",
        },
    )
    seat = ShortTextField(
        _l("Your seat or table number, if the adult asks for it (never your name)"),
        validators=[Optional()],
        max_length=20,
        render_kw={"autocomplete": "off"},
    )

    def validate_seat(self, field) -> None:  # WTForms inline validator
        from consent.storage_policy import normalize_station_label

        if field.data and field.data.strip():
            try:
                field.data = normalize_station_label(field.data)
            except ValueError as error:
                raise ValidationError(
                    _l("Use the number on your seat or table, like T3 or Seat 4, never a name.")
                ) from error


class CodeCardsForm(FlaskForm):
    count = IntegerField(_l("How many cards?"), default=30, validators=[DataRequired(), NumberRange(1, 500)])


class ConsultationForm(FlaskForm):
    """A new consultation: what children are told, where, and under which rules (P-01)."""

    title = StringField(_l("Title (for staff)"), validators=[DataRequired(), Length(max=200)])
    instrument = SelectField(_l("Questionnaire"), validators=[DataRequired()], validate_choice=False)
    languages = MultiCheckboxField(
        _l("Languages offered to children"), validators=[DataRequired()], validate_choice=False
    )
    age_bands = MultiCheckboxField(
        _l("Age groups"),
        validators=[DataRequired()],
        choices=[
            SelectChoice("A", _l("8 to 10")),
            SelectChoice("B", _l("11 to 13")),
            SelectChoice("C", _l("14 to 17")),
        ],
    )
    country_profile = SelectField(
        _l("Country profile (consent rules and helplines)"), validators=[DataRequired()], validate_choice=False
    )
    consent_mode = SelectField(
        _l("Guardian permission"),
        choices=[
            SelectChoice("", _l("As the country profile says")),
            SelectChoice("active_opt_in", _l("Guardians say yes first (opt-in)")),
            SelectChoice("passive_opt_out", _l("Guardians may say no (opt-out; needs ethics approval)")),
        ],
        validate_choice=True,
    )
    ethics_reference = StringField(_l("Ethics approval reference"), validators=[Optional(), Length(max=200)])
    setting = SelectField(
        _l("Setting"),
        choices=[
            SelectChoice("school", _l("School")),
            SelectChoice("community", _l("Community group")),
            SelectChoice("online", _l("Online")),
        ],
    )
    site_code = StringField(_l("Site code (not a school name)"), validators=[Optional(), Length(max=60)])
    facilitated = BooleanField(_l("An adult runs the session in the room"), default=True)
    shared_device = BooleanField(_l("Children share devices"))
    organisation = StringField(_l("Who is asking (your organisation)"), validators=[DataRequired(), Length(max=200)])
    contact = StringField(_l("How children can ask questions later"), validators=[DataRequired(), Length(max=200)])
    independent_contact = StringField(
        _l("Someone outside the team to contact with a concern"), validators=[DataRequired(), Length(max=200)]
    )
    purpose = TextAreaField(_l("Why you are asking"), validators=[DataRequired(), Length(max=2000)])
    audience = TextAreaField(
        _l("Who will hear the results (decision-makers)"), validators=[DataRequired(), Length(max=2000)]
    )
    influence_scope = TextAreaField(
        _l("What the answers can change, and what they cannot"), validators=[DataRequired(), Length(max=2000)]
    )
    session_pin = PasswordField(
        _l("Session PIN (4 to 8 digits, asked when a session starts)"),
        validators=[Optional(), Length(min=4, max=8)],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password"},
    )
    screening_deny_list = TextAreaField(
        _l("Names to remove from open answers (teachers, local places): one a line, or separated by commas"),
        validators=[Optional(), Length(max=4000)],
    )
    # The team (choices set by the view from the accounts that may hold each role).
    facilitators = MultiCheckboxField(
        _l("Other facilitators (they run sessions with children)"), validate_choice=True, choices=[]
    )
    analysts = MultiCheckboxField(_l("Analysts (they see the results)"), validate_choice=True, choices=[])
    safeguarding_lead = SelectField(
        _l("Safeguarding lead (reviews concerns children raise)"), validate_choice=True, choices=[], default=""
    )
    feedback_due = DateField(_l("When children will hear back"), validators=[DataRequired()])
    analysis_cutoff = DateField(_l("Last day a child can withdraw their answers"), validators=[DataRequired()])
    retention_until = DateField(_l("Delete all answers after"), validators=[DataRequired()])

    #: Set by the settings page when the consultation already has a PIN (blank keeps it).
    has_pin = False

    def validate_session_pin(self, field) -> None:
        if self.facilitated.data and not field.data and not self.has_pin:
            raise ValidationError(_l("A facilitated consultation needs a session PIN."))
        if field.data and not field.data.isdigit():
            raise ValidationError(_l("A session PIN is 4 to 8 digits."))

    def validate_analysis_cutoff(self, field) -> None:
        if self.feedback_due.data and field.data and field.data > self.feedback_due.data:
            raise ValidationError(_l("The withdrawal cut-off must come before children hear back."))

    def validate_retention_until(self, field) -> None:
        if self.analysis_cutoff.data and field.data and field.data < self.analysis_cutoff.data:
            raise ValidationError(_l("Answers cannot be deleted before the withdrawal cut-off."))


class TeamMemberForm(FlaskForm):
    """Add someone to a consultation's team (choices set by the view)."""

    user = SelectField(_l("Person"), validators=[DataRequired()], validate_choice=True, choices=[])
    role = SelectField(
        _l("Role on this consultation"),
        validators=[DataRequired()],
        choices=[
            SelectChoice("analyst", _l("Analyst: sees the results")),
            SelectChoice("facilitator", _l("Facilitator: runs sessions with children")),
            SelectChoice("safeguarding", _l("Safeguarding lead: reviews concerns children raise")),
            SelectChoice("owner", _l("Owner: changes the team")),
        ],
    )


class SessionStartForm(FlaskForm):
    pin = PasswordField(
        _l("Session PIN"),
        validators=[DataRequired(), Length(max=8)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    checklist = MultiCheckboxField(
        _l("Safe-space checklist"),
        validate_choice=False,
        choices=[
            SelectChoice("screens_private", _l("Children cannot see each other's screens")),
            SelectChoice("alternative_activity", _l("Another activity is ready for children who say no")),
            SelectChoice("help_cards", _l("Help cards with the helpline are ready to hand out")),
            SelectChoice("referral_contact", _l("I can reach the safeguarding lead during the session")),
        ],
    )
    trained_on = DateField(_l("Date of my safeguarding training"), validators=[Optional()])


class SessionCloseForm(FlaskForm):
    number_present = IntegerField(_l("How many children were present"), validators=[Optional(), NumberRange(0, 1000)])
    incident = BooleanField(_l("A child disclosed harm or was at risk, and was referred"))
    referral_category = SelectField(
        _l("Referred to"),
        validate_choice=True,
        choices=[
            SelectChoice("", _l("(no referral)")),
            SelectChoice("safeguarding_lead", _l("The safeguarding lead")),
            SelectChoice("helpline", _l("A helpline")),
            SelectChoice("health", _l("Health services")),
            SelectChoice("police", _l("The police")),
            SelectChoice("other", _l("Another service")),
        ],
    )


class InstrumentUploadForm(FlaskForm):
    file = FileField(
        _l("Questionnaire file (XLSForm .xlsx, .xls, .csv, .md, or Sauti .yaml)"),
        validators=[
            FileRequired(),
            FileAllowed(
                ["xlsx", "xlsm", "xls", "csv", "md", "yaml", "yml"], _l("Choose an XLSForm or a Sauti YAML file.")
            ),
            FileSize(max_size=10 * 1024 * 1024, message=_l("The file is larger than 10 MB.")),
        ],
    )


class CardActionForm(FlaskForm):
    card = IntegerField(_l("Card number"), validators=[DataRequired(), NumberRange(1, 100000)])


class WithdrawForm(FlaskForm):
    code = ShortTextField(
        _l("The code on the part you tore off"),
        validators=[DataRequired()],
        max_length=64,
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "dir": "ltr"},
    )


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
            SelectChoice("rns", _l("I'd rather not say"))
        ]
        form.bands = bands
        form.limits = limits
        return form

    def validate_age(self, field) -> None:  # WTForms inline validator
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l('Please choose your age, or "I\'d rather not say".'))

    def band_for_answer(self) -> str:
        if self.age.data == "rns":
            # Without an age, the youngest band: it sees the fewest sensitive questions.
            return min(self.bands, key=lambda b: self.limits[b][0])
        age = int(self.age.data)
        return next(b for b in self.bands if self.limits[b][0] <= age <= self.limits[b][1])


def _role_choices() -> list[SelectChoice]:
    labels = {"admin": _l("Administrator"), "facilitator": _l("Facilitator"), "analyst": _l("Analyst")}
    return [SelectChoice(role, labels[role]) for role in ROLES]


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    password = PasswordField(
        _l("Password (at least 12 characters)"),
        validators=[DataRequired(), Length(min=12, max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices(), validators=[DataRequired()])


class EditUserForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices(), validators=[DataRequired()])
    active = BooleanField(_l("Account active"))
    password = PasswordField(
        _l("New password (leave empty to keep)"),
        validators=[Optional(), Length(min=12, max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class ApiTokenForm(FlaskForm):
    """A new personal access token for the API (survey/services/api_tokens.py)."""

    name = StringField(
        _l("Name (what will use it, e.g. “Power BI dashboard”)"), validators=[DataRequired(), Length(max=80)]
    )
    scopes = MultiCheckboxField(_l("What the token may read"), validators=[DataRequired()], choices=[])
    days = SelectField(
        _l("Lasts for"),
        coerce=int,
        default=90,
        choices=[
            SelectChoice(7, _l("7 days")),
            SelectChoice(30, _l("30 days")),
            SelectChoice(90, _l("90 days")),
            SelectChoice(365, _l("1 year")),
        ],
    )


class BundleUploadForm(FlaskForm):
    """A field laptop's bundle brought on a USB stick (issue 22: `sauti sync export`)."""

    file = FileField(
        _l("Bundle file from a field laptop (.sauti)"),
        validators=[
            FileRequired(),
            FileSize(
                max_size=15 * 1024 * 1024,
                message=_l("The file is larger than 15 MB: import it with `sauti sync import` on the server."),
            ),
        ],
    )
