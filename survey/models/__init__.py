"""Database models (SQLAlchemy 2 typed).  No commits here and no request access.

What is deliberately absent: no column anywhere holds a child's name, date of birth, contact
details, IP address, user agent or exact timestamp (BRIEF non-negotiable 2).  Children appear
only as a :class:`Participant`: a random id, the hash of their card's code, a state and an age
band.  ``tests/survey/test_schema_privacy.py`` checks the schema for such columns.

The tables are in three parts: :mod:`~survey.models.core` (accounts, consultations, children,
answers, safeguarding, audit), :mod:`~survey.models.records` (what staff record) and
:mod:`~survey.models.field` (field laptops).  Import them from here.
"""

from survey.extensions import Model
from survey.models.attachments import InstrumentAttachment
from survey.models.core import (
    CLONED_FIELDS,
    Answer,
    AssentEvent,
    AuditEvent,
    ConcernFlag,
    Consultation,
    FacilitationSession,
    InstrumentVersion,
    Membership,
    PageSave,
    Participant,
    Signal,
    StaffSession,
    TextApproval,
    User,
    new_uuid,
    utcnow,
)
from survey.models.field import (
    FieldBundle,
    FieldCard,
    FieldPackage,
    SyncDevice,
    SyncedRecord,
    SyncImport,
    SyncPackage,
    SyncUpload,
)
from survey.models.records import (
    ApiToken,
    ChecklistAnswer,
    ExportApproval,
    FeedbackSheetRecord,
    InfluenceEntry,
    Release,
    ReleaseTable,
    SigninFailure,
    StoredProfile,
    TranslationStep,
    WrittenAnswerRead,
)

__all__ = [
    "CLONED_FIELDS",
    "Model",
    "Answer",
    "ApiToken",
    "AssentEvent",
    "AuditEvent",
    "InstrumentAttachment",
    "ChecklistAnswer",
    "ConcernFlag",
    "Consultation",
    "ExportApproval",
    "FacilitationSession",
    "FeedbackSheetRecord",
    "FieldBundle",
    "FieldCard",
    "FieldPackage",
    "InfluenceEntry",
    "InstrumentVersion",
    "Membership",
    "PageSave",
    "Participant",
    "Release",
    "ReleaseTable",
    "Signal",
    "SigninFailure",
    "StaffSession",
    "StoredProfile",
    "SyncDevice",
    "SyncImport",
    "SyncPackage",
    "SyncUpload",
    "SyncedRecord",
    "TextApproval",
    "TranslationStep",
    "User",
    "WrittenAnswerRead",
    "new_uuid",
    "utcnow",
]
