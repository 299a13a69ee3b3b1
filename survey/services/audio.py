"""Read-aloud audio: made offline with espeak-ng and opusenc, found, and served from this host.

Where a text's audio comes from, first match wins:

1. a human recording for the item and language: uploaded in the console or dropped into
   ``instance/recordings/<instrument>/<language>/<key>.<ext>`` (``AW1.ogg`` for a question,
   ``AW1@A.ogg`` for band A's own wording, ``AW1.yes.ogg`` for its option ``yes``;
   :func:`instruments.audio.instrument_texts` names the keys), labelled as a recording;
2. the shipped files of the bundled consultation, ``survey/data/audio/<language>/<name>.opus``,
   with ``index.tsv`` saying the words of each (``sauti instruments audio build ID``);
3. files made here, in ``instance/audio/<name>.opus``: texts that depend on the consultation
   (the information and assent text with the organisation filled in, the helplines of the
   country profile) are noted when a page first shows them (``instance/audio/pending``) and
   made the first time a child presses play, from those exact words;
4. otherwise (no voice for the language, no synthesizer on this machine, or a text that shows
   the child's own earlier answer, which is never written to disk) the browser's own speech
   synthesis reads the words on the screen, where it has a voice for the language.

A synthetic file's name is a hash of the words, voice and settings
(:func:`instruments.audio.audio_name`), so it is served as immutable; the build is
deterministic (same text and voice, same bytes), so rebuilding never changes the shipped files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess  # nosec B404 - fixed programs, argument lists, no shell
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from instruments.audio import (
    AUDIO_NAME_RE,
    SpokenText,
    Voice,
    audio_name,
    instrument_texts,
    spoken,
    voice_for,
)
from instruments.model import Instrument

#: The shipped audio of the bundled consultation (one folder per language).
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "audio"
#: The file in each language folder that says the words of each shipped file.
INDEX = "index.tsv"
#: What a recording may be, and how it is served.
RECORDING_TYPES = {
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
}
#: The largest recording accepted (a minute of speech is well under this).
MAX_RECORDING_BYTES = 3 * 1024 * 1024
#: How often the recordings folder is looked at again for dropped-in files.
RESCAN_SECONDS = 5.0
BITRATE_KBPS = 24
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@\-]{0,120}$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")

# The child-facing interface texts with a play control, written ``said(_("..."))`` or
# ``listen(_("..."))`` in the templates: the build speaks them in every language.
_SAID_RE = re.compile(r"""(?:said|listen)\(_\("((?:[^"\\]|\\.)*)"\)\)""")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: The reserved answers beside every question (``survey.pages.builder``), spoken with them.
RESERVED_ANSWERS = ("I'd rather not say", "I don't know")


class SynthesizerMissing(RuntimeError):
    """espeak-ng or opusenc is not installed on this machine."""


def synthesizer_problem() -> str | None:
    """Why audio cannot be made on this machine, in plain words, or ``None`` when it can."""
    missing = [
        name for name, package in (("espeak-ng", "espeak-ng"), ("opusenc", "opus-tools")) if shutil.which(name) is None
    ]
    if not missing:
        return None
    return (
        "Read-aloud audio cannot be made on this computer: "
        + " and ".join(missing)
        + " "
        + ("is" if len(missing) == 1 else "are")
        + " not installed (on Debian or Ubuntu: apt-get install espeak-ng opus-tools). "
        "Children's browsers read the words aloud instead where they have a voice."
    )


#: The versions the shipped files were made with (the bytes depend on them).
TOOLS = "TOOLS.txt"


def synthesizer_versions() -> str:
    """espeak-ng's and opusenc's versions, e.g. ``espeak-ng 1.51; opusenc opus-tools 0.2 (libopus 1.3.1)``."""
    found = []
    for command in (["espeak-ng", "--version"], ["opusenc", "--version"]):
        path = shutil.which(command[0])
        if path is None:
            found.append(f"{command[0]} missing")
            continue
        out = subprocess.run([path, *command[1:]], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603 # nosec B603
        first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else command[0]
        found.append(re.sub(r"\s+Data at:.*$", "", first).strip())
    return "; ".join(found)


def synthesize(text: str, voice: Voice) -> bytes:
    """``text`` spoken by ``voice``: Ogg Opus, mono, 24 kbit/s, the same bytes every time.

    The stream serial number comes from the file name and no comment varies (no date, no
    tool path), so the output depends only on the words, the voice and the tool versions.
    """
    problem = synthesizer_problem()
    if problem:
        raise SynthesizerMissing(problem)
    words = spoken(text)
    if not words:
        raise ValueError("nothing to say")
    serial = int(audio_name(words, voice)[:7], 16)
    espeak, opusenc = shutil.which("espeak-ng"), shutil.which("opusenc")
    with tempfile.TemporaryDirectory(prefix="sauti-audio-") as folder:
        wav = os.path.join(folder, "speech.wav")
        out = os.path.join(folder, "speech.opus")
        # The words go in on standard input: never an argument a text could turn into an option.
        speak = [espeak, "-v", voice.name, "-s", str(voice.speed), "-b", "1", "--stdin", "-w", wav]
        subprocess.run(speak, input=words.encode(), check=True, capture_output=True, timeout=120)  # noqa: S603 # nosec B603
        encode = [
            opusenc,
            "--quiet",
            "--speech",
            "--bitrate",
            str(BITRATE_KBPS),
            "--comp",
            "10",
            "--downmix-mono",
            "--padding",
            "0",
            "--serial",
            str(serial),
            wav,
            out,
        ]
        subprocess.run(encode, check=True, capture_output=True, timeout=120)  # noqa: S603 # nosec B603
        return Path(out).read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# --------------------------------------------------------------------------- the shipped files
@dataclasses.dataclass(frozen=True)
class Shipped:
    """The shipped files: name -> path, and name -> words (from each language's index)."""

    paths: dict[str, Path]
    words: dict[str, tuple[str, str]]  # name -> (language, text)


_SHIPPED: Shipped | None = None


def shipped(folder: Path = SHIPPED) -> Shipped:
    """The shipped audio (read once per process)."""
    global _SHIPPED
    if _SHIPPED is not None and folder == SHIPPED:
        return _SHIPPED
    paths: dict[str, Path] = {}
    words: dict[str, tuple[str, str]] = {}
    if folder.is_dir():
        for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            for name, text in read_index(lang_dir / INDEX):
                if (lang_dir / name).is_file():
                    paths[name] = lang_dir / name
                    words[name] = (lang_dir.name, text)
    found = Shipped(paths, words)
    if folder == SHIPPED:
        _SHIPPED = found
    return found


def read_index(path: Path) -> list[tuple[str, str]]:
    """The (file name, words) pairs of a language's ``index.tsv``."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, text = line.partition("\t")
        if AUDIO_NAME_RE.match(name):
            rows.append((name, text))
    return rows


def shipped_sizes(folder: Path = SHIPPED) -> dict[str, tuple[int, int]]:
    """Per language: how many shipped files and their bytes."""
    sizes = {}
    for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else ():
        files = [lang_dir / name for name, _ in read_index(lang_dir / INDEX)]
        sizes[lang_dir.name] = (len(files), sum(f.stat().st_size for f in files if f.is_file()))
    return sizes


# --------------------------------------------------------------------------- what is spoken
def interface_texts(templates: Path = TEMPLATES) -> tuple[str, ...]:
    """The child-facing interface texts with a play control (``said(_("..."))`` in templates)."""
    found: dict[str, None] = dict.fromkeys(RESERVED_ANSWERS)
    for path in sorted(templates.rglob("*.html")):
        for match in _SAID_RE.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1).replace('\\"', '"')] = None
    return tuple(found)


def texts_to_build(instrument: Instrument | None, lang: str, translate=None) -> list[SpokenText]:
    """The fixed texts of ``instrument`` and of the interface in ``lang`` (``translate`` turns an
    interface text into ``lang``), without repeats."""
    found: dict[str, SpokenText] = {}
    if instrument is not None:
        for one in instrument_texts(instrument, lang):
            found.setdefault(one.text, one)
    if translate is not None:
        for message in interface_texts():
            text = spoken(translate(message))
            if text:
                found.setdefault(text, SpokenText("", text))
    return list(found.values())


@dataclasses.dataclass
class BuildReport:
    made: int = 0
    kept: int = 0
    removed: int = 0
    files: int = 0
    bytes: int = 0


def build_language(
    texts: Iterable[SpokenText], voice: Voice, folder: Path, *, prune: bool = False, index: bool = True, progress=None
) -> BuildReport:
    """Make the files of ``texts`` in ``folder`` (kept when already there), write its index (with
    ``index``) and, with ``prune``, remove files no text names any more."""
    report = BuildReport()
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, str] = {}
    for one in texts:
        name = audio_name(one.text, voice)
        rows[name] = spoken(one.text)
        path = folder / name
        if path.is_file():
            report.kept += 1
            continue
        _write_atomically(path, synthesize(one.text, voice))
        report.made += 1
        if progress:
            progress(report.made)
    if index:
        listing = "".join(f"{name}\t{text}\n" for name, text in sorted(rows.items()))
        _write_atomically(folder / INDEX, listing.encode())
    if prune:
        for path in folder.glob("*.opus"):
            if path.name not in rows:
                path.unlink()
                report.removed += 1
    report.files = len(rows)
    report.bytes = sum((folder / name).stat().st_size for name in rows)
    return report


@dataclasses.dataclass(frozen=True)
class Coverage:
    """One language's texts: how many, how many recorded, and those with no audio at all."""

    language: str
    voice: bool
    texts: int
    recorded: int
    missing: tuple[SpokenText, ...]


def coverage(instrument: Instrument, library: Library | None = None, translator=None) -> list[Coverage]:
    """Per language of ``instrument``: the texts without audio (no recording, no shipped file and,
    given the application's ``library``, none made in its instance folder).  ``translator(lang)``
    gives the interface texts' translation (without it only the instrument's texts count)."""
    rows = []
    for lang in instrument.language_codes:
        voice = voice_for(lang)
        texts = texts_to_build(instrument, lang, translator(lang) if translator else None)
        recorded = 0
        missing = []
        for one in texts:
            if library is not None and library.recording(instrument.id, lang, one.key):
                recorded += 1
                continue
            name = audio_name(one.text, voice) if voice else None
            if name and (name in shipped().paths or (library is not None and (library.made / name).is_file())):
                continue
            missing.append(one)
        rows.append(Coverage(lang, voice is not None, len(texts), recorded, tuple(missing)))
    return rows


# --------------------------------------------------------------------------- made on this host
class Library:
    """The audio of one application: its instance folder, recordings and the shipped files."""

    def __init__(self, instance_path: str, rescan_seconds: float = RESCAN_SECONDS) -> None:
        self.rescan_seconds = rescan_seconds
        self.made = Path(instance_path) / "audio"
        self.pending = self.made / "pending"
        self.recordings = Path(instance_path) / "recordings"
        self._noted: set[str] = set()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._recorded: dict[tuple[str, str], dict[str, Path]] = {}
        self._scanned: dict[tuple[str, str], tuple[float, float]] = {}
        self._missing_logged = False

    # -- synthetic files
    def url_name(self, text: str, lang: str) -> str | None:
        """The file name a page links to for ``text`` in ``lang`` (``None`` without a voice).

        A text that is neither shipped nor made yet is noted, so the first press makes it.
        """
        voice = voice_for(lang)
        words = spoken(text)
        if voice is None or not words:
            return None
        name = audio_name(words, voice)
        if name in self._noted or name in shipped().paths:
            return name
        if not (self.made / name).is_file() and not (self.pending / (name[:-5] + ".txt")).is_file():
            with contextlib.suppress(OSError):
                _write_atomically(self.pending / (name[:-5] + ".txt"), f"{voice.language}\t{words}".encode())
        self._noted.add(name)
        return name

    def path_of(self, name: str, logger=None) -> Path | None:
        """The file for ``name``: shipped, made here, or made now from its noted words."""
        if not AUDIO_NAME_RE.match(name):
            return None
        found = shipped().paths.get(name)
        if found is not None:
            return found
        path = self.made / name
        if path.is_file():
            return path
        note = self.pending / (name[:-5] + ".txt")
        try:
            lang, _, words = note.read_text(encoding="utf-8").partition("\t")
        except OSError:
            return None
        voice = voice_for(lang)
        if voice is None or audio_name(words, voice) != name:
            return None
        with self._lock:
            lock = self._building.setdefault(name, threading.Lock())
        with lock:  # one child's press makes it; the others wait for that file
            if path.is_file():
                return path
            try:
                _write_atomically(path, synthesize(words, voice))
            except SynthesizerMissing as error:
                if logger is not None and not self._missing_logged:
                    self._missing_logged = True
                    logger.warning(str(error))
                return None
            except (subprocess.SubprocessError, OSError):
                if logger is not None:
                    logger.exception("read-aloud audio could not be made")
                return None
        return path

    # -- recordings
    def _recordings_of(self, instrument_id: str, lang: str) -> dict[str, Path]:
        key = (instrument_id, lang)
        now = time.monotonic()
        seen = self._scanned.get(key)
        if seen is not None and now - seen[0] < self.rescan_seconds:
            return self._recorded.get(key, {})
        folder = self.recordings / instrument_id / lang  # only when scanning: every kept page asks
        found: dict[str, Path] = {}
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in RECORDING_TYPES and _KEY_RE.match(path.stem) and path.is_file():
                    found[path.stem] = path
        self._recorded[key] = found
        self._scanned[key] = (now, 0.0)
        return self._recorded.get(key, {})

    def recording(self, instrument_id: str | None, lang: str, key: str | None) -> Path | None:
        """The human recording of ``key`` (``AW1``, ``AW1.yes``) in ``lang``, if there is one."""
        if not instrument_id or not key or not _KEY_RE.match(key) or not _LANG_RE.match(lang or ""):
            return None
        if not _KEY_RE.match(instrument_id):
            return None
        return self._recordings_of(instrument_id, lang).get(key)

    def recordings_of(self, instrument_id: str, lang: str) -> dict[str, Path]:
        """Every recording of an instrument in a language: key -> file."""
        if not _KEY_RE.match(instrument_id) or not _LANG_RE.match(lang):
            return {}
        self._scanned.pop((instrument_id, lang), None)
        return dict(self._recordings_of(instrument_id, lang))

    def recording_file(self, instrument_id: str, lang: str, file_name: str) -> Path | None:
        """A recording by its file name (the URL's last part), or ``None``."""
        stem, suffix = os.path.splitext(file_name)
        found = self.recording(instrument_id, lang, stem)
        return found if found is not None and found.suffix.lower() == suffix.lower() else None

    def generation(self, instrument_id: str, lang: str) -> tuple:
        """What the recordings of an instrument in a language are just now (a kept page names
        the files it links, so it is kept per generation)."""
        if not _KEY_RE.match(instrument_id or "") or not _LANG_RE.match(lang or ""):
            return ()
        return tuple(
            (key, path.stat().st_mtime_ns)
            for key, path in sorted(self._recordings_of(instrument_id, lang).items())
            if path.exists()
        )

    def save_recording(self, instrument_id: str, lang: str, key: str, file_name: str, data: bytes) -> Path:
        """Store an uploaded recording for ``key`` in ``lang`` (replacing any earlier one).

        Raises ``ValueError`` with a plain message for a file that is not a sound file Sauti
        can serve, an empty or too large file, or a key or language that cannot be a name.
        """
        suffix = os.path.splitext(file_name or "")[1].lower()
        if suffix not in RECORDING_TYPES:
            raise ValueError("Upload an Ogg, Opus, MP3, M4A or WAV sound file.")
        if not data:
            raise ValueError("The file is empty.")
        if len(data) > MAX_RECORDING_BYTES:
            raise ValueError("The file is too large: a recording may be at most 3 MB.")
        if not _sound_bytes(data, suffix):
            raise ValueError("The file is not a sound file of the kind its name says.")
        if not _KEY_RE.match(key) or not _KEY_RE.match(instrument_id) or not _LANG_RE.match(lang):
            raise ValueError("Choose a question or option and a language.")
        folder = self.recordings / instrument_id / lang
        for old in folder.glob(f"{key}.*") if folder.is_dir() else ():
            if old.stem == key and old.suffix.lower() in RECORDING_TYPES:
                old.unlink()
        path = folder / f"{key}{suffix}"
        _write_atomically(path, data)
        self._scanned.pop((instrument_id, lang), None)
        return path

    def delete_recording(self, instrument_id: str, lang: str, key: str) -> bool:
        found = self.recording(instrument_id, lang, key)
        if found is None:
            return False
        found.unlink()
        self._scanned.pop((instrument_id, lang), None)
        return True


def _sound_bytes(data: bytes, suffix: str) -> bool:
    if suffix in (".ogg", ".opus"):
        return data[:4] == b"OggS"
    if suffix == ".mp3":
        return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    if suffix == ".wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    return data[4:8] == b"ftyp"  # .m4a


def init_app(app) -> None:
    """One :class:`Library` per application, on ``app.extensions['sauti_audio']``."""
    app.extensions["sauti_audio"] = Library(
        app.instance_path, float(app.config.get("AUDIO_RESCAN_SECONDS", RESCAN_SECONDS))
    )


def library() -> Library:
    from flask import current_app

    return current_app._get_current_object().extensions["sauti_audio"]
