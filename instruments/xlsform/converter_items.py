"""Converting one pyxform question (or a table-list group) to an :class:`~instruments.model.Item`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from instruments.errors import Issue, IssueCode
from instruments.model import (
    Choice,
    Item,
    ItemType,
    Media,
    Sensitivity,
)

if TYPE_CHECKING:
    pass

from instruments.attachments import SUFFIXES
from instruments.xlsform.common import _FALSE, _MAX_SELECTED_RE, W, _media_of, _parse_pairs, _truthy
from instruments.xlsform.converter_base import _ConverterBase

_FILE_SUFFIXES = (*SUFFIXES, ".geojson")
_SEARCH_RE = re.compile(r"search\s*\(([^)]*)\)")
_ARG_RE = re.compile(r"'[^']*'|\"[^\"]*\"|\$\{[^}]*\}|[^,\s]+")


class _ItemConverter(_ConverterBase):
    """Questions: types, columns, labels, choice filters; table-list groups as matrix items."""

    # items -----------------------------------------------------------------
    def item(self, node: Mapping[str, Any]) -> Item | None:
        name = str(node.get("name"))
        kind = node.get("type")
        bind = node.get("bind") or {}
        control = node.get("control") or {}
        appearance = control.get("appearance")
        tokens = str(appearance or "").split()
        type_map = {
            "select one": ItemType.SELECT_ONE,
            "select all that apply": ItemType.SELECT_MULTIPLE,
            "rank": ItemType.RANK,
            "text": ItemType.TEXT,
            "string": ItemType.TEXT,
            "integer": ItemType.INTEGER,
            "int": ItemType.INTEGER,
            "decimal": ItemType.DECIMAL,
            "range": ItemType.RANGE,
            "note": ItemType.NOTE,
            "calculate": ItemType.CALCULATE,
        }
        if kind in ("xml-external", "csv-external"):
            # a file attached to the form, read by instance('name')/root/item[...] look-ups
            from instruments.attachments import make_spec

            self.attach(name, make_spec(f"{name}.{'xml' if kind == 'xml-external' else 'csv'}", kind="lookup"), name)
            return None
        if kind not in type_map:
            self.warnings.append(
                Issue(
                    IssueCode.UNSUPPORTED_TYPE,
                    W,
                    self.where(name, "type"),
                    f"The type '{kind}' is not supported; the row was left out.",
                    "Use a supported type.",
                )
            )
            return None
        item_type = type_map[kind]
        if (
            item_type in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.TEXT)
            and bind.get("calculate")
            and not node.get("label")
        ):
            # a question with a calculation and no label asks nothing: ODK shows only its value
            item_type = ItemType.CALCULATE
        list_name = node.get("list_name") or node.get("itemset") if item_type.has_choices else None
        parameters = node.get("parameters") or {}
        search_filter = None
        if item_type.has_choices and str(node.get("itemset") or "").lower().endswith(_FILE_SUFFIXES):
            list_name, parameters = self._from_file(name, str(node["itemset"]), dict(parameters))
            if list_name is None:
                return None
        elif item_type.has_choices and "search(" in str(appearance or "").replace(" ", ""):
            found = self._search(name, str(appearance), str(list_name))
            if found is None:
                return None
            search_filter = found or None
            appearance = _SEARCH_RE.sub("", str(appearance)).strip() or None
            tokens = str(appearance or "").split()
        if item_type is ItemType.SELECT_ONE and "likert" in tokens:
            item_type = ItemType.LIKERT
            tokens = [t for t in tokens if t != "likert"]
        appearance = " ".join(tokens) or None
        sensitivity = Sensitivity.S0
        if node.get("sensitivity") not in (None, ""):
            try:
                sensitivity = Sensitivity.parse(node["sensitivity"])
            except ValueError:
                self.error(
                    IssueCode.INVALID_SENSITIVITY,
                    name,
                    "sensitivity",
                    f"'{node['sensitivity']}' is not a sensitivity level.",
                    "Use S0, S1, S2 or S3.",
                )
        max_choices = None
        constraint = bind.get("constraint")
        if node.get("max_choices") not in (None, ""):
            try:
                max_choices = int(str(node["max_choices"]).strip())
                if max_choices < 1:
                    raise ValueError
            except ValueError:
                self.error(
                    IssueCode.MAX_CHOICES_INVALID,
                    name,
                    "max_choices",
                    f"'{node['max_choices']}' is not a whole number above 0.",
                    "Write e.g. 3.",
                )
                max_choices = None
        if item_type is ItemType.SELECT_MULTIPLE and constraint:
            match = _MAX_SELECTED_RE.match(str(constraint))
            if match and (max_choices is None or int(match.group(1)) == max_choices):
                max_choices = int(match.group(1))
                constraint = None
        minutes = None
        if node.get("minutes") not in (None, ""):
            try:
                minutes = float(node["minutes"])
            except ValueError:
                self.warnings.append(
                    Issue(
                        IssueCode.UNSUPPORTED_COLUMN,
                        W,
                        self.where(name, "minutes"),
                        f"'{node['minutes']}' is not a number of minutes; ignored.",
                        "Write e.g. 1.5.",
                    )
                )
        media = _media_of(node)
        relevance = bind.get("relevant")
        if relevance and name not in self.rows:
            # a row pyxform generated (or_other): its relevance uses a relative path
            relevance = re.sub(r"\.\./([A-Za-z_][A-Za-z0-9_.\-]*)", r"${\1}", relevance)
        if item_type is ItemType.RANGE:
            parameters = {k: v for k, v in parameters.items() if k in ("start", "end", "step")}
        label = node.get("label") or (node.get("hint") if item_type.answerable else None)
        if not label and item_type.answerable and not self.band_texts(node, "label"):
            # pyxform takes a question without words (ODK shows only its media, if any)
            label = name
            self.warnings.append(
                Issue(
                    IssueCode.MISSING_LABEL,
                    W,
                    self.where(name, "label"),
                    f"The question has no label (words to read), only a name: Sauti shows '{name}'"
                    + (" beside its picture or recording." if media else "."),
                    "Write the question in the label column.",
                )
            )
        choice_filter = node.get("choice_filter")
        if choice_filter and item_type.has_choices and list_name not in self.attachments:
            choice_filter = self._known_filter(name, str(choice_filter), node)
        if search_filter:
            choice_filter = f"({choice_filter}) and ({search_filter})" if choice_filter else search_filter
        return Item(
            name=name,
            type=item_type,
            # a question with only a hint (pyxform takes either) shows the hint as its words
            label=self.text(label),
            hint=self.text(node.get("hint") if node.get("label") or not item_type.answerable else None),
            label_bands=self.band_texts(node, "label"),
            hint_bands=self.band_texts(node, "hint"),
            shared=str(node.get("shared", "")).strip().lower() not in _FALSE - {""},
            choices=list_name,
            band_choices={
                self.band_lookup.get(k.lower(), k): v for k, v in _parse_pairs(node.get("band_choices")).items()
            },
            rows=None,
            relevance=relevance,
            constraint=constraint,
            constraint_message=self.text(bind.get("jr:constraintMsg")),
            choice_filter=choice_filter,
            appearance=appearance,
            default=None if node.get("default") is None else str(node.get("default")),
            calculation=bind.get("calculate"),
            parameters={k: str(v) for k, v in parameters.items()},
            min_band=self.band(node.get("min_band"), name, "min_band"),
            max_band=self.band(node.get("max_band"), name, "max_band"),
            sensitivity=sensitivity,
            research_only=_truthy(node.get("research_only", "")),
            media=Media(audio=self.text(media.get("audio")), image=self.text(media.get("image"))),
            max_choices=max_choices,
            allow_dont_know=_truthy(node.get("allow_dont_know", "")),
            minutes=minutes,
        )

    def _from_file(self, name: str, file: str, parameters: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """``select_one_from_file cities.csv``: the list that waits for the file, named after it
        (and after the columns, when ``value=``/``label=`` parameters pick others)."""
        from instruments.attachments import make_spec

        if not file.lower().endswith(SUFFIXES):
            self.error(
                IssueCode.MISSING_CHOICE_LIST,
                name,
                "type",
                f"The choices come from '{file}', a map file (GeoJSON); Sauti asks children no places.",
                "Put the choices in a CSV file (name,label columns) or on the choices sheet.",
            )
            return None, parameters
        value = str(parameters.pop("value", "name") or "name")
        label = str(parameters.pop("label", "label") or "label")
        stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", file.rsplit(".", 1)[0])
        if not re.match(r"^[A-Za-z_]", stem):
            stem = f"file_{stem}"
        key = stem if (value, label) == ("name", "label") else f"{stem}__{value}__{label}"
        key = re.sub(r"[^A-Za-z0-9_.\-]", "_", key)[:64]
        self.attach(key, make_spec(file, value, {"": label}), name)
        return key, parameters

    def _search(self, name: str, appearance: str, list_name: str) -> str | None:
        """``search('cities'[, 'matches', 'column', value ...])``: the choices come from
        ``cities.csv``; the choices sheet's first row of the list names the value and label
        columns, its other rows are choices shown as well. Returns the filter ('' for none),
        or None after an error."""
        from instruments.attachments import make_spec

        match = _SEARCH_RE.search(appearance)
        args = _ARG_RE.findall(match.group(1)) if match else []
        if not args or not args[0].startswith(("'", '"')):
            self.error(
                IssueCode.MISSING_CHOICE_LIST,
                name,
                "appearance",
                f"'{appearance}' does not name the file the choices come from.",
                "Write search('file name') with the name in quotes.",
            )
            return None
        file = args[0][1:-1].strip()
        file = file if file.lower().endswith(".csv") else f"{file}.csv"
        sheet = (self.form.get("choices") or {}).get(list_name) or []
        if list_name not in self.searched_lists:
            if not sheet:
                self.error(
                    IssueCode.MISSING_CHOICE_LIST,
                    name,
                    "appearance",
                    f"search() needs the list '{list_name}' on the choices sheet: its first row names the columns.",
                    f"Add a row for '{list_name}' whose name and label are the file's value and label columns.",
                )
                return None
            first, rest = sheet[0], sheet[1:]
            labels = dict(self.text(first.get("label"))) or {"": "label"}
            spec = make_spec(file, str(first.get("name") or "name"), labels, kind="search")
            self.attach(list_name, spec, name, "appearance")
            self.form["choices"][list_name] = rest
            self.searched_lists.add(list_name)
        else:
            self.attach(list_name, self.attachments[list_name], name)
        filters = args[1:]
        if not filters:
            return ""
        mode = filters[0].strip("'\"").lower()
        pairs = filters[1:]
        function = {"contains": "contains", "startswith": "starts-with", "endswith": "ends-with"}.get(mode)
        if (mode == "matches" and pairs and len(pairs) % 2 == 0) or (function and len(pairs) == 2):
            terms = []
            for column, value in zip(pairs[::2], pairs[1::2], strict=True):
                column = column.strip("'\"")
                terms.append(f"{column} = {value}" if mode == "matches" else f"{function}({column}, {value})")
            return " and ".join(terms)
        self.error(
            IssueCode.MISSING_CHOICE_LIST,
            name,
            "appearance",
            f"'{appearance}' filters the file in a way Sauti cannot do on its server.",
            "Use search('file', 'matches', 'column', value), or 'contains', 'startswith' or 'endswith' with "
            "one column and one value; or a choice_filter.",
        )
        return None

    def _known_filter(self, name: str, choice_filter: str, node: Mapping[str, Any]) -> str | None:
        """The choice filter, or None when it reads a column the choices sheet does not have:
        ODK would read that column as empty, so the filter would hide every choice; Sauti shows
        them all and says so."""
        from instruments.expressions import ExpressionError, parse

        try:
            bare = parse(choice_filter).bare_names
        except ExpressionError:
            return choice_filter  # the validator names the problem
        missing = sorted(bare - self.choice_columns - {"name"})
        if not missing:
            return choice_filter
        self.warnings.append(
            Issue(
                IssueCode.UNKNOWN_REFERENCE,
                W,
                self.where(name, "choice_filter"),
                f"The choice filter reads '{missing[0]}', which is not a column of the choices sheet, so "
                "it would hide every choice; Sauti leaves the filter out and shows all the choices.",
                f"Add a '{missing[0]}' column to the choices sheet, or write ${{{missing[0]}}} to read an answer.",
            )
        )
        return None

    def matrix(self, group: Mapping[str, Any]) -> Item | None:
        """A table-list group of select_ones named <group>_<row>, else None.

        pyxform expands ``table-list`` into a ``field-list`` group holding a
        generated note (the group label), a reserved label row and the rows.
        """
        name = str(group.get("name"))
        control = group.get("control") or {}
        all_children = list(group.get("children", []))
        generated = [c for c in all_children if str(c.get("name", "")).startswith("generated_table_list_label_")]
        reserved = [
            c for c in all_children if str(c.get("name", "")).startswith("reserved_name_for_field_list_labels_")
        ]
        if "table-list" not in str(control.get("appearance") or "").split() and not reserved:
            return None
        label = group.get("label") or (generated[0].get("label") if generated else None)
        children = [
            c
            for c in all_children
            if c not in generated
            and c not in reserved
            and "label" not in str((c.get("control") or {}).get("appearance") or "").split()
        ]
        if not children or any(c.get("type") != "select one" for c in children):
            return None
        lists = {c.get("list_name") or c.get("itemset") for c in children}
        prefix = f"{name}_"
        if len(lists) != 1 or not all(str(c.get("name")).startswith(prefix) for c in children):
            return None
        rows_list = group.get("matrix_rows")
        row_names = [str(c["name"])[len(prefix) :] for c in children]
        known_rows = self.form.get("choices", {}).get(rows_list) if rows_list else None
        if not known_rows or [str(r.get("name")) for r in known_rows] != row_names:
            rows_list = f"{name}_rows"
            while rows_list in self.form.get("choices", {}):
                rows_list += "_"
            self.extra_lists[rows_list] = tuple(
                Choice(row, self.text(c.get("label"))) for row, c in zip(row_names, children, strict=True)
            )
        group = dict(group, label=label)
        first = self.item(
            dict(
                children[0],
                name=name,
                label=group.get("label"),
                hint=group.get("hint"),
                bind=group.get("bind") or {},
                control={"appearance": None},
                **{
                    k: v
                    for k, v in group.items()
                    if k
                    in (
                        "sensitivity",
                        "min_band",
                        "max_band",
                        "research_only",
                        "allow_dont_know",
                        "shared",
                        "band_choices",
                        "minutes",
                    )
                    or re.match(r"^(label|hint)_", str(k))
                },
            )
        )
        if first is None:  # pragma: no cover - children are select one
            return None
        self.matrix_group_names.add(name)
        for child in children:
            self.rows.setdefault(str(child["name"]), self.rows.get(name, 0))
        return replace(
            first,
            type=ItemType.MATRIX,
            rows=rows_list,
            relevance=((group.get("bind") or {}).get("relevant")),
            appearance=None,
            media=Media(**{k: self.text(v) for k, v in _media_of(group).items() if k in ("audio", "image")}),
        )
