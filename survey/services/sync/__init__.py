"""Field laptops and the central server (issue 22): provisioning, bundles, merging, receipts.

A laptop in a school runs ``sauti serve`` on SQLite with no internet; the programme's central
server runs ``sauti serve`` on PostgreSQL behind TLS.  This module owns every commit of the hand-over
on both sides; the bytes, signatures and encryption are :mod:`survey.sync.bundle` (PyNaCl).

Central server
    :func:`make_package` issues code cards for a site (their hashes under the site's key, kept
    in :class:`~survey.models.FieldCard`) and signs a field package: the consultation, the
    instrument version, the country profile, the bound consent texts and their hashes, the
    site's card hashes and the central server's public keys.  :func:`register_device` files a
    laptop's Ed25519 key for one package.  :func:`import_bundle` checks and merges a bundle
    in one transaction and answers with a signed receipt.

Laptop
    :func:`import_package` refuses a package that is changed, expired, signed by another key
    or meant for another site, then sets up the consultation here.  :func:`export_bundle` seals
    what happened (participants' states, answers, page saves, assent events, withdrawals,
    session logs, concern records, audit entries) to the central server and signs it with the
    device key.  :func:`accept_receipt` records the signed receipt; :func:`purge_confirmed`
    deletes the children's records it covers ``retention.field_copy_days`` later.

The merging rules (one place):

* every row has a global id: participants, answers, page saves and assent events carry the
  UUIDs both sides share; concern records, session logs and audit entries are filed under
  ``device:kind:local id`` (:class:`~survey.models.SyncedRecord`).  A participant's answers in a
  bundle are the whole of them, so importing the same or an overlapping bundle again changes
  nothing;
* a withdrawal made anywhere wins: a card withdrawn centrally (or by an earlier bundle) keeps
  no answers that arrive later, and a withdrawal in a bundle deletes what the central server held;
* a card is used on one device only: the first bundle that used it names its device
  (``FieldCard.laptop_id``); another device's answers for it are refused (counted), and that
  laptop learns at its next pull (:func:`device_status`);
* a bundle is refused whole, changing nothing, when it is changed, from an unknown or revoked
  device, for another consultation, or older than the newest imported from that device (the
  same bundle again is "already imported" and gets its receipt again);
* every import is in the audit log on both sides, with counts only.
"""

from __future__ import annotations

# Models callers reach through this module (survey.sync.cli, tests).
from survey.models import Consultation, SyncDevice
from survey.services.sync.bundles import Exported, export_bundle, outbox_file, unsent_concerns, waiting_bundle
from survey.services.sync.common import (
    CONSULTATION_FIELDS,
    EMPTY_STATES,
    ENDED_STATES,
    MAX_BUNDLE_BYTES,
    PACKAGE_DAYS,
    REQUEST_SKEW_S,
    SyncRefused,
    central_fingerprint,
    central_keys,
    device_key,
    field_code_keys,
    site_key,
    today,
)
from survey.services.sync.merging import (
    UPLOAD_CHUNK_MAX,
    Imported,
    UploadOffset,
    finish_upload,
    import_bundle,
    put_chunk,
    receipt_for_import,
    start_upload,
)
from survey.services.sync.provisioning import (
    MadePackage,
    accept_registration,
    device_request,
    device_status,
    devices,
    import_package,
    make_package,
    only_package,
    package_content,
    package_document,
    package_named,
    recent_imports,
    register_device,
    register_request,
    registration_request,
    revoke_device,
    signed_device_request,
    withdraw_field_card,
)
from survey.services.sync.receipts import accept_receipt, apply_status, purge_confirmed

__all__ = [
    "unsent_concerns",
    "waiting_bundle",
    "CONSULTATION_FIELDS",
    "Consultation",
    "EMPTY_STATES",
    "ENDED_STATES",
    "Exported",
    "Imported",
    "MAX_BUNDLE_BYTES",
    "MadePackage",
    "PACKAGE_DAYS",
    "REQUEST_SKEW_S",
    "SyncDevice",
    "SyncRefused",
    "UPLOAD_CHUNK_MAX",
    "UploadOffset",
    "accept_receipt",
    "accept_registration",
    "apply_status",
    "central_fingerprint",
    "central_keys",
    "device_key",
    "device_request",
    "device_status",
    "devices",
    "export_bundle",
    "field_code_keys",
    "finish_upload",
    "import_bundle",
    "import_package",
    "make_package",
    "only_package",
    "outbox_file",
    "package_content",
    "package_document",
    "package_named",
    "purge_confirmed",
    "put_chunk",
    "receipt_for_import",
    "recent_imports",
    "register_device",
    "register_request",
    "registration_request",
    "revoke_device",
    "signed_device_request",
    "site_key",
    "start_upload",
    "today",
    "withdraw_field_card",
]
