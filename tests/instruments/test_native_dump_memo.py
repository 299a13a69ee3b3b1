"""dump_native keeps the text of documents it has written: the same document is written once,
and a changed one (even a single label) is written afresh."""

from __future__ import annotations

import dataclasses

import yaml

from instruments import load_bundled
from instruments.model import Text
from instruments.native import _Dumper, dump_native, instrument_to_dict, load_native


def _fresh(instrument) -> str:
    return yaml.dump(instrument_to_dict(instrument), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def test_the_same_document_reads_back_the_same_and_a_changed_one_is_written_again() -> None:
    instrument = load_bundled()
    first = dump_native(instrument)
    assert first == _fresh(instrument)
    assert dump_native(load_native(first).instrument) == first  # an equal document: the same text
    retitled = dataclasses.replace(instrument, title=Text(en="A changed title"))
    changed = dump_native(retitled)
    assert "A changed title" in changed and changed == _fresh(retitled)
    assert load_native(changed).instrument.title == Text(en="A changed title")
    assert dump_native(instrument) == first
