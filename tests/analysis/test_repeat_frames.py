"""Repeat frames and tables (issue 19): one row per instance, linked to its response, and the
nested repeat linked to its outer instance, as KoboToolbox and ODK export them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.exports import repeat_tables
from analysis.frames import repeat_frames, repeat_item_names
from instruments import import_xlsform

FORMS = Path(__file__).parents[1] / "instruments" / "data" / "repeats"


def test_a_nested_repeat_has_one_row_per_instance_pointing_at_its_outer_row():
    inst = import_xlsform(FORMS / "nested.md").instrument
    assert repeat_item_names(inst) == {"shared", "thing", "how_many"}
    stored = pd.DataFrame(
        [
            ("a", "shared", 0, 1, "yes"),
            ("a", "shared", 0, 2, "no"),
            ("a", "thing", 1, 1, "bed"),
            ("a", "thing", 1, 2, "lamp"),
            ("a", "how_many", 1, 2, "2"),
            ("a", "things", 0, 2, "2"),  # two things added in room 2, neither answered
            ("b", "shared", 0, 1, '["x"]'),
            ("b", "thing", 1, 1, "desk"),
        ],
        columns=["response_id", "item", "parent_instance", "instance", "answer"],
    )
    frames = repeat_frames(inst, stored, include_text=True)
    rooms, things = frames["rooms"], frames["things"]
    assert rooms[["response_id", "instance", "shared"]].values.tolist() == [
        ["a", 1, "yes"],
        ["a", 2, "no"],
        ["b", 1, "x"],
    ]
    plain = things.astype(object).where(things.notna(), None)
    assert plain[["response_id", "parent_instance", "instance", "thing", "how_many"]].values.tolist() == [
        ["a", 1, 1, "bed", None],
        ["a", 1, 2, "lamp", "2"],
        ["a", 2, 1, None, None],
        ["a", 2, 2, None, None],
        ["b", 1, 1, "desk", None],
    ]
    # open text never leaves unless asked for
    assert "thing" not in repeat_frames(inst, stored)["things"].columns
    tables = repeat_tables(frames, {"a": 1, "b": 2}, {"rooms": None, "things": "rooms"})
    room_rows = tables["rooms"][["_index", "_parent_table_name", "_parent_index", "instance"]].values.tolist()
    assert room_rows == [[1, "data", 1, 1], [2, "data", 1, 2], [3, "data", 2, 1]]
    thing_rows = tables["things"][["_parent_table_name", "_parent_index", "instance"]].values.tolist()
    assert thing_rows == [["rooms", 1, 1], ["rooms", 1, 2], ["rooms", 2, 1], ["rooms", 2, 2], ["rooms", 3, 1]]
    assert "response_id" not in tables["things"].columns
