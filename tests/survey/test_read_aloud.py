"""Read-aloud (issue 20, D-04): a play control beside every child-facing text, audio made offline.

The bundled consultation is walked as children walk it, in each shipped language and age group,
and every text on every question page must have its control, linked to a shipped file (or, for
the words that depend on the consultation, to one made on this host from exactly those words).
Every shipped file must decode and last about as long as its words take to say.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from instruments import load_bundled
from instruments.audio import VOICES, audio_name, duration_range, instrument_texts, spoken
from survey.services import audio
from tests.survey.child_walk import cards, enter, open_bundled, walk

LANGUAGES = ("en", "fr", "es", "ar", "sw")
AGES = {"A": 9, "B": 12, "C": 15}
LISTEN = {"en": "Listen", "fr": "Écouter", "es": "Escuchar", "ar": "استمع", "sw": "Sikiliza"}
HELPLINE_WORDS = re.compile(r"\d{3}|Test organisation")


@dataclasses.dataclass
class Control:
    src: str | None  # the audio's address (a link the browser plays); None: the browser's voice only
    name: str  # the accessible name: the link's text, or data-label (read-aloud.js makes it the text)
    text: str  # data-text, for the browser's voice


@dataclasses.dataclass
class Slot:
    """A text on the page that must have a play control: where it is, and the control after it."""

    what: str
    words: str
    control: Control | None = None


class _Page(HTMLParser):
    """The page's texts that must be heard (questions, options, rows, notices, paragraphs of the
    information text) and the play control found with each."""

    WANTED = {"legend", "label", "p", "li", "h1"}

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[Slot] = []
        self.controls: list[Control] = []
        self._stack: list[tuple[str, dict]] = []
        self._words: list[list[str]] = []
        self._open_choice: Slot | None = None
        self._last: Slot | None = None
        self._in_control: Control | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        assert tag not in ("audio", "video", "iframe"), "nothing is fetched or played before a press"
        if tag in ("a", "span") and "listen" in classes:
            if tag == "a":
                assert set(a) <= {"class", "href", "data-recorded"}, a  # a plain link, nothing else
            control = Control(a.get("href"), a.get("data-label", ""), a.get("data-text", ""))
            self._in_control = control
            self.controls.append(control)
            if self._open_choice is not None and self._open_choice.control is None:
                self._open_choice.control = control
            elif self._stack:  # inside the paragraph it reads
                self._stack[-1][1]["control"] = control
            elif self._last is not None and self._last.control is None:  # just after it
                self._last.control = control
            return
        if tag in self.WANTED and not {"hint", "counter", "progress-text"} & set(classes):
            # (a hint is spoken with its question; the letters counter and "page 2 of 9" are not texts)
            self._stack.append((tag, dict(a)))
            self._words.append([])
        if tag == "div" and "choice" in classes:
            self._open_choice = Slot("option", "")
            self.slots.append(self._open_choice)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "span") and self._in_control is not None:
            self._in_control = None
            return
        if tag == "div" and self._open_choice is not None:
            self._open_choice = None
        if self._stack and self._stack[-1][0] == tag:
            _, attrs = self._stack.pop()
            words = spoken(" ".join(self._words.pop()))
            if self._words:
                self._words[-1].append(words)
            if tag == "label" and self._open_choice is not None:
                self._open_choice.words = words
                self._last = self._open_choice
            elif words:
                self._last = Slot(tag, words, attrs.get("control"))
                self.slots.append(self._last)

    def handle_data(self, data: str) -> None:
        if self._in_control is not None:  # the control's own name is not part of the text it reads
            self._in_control.name += data
        elif self._words:
            self._words[-1].append(data)


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _main(html: str) -> str:
    """The page's own content (the header and help panel are checked once, separately)."""
    start = html.index("<main")
    return html[start : html.index("</main>", start)]


def _question_slots(page: _Page) -> list[Slot]:
    # Every question, option, row, notice and note.
    return [s for s in page.slots if s.what in ("legend", "label", "option", "p")]


def _is_shipped_or_noted(library, src: str) -> tuple[bool, str | None]:
    name = src.rsplit("/", 1)[-1]
    if name in audio.shipped().paths:
        return True, None
    note = library.pending / (name[:-5] + ".txt")
    assert note.is_file(), f"{src} is neither shipped nor noted to be made"
    return False, note.read_text(encoding="utf-8").partition("\t")[2]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_the_bundled_consultation_offers_a_play_control_for_each_text(app, language) -> None:
    consultation = open_bundled(app, country_profile="example-ke", languages=LANGUAGES)
    codes = cards(app, consultation, len(AGES))
    library = app.extensions["sauti_audio"]
    weights: list[tuple[int, int]] = []
    assets: dict[str, int] = {}
    for (band, age), code in zip(AGES.items(), codes, strict=True):
        client = enter(app, code, age, language)
        walked = walk(client, age, language=language)
        assert len(walked.pages) > 10
        for number, html in enumerate(walked.pages[:-1]):
            page = read_page(_main(html))
            slots = _question_slots(page)
            assert slots, (band, number)
            heard = {slot.words for slot in slots if slot.control is not None}
            for slot in slots:
                if slot.control is None and slot.what == "option" and slot.words in heard:
                    continue  # a matrix's scale, heard in its first row
                assert slot.control is not None, (language, band, number, slot)
                assert slot.control.name == LISTEN[language]
                assert slot.control.src and slot.control.src.startswith("/audio/"), slot
                shipped, words = _is_shipped_or_noted(library, slot.control.src)
                # Only words filled in from the consultation's country profile are made here.
                assert shipped or HELPLINE_WORDS.search(words), (language, band, slot.words, words)
            weights.append((_first_load(client, html, assets), _audio_bytes(page, html)))
            # The help panel (helplines of the country profile) and the header: heard too.
            panel = read_page(html[html.index('<aside class="help-panel"') :])
            assert len(panel.controls) == 2 and all(c.src for c in panel.controls)
        end = read_page(_main(walked.pages[-1]))
        assert all(s.control is not None for s in end.slots if s.what in ("p", "h1", "h2")), language
    # Page weight: the first load of a question page (the page, its stylesheet, scripts and
    # pictures; no audio) stays near what it was before read-aloud (the largest, a matrix of faces,
    # about 29,000 bytes in English and 29,700 in Arabic; with an <audio> per text and a 6 KB
    # script it was 38,247 and 38,993); the audio of a page, fetched only on pressing play, about 100 KB.
    loads = sorted(load for load, _ in weights)
    sounds = sorted(sound for _, sound in weights)
    print(language, "first load max", loads[-1], "median", loads[len(loads) // 2], end=" ")
    print("audio median", sounds[len(sounds) // 2], "max", sounds[-1])
    assert loads[-1] <= FIRST_LOAD_BYTES, (language, loads[-1])
    assert sounds[len(sounds) // 2] <= 100 * 1024 and sounds[-1] <= 256 * 1024, sounds


#: The largest question page's first load now (31,047 bytes, Arabic; 30,301 in English: the
#: controls, with block tags that leave no whitespace and the minified stylesheet), and a little room.
#: It was 30,219 before session 12 gave the quick exit a bar that stays on the screen and made the
#: language menu's entries buttons that keep the page's answers (about 830 bytes together).
FIRST_LOAD_BYTES = 31_500


def test_the_play_control_and_its_script_stay_small(app) -> None:
    """What read-aloud adds to each text of a page and to every child page's first load (it was
    an <audio> of 117 bytes per text and a 6 KB script)."""
    from flask import render_template_string

    words = instrument_texts(load_bundled(), "en")[0].text
    with app.test_request_context("/"):
        html = render_template_string("{{ listen(words, lang='en') }}", words=words)
    assert html.startswith('<a class=listen href="/audio/') and html.endswith(">Listen</a>"), html
    assert len(html.encode()) <= 70, html
    assert (Path(app.static_folder) / "js" / "read-aloud.js").stat().st_size <= 2048


_ASSET_RE = re.compile(r'<(?:link rel="stylesheet" href|script src|img [^>]*?src)="([^"]+)"')


def _first_load(client, html: str, assets: dict[str, int]) -> int:
    """Bytes a browser fetches to show the page: the page, its stylesheet, scripts and pictures
    (each counted on every page, as if nothing were cached)."""
    total = len(html.encode())
    for url in set(_ASSET_RE.findall(html)):  # each address fetched once
        if url not in assets:
            with client.get(url) as response:
                assets[url] = len(response.data)
        total += assets[url]
    return total


def _audio_bytes(page: _Page, html: str) -> int:
    """Bytes of all the shipped audio a page links (each file once)."""
    names = {c.src.rsplit("/", 1)[-1] for c in read_page(html).controls if c.src}
    return sum(audio.shipped().paths[name].stat().st_size for name in names if name in audio.shipped().paths)


def test_the_information_and_assent_text_is_spoken_from_the_words_on_the_screen(app) -> None:
    consultation = open_bundled(app, country_profile="example-uk", languages=LANGUAGES)
    library = app.extensions["sauti_audio"]
    for language, code in zip(("en", "ar"), cards(app, consultation, 2), strict=True):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.99.0.{len(language)}{ord(language[0]) % 9}"
        assert client.post(f"/?lang={language}", data={"code": code}).status_code == 302
        assert client.post("/p/age", data={"age": "9"}).status_code == 302
        html = _main(client.get("/p/about").get_data(as_text=True))
        first, more = html.split('<details class="more-information">', 1)
        # What a child reads before choosing: heard in one go from the title's control, word for word.
        top = read_page(first)
        title = next(s for s in top.slots if s.what == "h1")
        _, heard = _is_shipped_or_noted(library, title.control.src)
        shown = [s.words for s in top.slots if s.what in ("p", "li") and s.control is None]
        assert len(shown) >= 4 and heard.startswith(title.words)
        for words in shown:
            assert words in heard, words
        assert "{" not in heard and "0800 1111" in heard  # the country profile's helpline, filled in
        # "Tell me more": each paragraph has its own control, made from exactly its words.
        paragraphs = [s for s in read_page(more.split("</details>")[0]).slots if s.what == "p" and s.control]
        assert len(paragraphs) >= 5
        for slot in paragraphs:
            _, words = _is_shipped_or_noted(library, slot.control.src)
            assert words is None or (words == slot.words and "{" not in words)
        said = [_is_shipped_or_noted(library, s.control.src)[1] for s in paragraphs]
        assert any("Test organisation" in (words or "") for words in said)
        # The first press makes the file from those words, once, and serves it as immutable.
        src = title.control.src
        with client.get(src) as response:
            assert response.status_code == 200 and response.mimetype == "audio/ogg"
            assert response.data[:4] == b"OggS"
            assert "immutable" in response.headers["Cache-Control"]
        assert (library.made / src.rsplit("/", 1)[-1]).is_file()
        with client.get(src) as again:
            assert again.data == response.data


def test_a_text_with_the_childs_own_answer_is_never_written_to_disk(app) -> None:
    from flask import render_template_string

    from instruments.model import Item, Text

    item = Item(name="nick", type="text", label=Text(en="Hello ${pet}, what helps?"))
    with app.test_request_context("/"):
        html = render_template_string("{{ listen('Hello Rex, what helps?', lang='en', item=item) }}", item=item)
    assert "<audio" not in html and 'data-text="Hello Rex, what helps?"' in html
    assert not library_notes(app)


def library_notes(app) -> list[Path]:
    pending = app.extensions["sauti_audio"].pending
    return list(pending.glob("*.txt")) if pending.is_dir() else []


def test_audio_addresses_are_refused_unless_they_name_a_file(client) -> None:
    assert client.get("/audio/../../config.py").status_code == 404
    assert client.get("/audio/" + "0" * 24 + ".opus").status_code == 404  # never noted
    assert client.get("/audio/recorded/x/en/..%2Fsecret.ogg").status_code == 404


# --------------------------------------------------------------------------- the shipped files
def _ogg_duration(data: bytes) -> float:
    """Seconds of an Ogg Opus file: the last page's granule position less the pre-skip, at 48 kHz."""
    pre_skip = struct.unpack_from("<H", data, data.index(b"OpusHead") + 10)[0]
    last = data.rindex(b"OggS")
    granule = struct.unpack_from("<q", data, last + 6)[0]
    return (granule - pre_skip) / 48000


def test_every_shipped_audio_file_decodes_and_lasts_as_long_as_its_words(tmp_path) -> None:
    sizes = audio.shipped_sizes()
    assert set(sizes) == set(LANGUAGES)
    listing = []
    for language in LANGUAGES:
        folder = audio.SHIPPED / language
        rows = audio.read_index(folder / audio.INDEX)
        assert rows and {p.name for p in folder.glob("*.opus")} == {name for name, _ in rows}
        for name, words in rows:
            assert name == audio_name(words, VOICES[language])  # named by its words and voice
            data = (folder / name).read_bytes()
            low, high = duration_range(words, VOICES[language])
            assert low <= _ogg_duration(data) <= high, (language, words, _ogg_duration(data))
            listing.append(f"file '{folder / name}'")
    # Every file decodes: one ffmpeg run over all of them, stopping at the first error.  CI
    # installs ffmpeg (and sets SAUTI_REQUIRE_BROWSER, which requires the system tools); a
    # developer's machine without it skips this half, after the checks above.
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        if os.environ.get("SAUTI_REQUIRE_BROWSER"):
            pytest.fail("ffmpeg is not installed (apt-get install ffmpeg)")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    files = tmp_path / "files.txt"
    files.write_text("\n".join(listing), encoding="utf-8")
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-f", "concat", "-safe", "0", "-i", str(files), "-f", "null", "-"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr[-500:]
    # ffprobe agrees with the durations read above (one file per language).
    for language in LANGUAGES:
        path = next((audio.SHIPPED / language).glob("*.opus"))
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration:stream=codec_name,channels",
                "-of",
                "default=nw=1",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "codec_name=opus" in probe.stdout and "channels=1" in probe.stdout
        seconds = float(re.search(r"duration=([\d.]+)", probe.stdout).group(1))
        assert abs(seconds - _ogg_duration(path.read_bytes())) < 0.05


def test_the_shipped_audio_covers_every_text_of_the_bundled_consultation() -> None:
    instrument = load_bundled()
    for language in LANGUAGES:
        names = {name for name, _ in audio.read_index(audio.SHIPPED / language / audio.INDEX)}
        for one in instrument_texts(instrument, language):
            assert audio_name(one.text, VOICES[language]) in names, (language, one)
    rows = {row.language: row for row in audio.coverage(instrument)}
    assert all(not row.missing for row in rows.values())


def _samples(ogg: bytes) -> list[int]:
    """The sound of an Ogg Opus file as 16-bit samples at 48 kHz (decoded by ffmpeg)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:", "-f", "s16le", "-ac", "1", "-ar", "48000", "pipe:"],
        input=ogg,
        capture_output=True,
        check=True,
    ).stdout
    return [value for (value,) in struct.iter_unpack("<h", pcm)]


def test_the_build_is_deterministic_and_a_missing_synthesizer_is_said_plainly(runner, tmp_path, monkeypatch) -> None:
    text = "Do you know a free phone line for children?"
    first = audio.synthesize(text, VOICES["en"])
    assert first == audio.synthesize(text, VOICES["en"])  # same words and voice, same bytes
    shipped = audio.SHIPPED / "en" / audio_name(instrument_texts(load_bundled(), "en")[0].text, VOICES["en"])
    made_with = (audio.SHIPPED / audio.TOOLS).read_text(encoding="utf-8").strip()
    if made_with == audio.synthesizer_versions():  # rebuilding with the same tools gives the same sound
        # Not the same bytes on every machine: libopus picks its code for the processor (SSE, AVX),
        # and an Intel Xeon's rebuild of a file made on an AMD EPYC differed by a few units of
        # 32,768 in some samples (91 dB apart).  The same length and no audible difference, then.
        rebuilt = audio.synthesize(instrument_texts(load_bundled(), "en")[0].text, VOICES["en"])
        before, after = _samples(shipped.read_bytes()), _samples(rebuilt)
        assert len(before) == len(after) > 48_000
        assert (
            10
            * math.log10(
                sum(x * x for x in before) / max(1, sum((x - y) ** 2 for x, y in zip(before, after, strict=True)))
            )
            > 60
        )
    report = audio.build_language([instrument_texts(load_bundled(), "en")[0]], VOICES["en"], tmp_path)
    again = audio.build_language([instrument_texts(load_bundled(), "en")[0]], VOICES["en"], tmp_path)
    assert (report.made, again.made, again.kept) == (1, 0, 1)
    monkeypatch.setenv("PATH", str(tmp_path))  # neither espeak-ng nor opusenc on it
    result = runner.invoke(args=["instruments", "audio", "build", "reporting-mechanisms"])
    assert result.exit_code != 0
    assert "espeak-ng and opusenc are not installed" in result.output
    assert "apt-get install espeak-ng opus-tools" in result.output


def test_validate_reports_texts_without_audio(runner, tmp_path) -> None:
    from instruments import dump_native
    from tests.factories import make_test_instrument

    path = tmp_path / "test.yaml"
    path.write_text(dump_native(make_test_instrument()), encoding="utf-8")
    from click.testing import CliRunner

    from survey.cli import main

    result = CliRunner().invoke(main, ["instruments", "validate", str(path)])
    assert "AUDIO en:" in result.output and "have no shipped audio" in result.output
    bundled = tmp_path / "bundled.yaml"
    bundled.write_text(dump_native(load_bundled()), encoding="utf-8")
    result = CliRunner().invoke(main, ["instruments", "validate", str(bundled)])
    assert "AUDIO en:" not in result.output and "AUDIO sw:" not in result.output


# --------------------------------------------------------------------------- human recordings
def test_a_recording_uploaded_or_dropped_in_replaces_the_synthetic_voice(make_app, make_user, tmp_path) -> None:
    from instruments.audio import item_key
    from tests.conftest import sign_in
    from tests.survey.child_walk import _Inputs

    app = make_app(AUDIO_RESCAN_SECONDS=0)
    consultation = open_bundled(app, country_profile="example-ke", languages=("en",))
    child = enter(app, cards(app, consultation, 1)[0], 12)
    first = child.get("/p/q/0").get_data(as_text=True)
    inputs = _Inputs()
    inputs.feed(first)
    question, options = next(iter({**inputs.radios, **inputs.checkboxes}.items()))
    item = load_bundled().item(question.removeprefix("q_"))
    option_key = f"{item.name}.{options[0]}"
    make_user("ada", "admin")
    admin = app.test_client()
    sign_in(admin, "ada")
    console = admin.get("/admin/instruments/reporting-mechanisms/audio?language=en")
    assert console.status_code == 200 and f'value="{option_key}"' in console.get_data(as_text=True)
    # Each text is named in plain words (which question, which part), its key only as a file name.
    shown = console.get_data(as_text=True)
    assert f"<td>{item.name}</td>" not in shown and f"<td>{option_key}</td>" not in shown
    assert re.search(r"<td>Question \d+: an answer<br>", shown) and f"File name: {option_key}.ogg" in shown
    assert re.search(r'<option value="[^"]+">Question \d+: ', shown)

    voice = audio.synthesize("Hello, this is a person reading.", VOICES["en"])
    refused = admin.post(
        "/admin/instruments/reporting-mechanisms/audio",
        content_type="multipart/form-data",
        data={"language": "en", "key": option_key, "file": (io.BytesIO(b"not sound"), "a.ogg")},
    )
    assert refused.status_code == 400 and "not a sound file" in refused.get_data(as_text=True)
    unknown = admin.post(
        "/admin/instruments/reporting-mechanisms/audio",
        content_type="multipart/form-data",
        data={"language": "en", "key": "nope", "file": (io.BytesIO(voice), "a.ogg")},
    )
    assert unknown.status_code == 400
    kept = admin.post(
        "/admin/instruments/reporting-mechanisms/audio",
        content_type="multipart/form-data",
        data={"language": "en", "key": option_key, "file": (io.BytesIO(voice), "reading.opus")},
    )
    assert kept.status_code == 303
    # Dropped in by hand, named by the question's key.
    folder = Path(app.instance_path) / "recordings" / "reporting-mechanisms" / "en"
    (folder / f"{item_key(item, 'B')}.ogg").write_bytes(voice)

    page = read_page(child.get("/p/q/0").get_data(as_text=True))
    recorded = [c for c in page.controls if c.src and "/audio/recorded/" in c.src]
    assert {c.src.split("?")[0].rsplit("/", 1)[-1] for c in recorded} == {
        f"{option_key}.opus",
        f"{item_key(item, 'B')}.ogg",
    }
    html = child.get("/p/q/0").get_data(as_text=True)
    assert html.count(" data-recorded") == 2  # labelled as recordings
    with child.get(recorded[0].src) as response:
        assert response.status_code == 200 and response.data == voice
        assert "immutable" in response.headers["Cache-Control"]
    listing = admin.get("/admin/instruments/reporting-mechanisms/audio?language=en").get_data(as_text=True)
    assert listing.count("<strong>recording</strong>") == 2

    status = app.test_cli_runner().invoke(args=["instruments", "audio", "status", "reporting-mechanisms"])
    assert "en: " in status.output and ", 2 recorded, 0 without audio" in status.output, status.output

    removed = admin.post(
        "/admin/instruments/reporting-mechanisms/audio", data={"language": "en", "key": option_key, "action": "delete"}
    )
    assert removed.status_code == 303
    html = child.get("/p/q/0").get_data(as_text=True)
    assert html.count(" data-recorded") == 1
