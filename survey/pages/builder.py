"""Build a WTForms class for one page of an instrument.

Pure with respect to the application: it takes the instrument's page, the child's language and
band, and returns a fresh ``FlaskForm`` subclass (never a shared class that is mutated).  A
registry maps each item type to a function that makes its fields; ``stored_value_for`` turns a
submitted form back into the values stored for each item.

Every answerable item gets "I'd rather not say" (stored as ``_rns``) and, where the instrument
allows it, "I don't know" (``_dk``), kept apart from the scale.  Nothing is required.  A reserved
answer stands alone: a submission that pairs it with another choice (or with a written answer) is
refused with a message and the page comes back with what the child gave, rather than one of the
two being kept silently.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from babel.support import NullTranslations
from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from instruments.model import DONT_KNOW, RATHER_NOT_SAY, Choice, Instrument, Item, ItemType, matrix_key
from instruments.references import show_answers
from instruments.runtime import visible_choices
from survey.child_cache import wtforms_translations
from survey.forms import MultiCheckboxField

TEXT_MAX_LENGTH = 500
RNS_LABEL = _l("I'd rather not say")
DK_LABEL = _l("I don't know")


class PageForm(FlaskForm):
    """Base of every page form: the page token makes a repeated POST harmless."""

    class Meta:
        # The survey view checks the CSRF token itself, so an expired token re-shows the page
        # with the child's answers instead of an error page.
        csrf = False

        #: The page's language code, when the view gives it (``meta={"locale_code": ...}``): it
        #: has it already, and asking Flask-Babel again reads its context through two proxies.
        locale_code: str | None = None

        def get_translations(self, form: FlaskForm) -> NullTranslations:  # WTForms' signature
            return wtforms_translations(self.locale_code or str(get_locale()))


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """How an item appears on the page: its fields, and what the template needs to show it."""

    item: Item
    kind: str  # the template macro that draws it
    label: str
    hint: str
    notice: str
    fields: tuple[str, ...]
    rns_field: str | None
    rows: tuple[tuple[str, str], ...] = ()
    faces: bool = False


@dataclasses.dataclass(frozen=True)
class PageContext:
    instrument: Instrument
    lang: str
    band: str
    answers: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def default_language(self) -> str:
        return self.instrument.settings.default_language

    def choices(self, item: Item) -> list[SelectChoice]:
        # visible_choices applies the band's list and the item's choice_filter.
        return [
            SelectChoice(choice.name, self.label(choice))
            for choice in visible_choices(self.instrument, item, self.band, self.answers)
        ]

    def label(self, choice: Choice) -> str | Markup:
        """The choice's words, with its pictogram (and the pictogram's alt text) when it has one."""
        text = choice.label_for(self.lang, self.default_language)
        image = choice.media.image.get_for(self.lang, (self.default_language, *sorted(choice.media.image)))
        if not image:
            return text
        alt = choice.alt.get_for(self.lang, (self.default_language,)) or ""
        source = url_for("participate.media", filename=image)
        return Markup(
            '<img class="pictogram" src="{}" alt="{}" width="48" height="48"> <span class="choice-text">{}</span>'
        ).format(source, alt, text)


def field_name(item: Item, row: str | None = None) -> str:
    return "q_" + (matrix_key(item.name, row) if row else item.name)


def _reserved(item: Item) -> list[SelectChoice]:
    extra = [SelectChoice(DONT_KNOW, DK_LABEL)] if item.allow_dont_know else []
    return [*extra, SelectChoice(RATHER_NOT_SAY, RNS_LABEL)]


def _alone_message(reserved: str) -> str:
    label = RNS_LABEL if reserved == RATHER_NOT_SAY else DK_LABEL
    return _l(
        "\u201c%(answer)s\u201d can't go with other answers. Please choose it on its own, or untick it.", answer=label
    )


def _reserved_alone(_form: Any, field: Field) -> None:
    """A reserved answer ("I'd rather not say", "I don't know") stands alone (D-03)."""
    chosen = [v for v in field.data or [] if v not in (None, "")]
    reserved = [v for v in (RATHER_NOT_SAY, DONT_KNOW) if v in chosen]
    if reserved and len(chosen) > 1:
        raise ValidationError(_alone_message(reserved[0]))


def _rather_not_say_alone(*names: str) -> Callable[[Any, Field], None]:
    """A ticked "I'd rather not say" next to an answer written or chosen in ``names`` is refused."""

    def check(form: Any, field: Field) -> None:
        if field.data and any((form[name].data or "").strip() for name in names):
            raise ValidationError(_alone_message(RATHER_NOT_SAY))

    return check


def _choice_in(valid: set[str]) -> Callable[[Any, Field], None]:
    def check(_form: Any, field: Field) -> None:
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(v not in valid for v in values if v not in (None, "")):
            raise ValidationError(_l("Please choose one of the answers shown."))

    return check


def _is_dropdown(item: Item) -> bool:
    """XLSForm's ``minimal`` appearance: the choices in a drop-down list."""
    return item.type is ItemType.SELECT_ONE and "minimal" in (item.appearance or "").split()


def _dropdown(item: Item, ctx: PageContext) -> dict[str, Field]:
    # "I'd rather not say" stays a box of its own beside the list, as for text answers.
    choices = ctx.choices(item) + [c for c in _reserved(item) if c.value == DONT_KNOW]
    return {
        field_name(item): SelectField(
            choices=[SelectChoice("", _l("(choose)")), *choices],
            validators=[Optional(), _choice_in({c.value for c in choices})],
            validate_choice=False,
        ),
        "rns_" + item.name: BooleanField(RNS_LABEL),
    }


def _select_one(item: Item, ctx: PageContext) -> dict[str, Field]:
    if _is_dropdown(item):
        return _dropdown(item, ctx)
    choices = ctx.choices(item) + _reserved(item)
    return {field_name(item): RadioField(choices=choices, validators=[Optional()], validate_choice=False)}


def _select_multiple(item: Item, ctx: PageContext) -> dict[str, Field]:
    choices = ctx.choices(item) + _reserved(item)
    validators: list[Any] = [Optional(), _choice_in({c.value for c in choices}), _reserved_alone]
    if item.max_choices:
        limit = item.max_choices

        def at_most(_form: Any, field: Field) -> None:
            chosen = [v for v in field.data or [] if v not in (RATHER_NOT_SAY, DONT_KNOW)]
            if len(chosen) > limit:
                raise ValidationError(_l("Please choose up to %(n)s answers.", n=limit))

        validators.append(at_most)
    return {field_name(item): MultiCheckboxField(choices=choices, validators=validators, validate_choice=False)}


def _rank(item: Item, ctx: PageContext) -> dict[str, Field]:
    choices = ctx.choices(item)
    blank = [SelectChoice("", _l("(choose)"))]
    fields: dict[str, Field] = {}
    for position in range(1, len(choices) + 1):
        fields[f"{field_name(item)}__{position}"] = SelectField(
            choices=blank + choices,
            validators=[Optional(), _choice_in({c.value for c in choices})],
            validate_choice=False,
        )
    fields["rns_" + item.name] = BooleanField(RNS_LABEL, validators=[_rather_not_say_alone(*fields)])
    return fields


#: Control characters no keyboard types (tab and line breaks stay): taken out of what a child
#: writes, as a pasted NUL reached the database and PostgreSQL refused it with a 500.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _without_control_characters(value: Any) -> Any:
    return _CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def _text(item: Item, ctx: PageContext) -> dict[str, Field]:
    return {
        field_name(item): TextAreaField(
            validators=[Optional(), Length(max=TEXT_MAX_LENGTH)],
            filters=[_without_control_characters],
            render_kw={"maxlength": TEXT_MAX_LENGTH, "rows": 4},
        ),
        "rns_" + item.name: BooleanField(RNS_LABEL, validators=[_rather_not_say_alone(field_name(item))]),
    }


def _number(decimal: bool) -> Callable[[Item, PageContext], dict[str, Field]]:
    def make(item: Item, ctx: PageContext) -> dict[str, Field]:
        def is_number(_form: Any, field: Field) -> None:
            text = (field.data or "").strip().replace(",", ".")
            if not text:
                return
            try:
                float(text) if decimal else int(text)
            except ValueError as error:
                message = _l("Please write a number.") if decimal else _l("Please write a whole number.")
                raise ValidationError(message) from error

        return {
            field_name(item): StringField(
                validators=[Optional(), Length(max=30), is_number],
                filters=[_without_control_characters],
                render_kw={"inputmode": "decimal" if decimal else "numeric"},
            ),
            "rns_" + item.name: BooleanField(RNS_LABEL, validators=[_rather_not_say_alone(field_name(item))]),
        }

    return make


def _range(item: Item, ctx: PageContext) -> dict[str, Field]:
    start = float(item.parameters.get("start", 0))
    end = float(item.parameters.get("end", 10))
    step = float(item.parameters.get("step", 1)) or 1
    values = []
    value = start
    while value <= end + 1e-9 and len(values) < 101:
        values.append(f"{value:g}")
        value += step
    choices = [SelectChoice(v, v) for v in values] + _reserved(item)
    return {field_name(item): RadioField(choices=choices, validators=[Optional()], validate_choice=False)}


def _matrix(item: Item, ctx: PageContext) -> dict[str, Field]:
    scale = ctx.choices(item) + _reserved(item)
    return {
        field_name(item, row.name): RadioField(choices=scale, validators=[Optional()], validate_choice=False)
        for row in ctx.instrument.rows_for(item)
    }


FIELD_BUILDERS: Mapping[ItemType, Callable[[Item, PageContext], dict[str, Field]]] = {
    ItemType.SELECT_ONE: _select_one,
    ItemType.LIKERT: _select_one,
    ItemType.SELECT_MULTIPLE: _select_multiple,
    ItemType.RANK: _rank,
    ItemType.TEXT: _text,
    ItemType.INTEGER: _number(decimal=False),
    ItemType.DECIMAL: _number(decimal=True),
    ItemType.RANGE: _range,
    ItemType.MATRIX: _matrix,
}

KIND_OF = {
    ItemType.SELECT_ONE: "radio",
    ItemType.LIKERT: "scale",
    ItemType.RANGE: "radio",
    ItemType.SELECT_MULTIPLE: "checkboxes",
    ItemType.RANK: "rank",
    ItemType.TEXT: "text",
    ItemType.INTEGER: "number",
    ItemType.DECIMAL: "number",
    ItemType.MATRIX: "matrix",
    ItemType.NOTE: "note",
}


def build_page_form(
    items: tuple[Item, ...], instrument: Instrument, lang: str, band: str, answers: Mapping[str, Any] | None = None
) -> tuple[type[PageForm], tuple[FieldSpec, ...]]:
    """A new form class for ``items`` and how to draw each item.

    Examples
    --------
    >>> from instruments.model import Choice, Instrument, Item, Language, Page, Section, Text
    >>> q = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    >>> inst = Instrument(id="d", version="1", languages=(Language("en", "English"),),
    ...     sections=(Section("s", (Page("p", (q,)),)),),
    ...     choice_lists={"yn": (Choice("yes", Text(en="Yes")), Choice("no", Text(en="No")))})
    >>> form_class, specs = build_page_form((q,), inst, "en", "B")
    >>> specs[0].kind, specs[0].fields
    ('radio', ('q_q1',))
    """
    ctx = PageContext(instrument, lang, band, answers or {})
    attributes: dict[str, Field] = {}
    specs = []
    for item in items:
        if item.type is ItemType.CALCULATE:
            continue
        made = FIELD_BUILDERS.get(item.type, lambda _i, _c: {})(item, ctx)
        attributes.update(made)
        rows = (
            tuple((row.name, row.label_for(lang, ctx.default_language)) for row in instrument.rows_for(item))
            if item.type is ItemType.MATRIX
            else ()
        )
        specs.append(
            FieldSpec(
                item=item,
                kind="dropdown" if _is_dropdown(item) else KIND_OF.get(item.type, "note"),
                # ${name} in the words shows the child's earlier answer (as XLSForm does)
                label=show_answers(
                    item.label_for(lang, band, ctx.default_language), instrument, ctx.answers, lang, band
                ),
                hint=show_answers(item.hint_for(lang, band, ctx.default_language), instrument, ctx.answers, lang, band),
                notice=item.notice_for(lang, ctx.default_language),
                fields=tuple(name for name in made if not name.startswith("rns_")),
                rns_field=("rns_" + item.name) if "rns_" + item.name in made else None,
                rows=rows,
                faces=item.type is ItemType.LIKERT and band == instrument.settings.band_codes[0],
            )
        )
    return type("Page", (PageForm,), attributes), tuple(specs)


#: The hidden field by which a page's form says which questions it showed.
SHOWN_FIELD = "on_page"


def was_sent(spec: FieldSpec, formdata: Any) -> bool:
    """Whether a posted page carries this question: it said it showed it, or any of its fields came.

    A browser always sends a text box and cannot untick a radio button; only boxes to tick go
    missing when a child unticks them all, and the page's ``on_page`` field says they were there.
    A send with none of a question's fields and no word of it (a replayed or hand-made request, a
    page drawn before ``on_page`` existed) did not answer it, and the saved answer stays.  (A
    second tab drawn before the answer was saved sends ``on_page`` and clears it: the later send
    wins, as anywhere else.)
    """
    if spec.item.name in formdata.getlist(SHOWN_FIELD):
        return True
    return any(name in formdata for name in (*spec.fields, spec.rns_field) if name)


def stored_value_for(spec: FieldSpec, form: FlaskForm) -> str | None:
    """What to store for one item from a validated form; None when the child skipped it."""
    item = spec.item
    rns = bool(spec.rns_field and form[spec.rns_field].data)
    if item.type is ItemType.MATRIX:
        rows = {row: form[field_name(item, row)].data for row, _label in spec.rows}
        rows = {row: value for row, value in rows.items() if value}
        return json.dumps(rows, sort_keys=True) if rows else None
    if item.type is ItemType.RANK:
        if rns:
            return RATHER_NOT_SAY
        order: list[str] = []
        for name in spec.fields:
            value = form[name].data
            if value and value not in order:
                order.append(value)
        return json.dumps(order) if order else None
    if item.type is ItemType.SELECT_MULTIPLE:
        chosen = list(form[spec.fields[0]].data or [])
        for reserved in (RATHER_NOT_SAY, DONT_KNOW):
            if reserved in chosen:
                return reserved  # a reserved answer stands alone
        return json.dumps(chosen) if chosen else None
    if rns:
        return RATHER_NOT_SAY
    value = form[spec.fields[0]].data if spec.fields else None
    if isinstance(value, str):
        value = value.strip()
        if item.type is ItemType.DECIMAL:
            value = value.replace(",", ".")
    return value or None


def form_data_for(spec: FieldSpec, stored: str | None) -> dict[str, Any]:
    """The form data that shows a stored answer again (back button, resume, language switch)."""
    if stored is None:
        return {}
    item = spec.item
    if item.type is ItemType.MATRIX:
        return {field_name(item, row): value for row, value in json.loads(stored).items()}
    if stored == RATHER_NOT_SAY and spec.rns_field:
        return {spec.rns_field: True}
    if item.type is ItemType.RANK:
        return dict(zip(spec.fields, json.loads(stored), strict=False))
    if item.type is ItemType.SELECT_MULTIPLE:
        return {spec.fields[0]: [stored] if stored in (RATHER_NOT_SAY, DONT_KNOW) else json.loads(stored)}
    return {spec.fields[0]: stored}
