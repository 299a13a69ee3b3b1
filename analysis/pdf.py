"""One PDF renderer for every printed output (the programme report and the feedback sheets).

Built on `fpdf2 <https://py-pdf.github.io/fpdf2/>`_: text is laid out with the font's real
metrics (so headings and cells wrap instead of running off the page), tables repeat their
header row on every page they cross, charts are vector graphics (the matplotlib figure saved
as a one-page PDF and laid on the page with pypdf), and text is shaped with HarfBuzz
(``uharfbuzz``), so Arabic is joined, written right to left and extracted from the PDF in
reading order.

The font is DejaVu Sans as shipped inside matplotlib (``mpl-data/fonts/ttf``; Bitstream Vera
licence), which covers Latin, Kiswahili and Arabic: nothing to install on the machine, and
the same glyphs as the charts.

Examples
--------
>>> doc = PdfDocument(title="Sample")
>>> doc.heading("Who took part")
>>> doc.paragraph("Children from eight sites took part.")
>>> doc.table(["group", "children"], [["girls", "1,012"], ["boys", "958"]],
...           numeric=[False, True], caption="Children by gender")
>>> pdf = doc.output()
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

__all__ = ["FONT", "FONT_DIR", "FONT_MONO", "PdfDocument", "add_fonts", "is_rtl", "needs_shaping", "set_shaping"]

#: Where the bundled DejaVu fonts are (inside matplotlib, a dependency already).
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
_FONT_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
#: A fixed-width face for codes to be typed (code cards): same family, embedded like the rest.
FONT_MONO = "DejaVuMono"
_MONO_FILES = {"": "DejaVuSansMono.ttf", "B": "DejaVuSansMono-Bold.ttf"}
#: Colours (RGB): headings, table header fill, rules, notes, caveat box.
INK, ACCENT, HEAD_FILL, RULE, MUTED = (26, 26, 26), (11, 61, 102), (232, 239, 246), (190, 190, 190), (85, 85, 85)
BOX_FILL, BOX_RULE = (255, 248, 225), (230, 159, 0)
_RTL_BIDI = {"R", "AL"}
_LANG_TAGS = {"ar": ("arab", "ara"), "fa": ("arab", "fas"), "ur": ("arab", "urd"), "he": ("hebr", "iwr")}
_RTL_LANGUAGES = {"ar", "fa", "ur", "he", "ps", "dv", "yi", "ckb"}


def add_fonts(pdf: FPDF, *, mono: bool = False) -> None:
    """Register the bundled DejaVu faces on ``pdf`` as ``FONT`` (and ``FONT_MONO`` with ``mono``).

    Every printed output uses this, so the PDFs share one set of font files (embedded, subset):
    Latin, Kiswahili and Arabic in one face.
    """
    for style, name in _FONT_FILES.items():
        pdf.add_font(FONT, style, str(FONT_DIR / name))
    for style, name in _MONO_FILES.items() if mono else ():
        pdf.add_font(FONT_MONO, style, str(FONT_DIR / name))


def set_shaping(pdf: FPDF, text: str, language: str = "") -> None:
    """HarfBuzz shaping on ``pdf`` for ``text`` in ``language``: on (joined, right to left) for
    a right-to-left language or text with a complex script, off for plain Latin text.

    For pages that set short texts in several languages (code cards); :class:`PdfDocument`
    keeps its own page direction.
    """
    code = language.split("_")[0].split("-")[0]
    rtl = code in _RTL_LANGUAGES
    if rtl or needs_shaping(text):
        script, lang = _LANG_TAGS.get(code, (None, None))
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else None, script=script, language=lang)
    else:
        pdf.set_text_shaping(False)


def is_rtl(text: str) -> bool:
    """Whether the first strongly directional character of ``text`` is right to left.

    >>> is_rtl("ما قلتموه لنا"), is_rtl("12 %"), is_rtl("EV1 أمان")
    (True, False, False)
    """
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in _RTL_BIDI:
            return True
        if bidi == "L":
            return False
    return False


class _Fpdf(FPDF):
    def __init__(self, running_title: str, footer_text: str, rtl: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.running_title = running_title
        self.footer_text = footer_text
        self.rtl = rtl

    def header(self) -> None:
        if self.page_no() > 1 and self.running_title:
            self.set_font(FONT, "", 7.5)
            self.set_text_color(*MUTED)
            self.set_y(8)
            self.cell(0, 4, self.running_title, align="R" if not self.rtl else "L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(*INK)
            self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        text = f"{self.page_no()} / {{nb}}"
        if self.footer_text:
            text = f"{self.footer_text}    {text}"
        self.cell(0, 5, text, align="C")
        self.set_text_color(*INK)


class PdfDocument:
    """An A4 document filled top to bottom: title, headings, paragraphs, tables, charts.

    Parameters
    ----------
    title : str
        Shown in small print at the top of every page after the first.
    language : str
        The document's language; right-to-left languages (ar, fa, ur, he) set the page
        direction: text is right-aligned and paragraphs read right to left.
    base_size : float
        Body text size in points (tables are one point smaller).
    footer : str
        Printed beside the page number on every page.
    """

    def __init__(self, title: str = "", language: str = "en", base_size: float = 9.5, footer: str = "") -> None:
        code = language.split("_")[0].split("-")[0]
        self.language = code
        self.rtl = code in _RTL_LANGUAGES
        self.size = base_size
        pdf = _Fpdf(title, footer, self.rtl)
        add_fonts(pdf)
        self._script = _LANG_TAGS.get(code, (None, None))
        self._shaping: bool | None = None
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(True, margin=16)
        pdf.set_title(title)
        pdf.set_lang(code)
        pdf.set_creator("Sauti")
        pdf.set_font(FONT, "", base_size)
        pdf.set_text_color(*INK)
        self.pdf = pdf
        self._shape(self.rtl)
        pdf.add_page()
        self._overlays: list[tuple[int, float, float, float, float, bytes]] = []

    # -- helpers
    def _shape(self, needed: bool) -> None:
        """HarfBuzz shaping (joining, bidi order) on for text that needs it, off for the rest.

        Latin, Cyrillic and Greek text is set as it is (DejaVu's widths), which keeps a long
        report fast; any text with a complex or right-to-left script, and every text of a
        right-to-left document, goes through the shaping engine.
        """
        needed = needed or self.rtl
        if needed == self._shaping:
            return
        if needed:
            script, lang = self._script
            self.pdf.set_text_shaping(
                use_shaping_engine=True, direction="rtl" if self.rtl else None, script=script, language=lang
            )
        else:
            self.pdf.set_text_shaping(False)
        self._shaping = needed

    def _block_align(self, text: str) -> str:
        """Paragraph alignment: the page direction, unless the text itself is the other way."""
        if self.rtl:
            return "R" if is_rtl(text) or not _has_strong_ltr(text) else "L"
        return "R" if is_rtl(text) else "L"

    def _keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.pdf.will_page_break(height):
            self.pdf.add_page()

    def _write(
        self, text: str, size: float, style: str = "", colour=INK, height: float | None = None, fill: bool = False
    ) -> None:
        pdf = self.pdf
        style = _style_for(text, style)
        self._shape(needs_shaping(text))
        pdf.set_font(FONT, style, size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(
            0, height or size * 0.5, text, align=self._block_align(text), fill=fill, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_text_color(*INK)

    def _lines(self, text: str, size: float, style: str = "", width: float | None = None) -> int:
        style = _style_for(text, style)
        self._shape(needs_shaping(text))
        self.pdf.set_font(FONT, style, size)
        return len(self.pdf.multi_cell(width or self.pdf.epw, size * 0.5, text, dry_run=True, output="LINES"))

    # -- blocks
    def title(self, text: str, size: float = 18) -> None:
        """The document title (wraps; never wider than the page)."""
        self._write(text, size, "B", ACCENT, height=size * 0.45)
        self.pdf.ln(2)

    def heading(self, text: str, level: int = 1) -> None:
        """A section heading (level 1) or sub-heading (level 2), kept with what follows."""
        size = {1: 13.5, 2: 11}.get(level, 10)
        lines = self._lines(text, size, "B")
        self._keep(lines * size * 0.5 + 30)  # never alone at the foot of a page
        self.pdf.ln(4 if level == 1 else 2)
        self._write(text, size, "B", ACCENT if level == 1 else INK)
        if level == 1:
            pdf = self.pdf
            pdf.set_draw_color(*BOX_RULE)
            pdf.set_line_width(0.5)
            pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.w - pdf.r_margin, pdf.get_y() + 0.5)
            pdf.ln(2.5)
        else:
            self.pdf.ln(1)

    def paragraph(self, text: str, size: float | None = None, style: str = "", colour=INK, box: bool = False) -> None:
        """A paragraph of running text; ``box`` draws it on a shaded panel (the caveat)."""
        size = size or self.size
        pdf = self.pdf
        if box:
            pdf.set_fill_color(*BOX_FILL)
            pdf.set_draw_color(*BOX_RULE)
            lines = self._lines(text, size, style, pdf.epw - 6)
            height = lines * size * 0.5 + 4
            self._keep(height)
            y = pdf.get_y()
            pdf.rect(pdf.l_margin, y, pdf.epw, height, style="F")
            pdf.set_line_width(1.2)
            x = pdf.l_margin if not self.rtl else pdf.w - pdf.r_margin
            pdf.line(x, y, x, y + height)
            pdf.set_xy(pdf.l_margin + 3, y + 2)
            pdf.set_font(FONT, _style_for(text, style), size)
            pdf.multi_cell(
                pdf.epw - 6, size * 0.5, text, align=self._block_align(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.set_y(y + height)
        else:
            self._write(text, size, style, colour)
        pdf.ln(2)

    def bullets(self, items: Sequence[str], size: float | None = None) -> None:
        """A bulleted list with a hanging indent (the bullet on the reading side)."""
        size = size or self.size
        pdf = self.pdf
        indent, height = size * 0.45, size * 0.55
        for item in items:
            self._shape(needs_shaping(item))
            pdf.set_font(FONT, "", size)
            pdf.set_text_color(*INK)
            self._keep(height * 2)
            y = pdf.get_y()
            if self.rtl:
                pdf.set_xy(pdf.w - pdf.r_margin - indent, y)
                pdf.cell(indent, height, "\u2022", align="R")
                pdf.set_xy(pdf.l_margin, y)
            else:
                pdf.set_xy(pdf.l_margin, y)
                pdf.cell(indent, height, "\u2022")
                pdf.set_xy(pdf.l_margin + indent, y)
            pdf.multi_cell(
                pdf.epw - indent, height, item, align=self._block_align(item), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.ln(1)
        pdf.ln(1)

    def note(self, text: str) -> None:
        """Small grey print under a table or chart."""
        self._write(text, self.size - 2, "", MUTED, height=(self.size - 2) * 0.48)

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        numeric: Sequence[bool] | None = None,
        caption: str = "",
        notes: Sequence[str] = (),
        row_headers: bool = False,
    ) -> None:
        """A table whose header row repeats on every page it crosses.

        Column widths come from the width of the text they hold (font metrics), squeezed to
        the page when needed; long text wraps inside its cell. ``numeric`` columns are
        right-aligned; ``row_headers`` sets the first column in bold.
        """
        pdf = self.pdf
        size = self.size - 1
        n = len(columns)
        numeric = list(numeric or [False] * n)
        shaped = any(needs_shaping(str(t)) for t in columns) or any(needs_shaping(str(t)) for r in rows for t in r)
        self._shape(shaped)
        # A wide table is set smaller (down to 6.5 pt) before any word is broken.
        while (
            size > 6.5
            and sum(self._column_widths(columns, rows, size, row_headers, numeric, minimum_only=True)) > pdf.epw
        ):
            size -= 0.5
        if caption:
            self._keep(size * 0.5 * 6 + 10)  # the caption, the header and a row or two
            self._write(caption, self.size + 0.5, "B")
            pdf.ln(1)
            self._shape(shaped)  # the caption set it for its own text
        widths = self._column_widths(columns, rows, size, bold_first=row_headers, numeric=numeric)
        if sum(widths) > pdf.epw - 0.01:  # float rounding: fpdf2 refuses a hair too wide
            widths = [w * (pdf.epw - 0.01) / sum(widths) for w in widths]
        rtl = self.rtl
        order = list(range(n))[::-1] if rtl else list(range(n))
        aligns = ["RIGHT" if numeric[j] else ("RIGHT" if rtl else "LEFT") for j in order]
        pdf.set_font(FONT, "", size)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        head_style = FontFace(emphasis="BOLD", fill_color=HEAD_FILL, color=INK)
        with pdf.table(
            width=sum(widths),
            col_widths=[widths[j] for j in order],
            align="RIGHT" if rtl else "LEFT",
            text_align=aligns,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=head_style,
            line_height=size * 0.48,
            padding=(1.1, 1.6),
            repeat_headings=1,
            v_align="TOP",
        ) as table:
            head = table.row()
            for j in order:
                text = str(columns[j])
                head.cell(text, align=_cell_align(text, numeric[j], rtl))
            for r in rows:
                row = table.row()
                for j in order:
                    text = str(r[j])
                    style = FontFace(emphasis="BOLD") if row_headers and j == 0 else None
                    row.cell(text, align=_cell_align(text, numeric[j], rtl), style=style)
        pdf.ln(1.5)
        for note in notes:
            self.note(note)
        pdf.ln(3)

    def _column_widths(
        self,
        columns,
        rows,
        size,
        bold_first: bool = False,
        numeric: Sequence[bool] | None = None,
        minimum_only: bool = False,
    ) -> list[float]:
        """Automatic table layout, as browsers do it: every column gets at least its minimum
        (its longest word; a whole number, which never wraps, for a numeric column) and the
        rest of the page is shared in proportion to how much more each column would like."""
        pdf = self.pdf
        pad = 4.2  # cell padding (2 x 1.6 mm) and a little air
        numeric = list(numeric or [False] * len(columns))
        natural, minimum = [], []
        for j, col in enumerate(columns):
            pdf.set_font(FONT, "B", size)
            want = pdf.get_string_width(str(col))
            least = max(pdf.get_string_width(w) for w in (str(col).split() or [""]))
            pdf.set_font(FONT, "B" if bold_first and j == 0 else "", size)
            for r in rows:
                text = str(r[j])
                width = pdf.get_string_width(text)
                want = max(want, width)
                least = max(
                    least, width if numeric[j] else max((pdf.get_string_width(w) for w in text.split()), default=0)
                )
            natural.append(max(want + pad, 8.0))
            minimum.append(max(min(least + pad, 45.0), 8.0))
        if minimum_only:
            return minimum
        room = pdf.epw
        if sum(natural) <= room:
            return natural
        if sum(minimum) >= room:  # even the minimums do not fit: scale them (words may break)
            return [w * room / sum(minimum) for w in minimum]
        share = (room - sum(minimum)) / (sum(natural) - sum(minimum))
        return [lo + (hi - lo) * share for lo, hi in zip(minimum, natural, strict=True)]

    def chart(self, chart, empty_sentence: str = "") -> None:
        """A chart as vector graphics, or a sentence when it has nothing to draw.

        ``chart`` is a :class:`analysis.charts.ChartResult`. When every number of the chart
        was hidden (``chart.empty``), no empty axes are drawn: ``empty_sentence`` (or the
        chart's own) says what is hidden. Otherwise the space is kept here and the figure,
        saved by matplotlib as a one-page PDF (its text shaped and embedded), is laid on
        the page when the document is written (:meth:`output`).
        """
        if getattr(chart, "empty", False):
            self.paragraph(empty_sentence or chart.empty_text(), style="I", colour=MUTED)
            return
        pdf = self.pdf
        w_in, h_in = chart.figure.get_size_inches()
        width = min(pdf.epw, w_in * 25.4 * 0.78)
        height = width * h_in / w_in
        room = pdf.h - pdf.t_margin - pdf.b_margin - 12
        if height > room:
            height = room
            width = height * w_in / h_in
        self._keep(height + 6)
        x = pdf.l_margin if not self.rtl else pdf.w - pdf.r_margin - width
        y = pdf.get_y()
        self._overlays.append((pdf.page_no() - 1, x, y, width, height, chart.to_pdf()))
        pdf.set_y(y + height + 1)
        if chart.caption:
            self.note(chart.caption)
        pdf.ln(3)

    def space(self, mm: float = 3) -> None:
        self.pdf.ln(mm)

    def page_break(self) -> None:
        self.pdf.add_page()

    def output(self) -> bytes:
        """The finished PDF as bytes (charts laid on their pages with pypdf)."""
        data = bytes(self.pdf.output())
        if not self._overlays:
            return data
        from pypdf import PdfReader, PdfWriter, Transformation

        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        pt = 72 / 25.4
        for page_index, x, y, width, height, figure in self._overlays:
            chart_page = PdfReader(io.BytesIO(figure)).pages[0]
            page = writer.pages[page_index]
            scale = width * pt / float(chart_page.mediabox.width)
            bottom = float(page.mediabox.height) - (y + height) * pt
            page.merge_transformed_page(chart_page, Transformation().scale(scale, scale).translate(x * pt, bottom))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.output())
        return path


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds a character beyond Latin, Greek and Cyrillic (shaping needed).

    Hebrew to the South and South-East Asian scripts (U+0590-U+1CFF) and the Hebrew and
    Arabic presentation forms (U+FB1D-U+FEFF); punctuation such as bullets and quotes is not.

    >>> needs_shaping("\u2022 Girls: 45 %"), needs_shaping("Élève"), needs_shaping("ما قلتموه")
    (False, False, True)
    """
    return any(0x0590 <= ord(ch) <= 0x1CFF or 0xFB1D <= ord(ch) <= 0xFEFF for ch in text)


def _style_for(text: str, style: str) -> str:
    """DejaVu Sans Oblique has no Arabic or Hebrew: such text is set upright.

    >>> _style_for("A quote", "I"), _style_for("ما قلتموه", "BI")
    ('I', 'B')
    """
    return style.replace("I", "") if needs_shaping(text) else style


def _has_strong_ltr(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) == "L" for ch in text)


def _cell_align(text: str, numeric: bool, rtl: bool) -> str:
    if numeric:
        return "RIGHT"
    if is_rtl(text) or (rtl and not _has_strong_ltr(text)):
        return "RIGHT"
    return "LEFT"
