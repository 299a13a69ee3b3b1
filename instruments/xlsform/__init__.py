"""XLSForm import (through pyxform) and export (to .xlsx with openpyxl).

A package, one module per step: :mod:`~instruments.xlsform.safety` (reading and pre-checks),
:mod:`~instruments.xlsform.screening` (raw rows), the converter in three layers
(:mod:`~instruments.xlsform.converter_base`, :mod:`~instruments.xlsform.converter_items`,
:mod:`~instruments.xlsform.converter_pages`, :mod:`~instruments.xlsform.conversion`),
:mod:`~instruments.xlsform.importer` (the pipeline) and :mod:`~instruments.xlsform.export`;
:mod:`~instruments.xlsform.common` holds the limits and column names they share.

Import pipeline (each step its own function):

1. :func:`_read_source` - bytes and file type, size limit (``MAX_XLSFORM_BYTES``);
2. :func:`_precheck` - before any parser runs: zip entry count, uncompressed
   size and compression ratio (zip bombs), ``<!DOCTYPE``/``<!ENTITY`` in any
   XML part (XXE, billion laughs), worksheet row and cell counts; line counts
   for CSV and Markdown; row counts for ``.xls``;
3. ``pyxform.xls2json_backends.get_xlsform`` - the sheets as raw rows;
4. :func:`_screen_rows` - repeats (rejected), unsupported types and metadata
   (dropped, with a warning listing the rows), ``required`` (dropped with a
   warning, or an error with ``strict_required=True``), duplicate choice
   names (an error naming the row), unknown columns (warning);
5. ``pyxform.xls2json.workbook_to_json`` and ``pyxform.builder`` - pyxform's
   own checks, errors mapped to ``XLSFORM_INVALID`` with the row;
6. :class:`_Converter` - the pyxform dict becomes an
   :class:`~instruments.model.Instrument`; validation issues get sheet, row
   and column locations.

Any failure is an :class:`~instruments.errors.InstrumentError`; nothing else
escapes, whatever the file holds.

Mapping
-------
* a top-level group is a section; a ``field-list`` group is one page; an
  item outside a field-list group is a page of its own; top-level items
  outside groups form an implicit section (``grouped=False``);
* a ``table-list`` group whose select_one children share a list and are named
  ``<group>_<row>`` is a matrix item (answers keyed ``<group>_<row>``);
* ``select_one`` with appearance ``likert`` is a likert item;
* ``label::English (en)`` gives the language code ``en`` (also bare names such
  as ``label::French``); the plain ``label`` column is the default language;
* Sauti's own columns: ``sensitivity`` (S0-S3), ``min_band``, ``max_band``,
  ``research_only``, ``max_choices``, ``allow_dont_know``, ``shared``,
  ``band_choices`` (``A=faces3 B=agree5``), ``matrix_rows`` (matrix row list),
  ``minutes``, ``label_A::...``/``hint_A::...`` (band variants),
  ``notice::...`` and ``skippable`` (on a section's begin group row),
  ``alt::...`` (choices sheet), and ``sauti_*`` settings columns.

Examples
--------
>>> md = '''
... | survey |
... | | type | name | label | relevant | sensitivity |
... | | select_one yn | likes | Do you like school? | | S1 |
... | | text | why | Why? | ${likes} = 'yes' | |
... | choices |
... | | list_name | name | label |
... | | yn | yes | Yes |
... | | yn | no | No |
... '''
>>> result = import_xlsform(md)
>>> inst = result.instrument
>>> [i.name for i in inst.items], inst.item("likes").sensitivity.name
(['likes', 'why'], 'S1')
>>> inst.item("why").relevance
"${likes} = 'yes'"
"""

from __future__ import annotations

from instruments.xlsform.common import MAX_CELLS, MAX_CHOICE_ROWS, MAX_ROWS, MAX_XLSFORM_BYTES
from instruments.xlsform.export import export_xlsform
from instruments.xlsform.importer import import_xlsform

__all__ = [
    "MAX_CELLS",
    "MAX_CHOICE_ROWS",
    "MAX_ROWS",
    "MAX_XLSFORM_BYTES",
    "export_xlsform",
    "import_xlsform",
]
