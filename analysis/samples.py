"""A realistic sample consultation, its programme report and feedback sheets (issue 7 "Done means").

Used by ``bench/render_samples.py`` (which renders them to PNG to be looked at) and by the
tests that check their structure. The answers are synthetic
(:func:`analysis.synthetic.synthetic_from_codebook` on the bundled instrument, 2,000 children,
8 sites, bands A/B/C); the programme records are made up but typical.

Examples
--------
>>> s = sample_consultation(n=300)
>>> sorted(s.long["band"].cat.categories)
['A', 'B', 'C']
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .descriptives import frequencies
from .disclosure import DisclosurePolicy, ReleasedTable, disclose
from .feedback import FeedbackSheet, feedback_sheet, findings_from
from .frames import ItemMeta, split_band_variants
from .report import ProgrammeReport, ReportInputs, build_report

__all__ = ["SampleConsultation", "sample_consultation", "sample_feedback", "sample_report"]


@dataclass
class SampleConsultation:
    long: pd.DataFrame
    codebook: dict[str, ItemMeta]
    policy: DisclosurePolicy
    language: str = "en"


def sample_consultation(n: int = 2000, seed: int = 7, language: str = "en") -> SampleConsultation:
    """2,000 synthetic children answering the bundled instrument at 8 sites, bands A-C.

    About 4 % skip each question, 3 % say "I'd rather not say" (8 % on sensitive questions)
    and 2 % "I don't know"; 2 % describe their gender another way and 2 % would rather not
    say, so some band-by-gender cells are small and must be suppressed.
    """
    from instruments.bundled import load_bundled

    from .frames import codebook_from_instrument
    from .synthetic import synthetic_from_codebook

    cb = {
        k: m
        for k, m in codebook_from_instrument(load_bundled(), language=language).items()
        if m.type != "text" and m.domain != "DM"
    }
    # The bundled instrument has no ranking question; a typical one is added for the sample.
    cb["RK1"] = ItemMeta(
        "RK1",
        "rank",
        ("helpline", "chat", "teacher", "app"),
        labels={
            "helpline": "A phone helpline",
            "chat": "An online chat",
            "teacher": "A teacher",
            "app": "A button in an app",
        },
        label="Put these ways to ask for help in order (1 = the best)",
        domain="CH",
    )
    long = synthetic_from_codebook(cb, n_respondents=n, n_sites=8, seed=seed)
    # Fewer children describe their gender another way (about 0.8 %): per band that is a
    # handful, which the band-by-gender table must hide.
    another = long["gender"].eq("another") & (long["response_id"] % 5 >= 2)
    swap = np.where(long["response_id"] % 2 == 0, "girl", "boy")
    long["gender"] = long["gender"].astype(object).where(~another, swap).astype(long["gender"].dtype)
    return SampleConsultation(long, cb, DisclosurePolicy())  # the default rules (analysis.release_rules)


def sample_inputs(title: str = "How children want to ask for help (sample)") -> ReportInputs:
    """Programme records as a programme team would enter them (made up)."""
    return ReportInputs(
        title=title,
        consultation="sample",
        funnel={
            "invited": 2650,
            "parent opt-outs": 61,
            "declined assent": 118,
            "assented": 2352,
            "started": 2290,
            "completed": 2000,
            "stopped early": 290,
            "quick exits": 7,
            "withdrew after submitting": 4,
        },
        lundy_checklist={
            "Space: were children invited in a safe, inclusive way?": (
                "yes - sessions in school halls and a community centre; adapted cards for band A"
            ),
            "Voice: could children express their views freely?": (
                "yes - 'rather not say' on every question; a facilitator read aloud on request"
            ),
            "Audience: were the views passed to people who can act?": (
                "partly - district education office briefed; ministry meeting pending"
            ),
            "Influence: were the views taken seriously and acted on?": "partly - see the influence log",
        },
        gc12={
            "Transparent and informative": ("yes", "information sheet in 3 languages"),
            "Voluntary": ("yes", "assent recorded; 118 said no"),
            "Respectful": ("yes", "teachers left the room"),
            "Relevant": ("partly", "questions chosen with a children's advisory group"),
            "Child-friendly": ("yes", "pictograms and a face scale for band A"),
            "Inclusive": ("partly", "sign-language sessions at 2 of 8 sites"),
            "Supported by training": ("yes", "facilitators trained for 2 days"),
            "Safe and sensitive to risk": ("yes", "safeguarding lead on call"),
            "Accountable": ("partly", "feedback sheets planned for June"),
        },
        influence_log=[
            {
                "recommendation": "A free chat line in the evenings",
                "decision": "accepted",
                "reason": "budget found for a pilot",
                "date": "2026-05-12",
                "owner": "Helpline",
            },
            {
                "recommendation": "Worry boxes in every school",
                "decision": "partly",
                "reason": "18 of 40 schools this year",
                "date": "2026-05-20",
                "owner": "District office",
            },
            {
                "recommendation": "No police at school talks",
                "decision": "not accepted",
                "reason": "required by the current programme; will be reviewed in 2027",
                "date": "2026-05-20",
                "owner": "Ministry",
            },
        ],
        feedback={"closed_on": "2026-04-30", "feedback_on": "2026-06-10", "formats": "feedback sheets, class visits"},
        safeguarding={"talk-to-someone signals": 23, "distress path": 6, "flagged free text": 4, "referrals": 2},
    )


def sample_report(sample: SampleConsultation | None = None, charts_on: bool = True) -> ProgrammeReport:
    """The programme report of the sample consultation."""
    s = sample or sample_consultation()
    return build_report(s.long, sample_inputs(), codebook=s.codebook, policy=s.policy, charts_on=charts_on)


#: Child-facing wording per language: findings templates, the changes, the help lines.
_TEXT: dict[str, dict] = {
    "en": {
        "findings": [
            ("AW1", "{share} of you had heard of a free phone or chat line."),
            ("CH3", '{share} of you said "{answer}" about asking for help without giving your name.'),
            ("TR3", "{share} of you have an adult you trust."),
        ],
        "too_small": "Some groups were too small to count. We left them out to keep you private.",
        "will_change": ["A free chat line will be open in the evenings.", "18 schools will get a worry box this year."],
        "cant_change": [
            ("Worry boxes in every school.", "There is not enough money yet. We will ask again next year.")
        ],
        "next": "We will come back to your school in June to tell you more.",
        "help": [("Child helpline (free, day and night)", "116"), ("Talk to a teacher you trust", "at school")],
    },
    "sw": {
        "findings": [
            ("AW1", "{share} mmesikia kuhusu simu au gumzo la msaada la bure."),
            ("CH3", '{share} mlisema "{answer}" kuhusu kuomba msaada bila kutaja jina.'),
            ("TR3", "{share} mna mtu mzima mnayemwamini."),
        ],
        "too_small": "Baadhi ya vikundi vilikuwa vidogo sana kuhesabu. Tuliviacha ili kulinda faragha yenu.",
        "will_change": [
            "Gumzo la msaada la bure litakuwa wazi jioni.",
            "Shule 18 zitapata sanduku la wasiwasi mwaka huu.",
        ],
        "cant_change": [
            ("Sanduku la wasiwasi katika kila shule.", "Hakuna pesa za kutosha bado. Tutaomba tena mwaka ujao.")
        ],
        "next": "Tutarudi shuleni kwenu mwezi Juni kuwaambia zaidi.",
        "help": [
            ("Simu ya msaada kwa watoto (bure, mchana na usiku)", "116"),
            ("Ongea na mwalimu unayemwamini", "shuleni"),
        ],
    },
    "ar": {
        "findings": [
            ("AW1", "{share} منكم سمعوا عن خط هاتف أو دردشة مجانية للمساعدة."),
            ("CH3", '{share} منكم قالوا "{answer}" عن طلب المساعدة دون ذكر الاسم.'),
            ("TR3", "{share} منكم لديهم شخص بالغ يثقون به."),
        ],
        "too_small": "بعض المجموعات كانت صغيرة جدًا لعدّها. تركناها جانبًا لحماية خصوصيتكم.",
        "will_change": ["سيُفتح خط دردشة مجاني للمساعدة في المساء.", "ستحصل 18 مدرسة على صندوق للمخاوف هذا العام."],
        "cant_change": [("صندوق للمخاوف في كل مدرسة.", "لا يوجد مال كافٍ بعد. سنطلب ذلك مرة أخرى العام القادم.")],
        "next": "سنعود إلى مدرستكم في يونيو لنخبركم بالمزيد.",
        "help": [("خط مساعدة الأطفال (مجاني، ليلًا ونهارًا)", "116"), ("تحدّث مع معلّم تثق به", "في المدرسة")],
    },
}


def _band_table(sample: SampleConsultation, band: str, items: list[str]) -> tuple[ReleasedTable, dict]:
    long, cb = split_band_variants(sample.long, sample.codebook)
    sub = long[long["band"] == band]
    names = [v for i in items for v in cb if v == i or v.startswith(f"{i}[")]
    names = [v for v in names if not cb[v].bands or band in cb[v].bands]
    freq = frequencies(sub, items=names, codebook=cb)
    rel = disclose(freq, sample.policy, codebook={i: cb[i] for i in names}, title=f"Band {band}: feedback findings")
    return rel, cb


def sample_feedback(sample: SampleConsultation, band: str, language: str = "en") -> FeedbackSheet:
    """The feedback sheet for one band, from released band tables only (no hidden number used)."""
    from instruments.bundled import load_bundled

    from .frames import codebook_from_instrument

    text = _TEXT[language]
    rel, cb = _band_table(sample, band, [i for i, _ in text["findings"]])
    # Answer labels in the sheet's language (the codes are the same in every language).
    own = codebook_from_instrument(load_bundled(), language=language)
    told: list[str] = []
    for item, template in text["findings"]:
        variants = [
            v for v in cb if (v == item or v.startswith(f"{item}[")) and (v in set(rel.data["item"].astype(str)))
        ]
        for v in variants:
            labels = {**dict(cb[v].labels), **dict(own[item].labels)} if item in own else cb[v].labels
            told += findings_from(rel, v, template, {v: replace(cb[v], labels=labels)}, language=language)
    hidden = bool(rel.n_primary or rel.n_secondary)
    if hidden:
        told.append(text["too_small"])
    return feedback_sheet(
        band=band,
        language=language,
        told_us=told,
        will_change=text["will_change"],
        cant_change=text["cant_change"],
        next_update=text["next"],
        helplines=text["help"],
    )
