"""Free-text screener: a labelled corpus, offline, and the review gate."""

import itertools
import socket

import pytest

from analysis.disclosure import DisclosureError
from analysis.textscreen import (
    ReleasedQuote,
    ScreenedText,
    parse_name_list,
    release_quote,
    screen_text,
    screen_texts,
)

NAMES = ["Amina", "Wanjiru", "Otieno", "Chidi", "Fatuma", "Baraka", "Lucía", "João"]
SCHOOLS = ["Kibera Hope Academy", "St Mary's Primary", "Escola Viva"]
PHONES = [
    "0712 345 678",
    "+254 712 345 678",
    "07123 456789",
    "+44 7700 900123",
    "0800-123-4567",
    "+33 6 12 34 56 78",
    "(020) 7946 0958",
]
EMAILS = ["amina.k@mail.com", "big_boi99@yahoo.co.uk", "x+y@school.ac.ke"]
URLS = ["https://tiktok.com/@bigboi.99", "www.example.org/page", "instagram.com/wanjiru_k"]
HANDLES = ["@amina_2011", "@bigboi.99", "@chidi.o"]
TEMPLATES = {
    "PHONE": ["call me on {}", "nipigie {}", "appelle-moi au {}", "mi número es {}", "meu número {} ok"],
    "EMAIL": ["write to {}", "niandikie {}", "écris à {} stp"],
    "URL": ["see {} for my videos", "angalia {}"],
    "HANDLE": ["follow me {}", "DM {} on insta"],
    "NAME": [
        "my friend {} told a teacher",
        "{} helped me",
        "I would tell {} first",
        "rafiki yangu {} alisema",
        "mon amie {} m'a aidé",
    ],
    "SCHOOL": ["at {} we have a worry box", "{} should have posters"],
}
VALUES = {"PHONE": PHONES, "EMAIL": EMAILS, "URL": URLS, "HANDLE": HANDLES, "NAME": NAMES, "SCHOOL": SCHOOLS}


def corpus():
    out = []
    for kind, temps in TEMPLATES.items():
        for t, v, pre in itertools.product(temps, VALUES[kind], ("", "Sorry, ", "ok so ")):
            out.append((pre + t.format(v), kind, v))
    return out


@pytest.fixture
def offline(monkeypatch):
    def refuse(*a, **k):
        raise OSError("network used by the screener")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_labelled_corpus_recall(offline):
    data = corpus()
    assert len(data) >= 200
    hits = {k: [0, 0] for k in TEMPLATES}
    for text, kind, value in data:
        s = screen_text(text, names=NAMES, schools=SCHOOLS)
        hits[kind][1] += 1
        if value.lower() not in s.redacted.lower() and s.pii:
            hits[kind][0] += 1
    for kind, (ok, n) in hits.items():
        need = 0.99 if kind in ("PHONE", "EMAIL", "URL", "HANDLE") else 0.95
        assert ok / n >= need, f"{kind}: {ok}/{n}"


def test_patterns_in_several_languages():
    cases = {
        "my name is Grace and I am in class 7B": ("NAME", "CLASS"),
        "naitwa Baraka, darasa 6": ("NAME", "CLASS"),
        "je m'appelle Zoé": ("NAME",),
        "me llamo Carla": ("NAME",),
        "meu nome é Pedro": ("NAME",),
        "Mr Otieno is kind": ("NAME",),
        "mwalimu Kamau anasaidia": ("NAME",),
        "I live at 12 Acacia Road": ("ADDRESS",),
        "P.O. Box 4521 Nairobi": ("ADDRESS",),
        "j'habite 5 rue des Lilas": ("ADDRESS",),
        "SW1A 1AA is my postcode": ("POSTCODE",),
        "born 12/03/2012": ("DATE",),
    }
    for text, kinds in cases.items():
        s = screen_text(text)
        for k in kinds:
            assert k in s.pii, (text, s.redacted)
    assert screen_text("Grace is a nice word and 116 111 is the helpline").pii == ()


def test_concerns_flagged_before_redaction():
    for text, lang in [
        ("my uncle touched me", "en"),
        ("baba ananipiga kila siku", "sw"),
        ("il me frappe", "fr"),
        ("mi padrastro me pega", "es"),
        ("ele me bate", "pt"),
        ("I want to kill myself", "en"),
    ]:
        s = screen_text(text)
        assert s.safeguarding and any(c.startswith(lang) for c in s.concerns), text
    assert not screen_text("I would use the chat because it is private").safeguarding


def test_release_requires_screening_review_and_rules():
    ok = screen_text("A chat that answers quickly and does not ask my name")
    q = release_quote(ok, released=True, reviewer="dsl-1", band="B")
    assert isinstance(q, ReleasedQuote) and "<" not in q.text
    with pytest.raises(DisclosureError, match="reviewed"):
        release_quote(ok, released=False, reviewer="dsl-1", band="B")
    with pytest.raises(DisclosureError, match="band A"):
        release_quote(ok, released=True, reviewer="dsl-1", band="A")
    with pytest.raises(DisclosureError, match="safeguarding"):
        release_quote(screen_text("he hurts me"), released=True, reviewer="x", band="C")
    with pytest.raises(DisclosureError, match="25 words"):
        release_quote(screen_text("word " * 30), released=True, reviewer="x", band="C")
    with pytest.raises(DisclosureError, match="screened"):
        release_quote("raw text", released=True, reviewer="x", band="C")
    with pytest.raises(TypeError):
        ScreenedText("x", (), (), 1)
    with pytest.raises(TypeError):
        ReleasedQuote("x", "B", "r")


def test_a_batch_gives_one_row_per_text():
    # The throughput (at least 500 texts a second) is measured in bench/guard_speed.py.
    texts = [t for t, _, _ in corpus()] * 5
    df = screen_texts(texts, names=NAMES, schools=SCHOOLS)
    assert len(df) == len(texts)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        # found by an independent review (session 11): full names without a title were kept
        ("my friend Amina Hassan would help me", "my friend <NAME> would help me"),
        ("I'd ask my best friend Sarah Johnson", "I'd ask my best friend <NAME>"),
        ("Kevin Omondi from class can help", "<NAME> from class can help"),
        ("mi amiga María González me ayudaría", "mi amiga <NAME> me ayudaría"),
        ("rafiki yangu Baraka Mutua angenisaidia", "rafiki yangu <NAME> angenisaidia"),
        ("our neighbour Peter Otieno touches me", "our neighbour <NAME> touches me"),
        ("my friend's dad, Mark Evans, sends me messages", "my friend's dad, <NAME>, sends me messages"),
        ("mon amie Chloé Martin dit que", "mon amie <NAME> dit que"),
        ("Jean-Pierre Mbala me frappe", "<NAME> me frappe"),
        # the title stays, and the Arabic "or" after a name is not part of it
        ("I told Mr Otieno Kamau", "I told Mr <NAME>"),
        ("أخبر الأستاذ محمد العلي أو المعلمة", "أخبر الأستاذ <NAME> أو المعلمة"),
        # found by an independent review (session 12): the verb after an Arabic name was taken for
        # a second name, so the lead read only "the teacher <NAME>"
        ("الاستاذ احمد يضربني", "الاستاذ <NAME> يضربني"),
        ("المعلم خالد بيضربنا بالعصا", "المعلم <NAME> بيضربنا بالعصا"),
        ("الشيخ عمر لمسني", "الشيخ <NAME> لمسني"),
        ("الاستاذ يضربني", "الاستاذ يضربني"),
        ("المعلمة تهاني لطيفة", "المعلمة <NAME> لطيفة"),
        # someone else's name introduced, in any case (the review, session 12); only one word
        # after it, as a verb may follow
        ("my teacher is called otieno", "my teacher is called <NAME>"),
        ("mwalimu wetu anaitwa otieno ananipiga", "mwalimu wetu anaitwa <NAME> ananipiga"),
        ("mon voisin s'appelle karim il me suit", "mon voisin s'appelle <NAME> il me suit"),
        ("el entrenador se llama jorge", "el entrenador se llama <NAME>"),
        ("المدرب اسمه سامي", "المدرب اسمه <NAME>"),
        ("ismi fatima w 3omri 12", "ismi <NAME> w 3omri 12"),
        ("I called my mum", "I called my mum"),
        # single names in a list (second review, session 12: each reached the lead)
        ("Wanjiru, Achieng and Peter beat me", "<NAME>, <NAME> and <NAME> beat me"),
        ("Juma na Baraka wananipiga", "<NAME> na <NAME> wananipiga"),
        ("Marie et Paul me frappent", "<NAME> et <NAME> me frappent"),
        ("Ana y Luis me pegan", "<NAME> y <NAME> me pegan"),
        ("Kevin Omondi and Peter hurt me", "<NAME> and <NAME> hurt me"),
        # capitals that name nobody stay
        ("I like TikTok, Snapchat and YouTube", "I like TikTok, Snapchat and YouTube"),
        ("my Mum, Dad and Nana know", "my Mum, Dad and Nana know"),
        # a list needs a conjunction, and family words, subjects and sentence openers are not names
        # in one (code review, session 13: each was taken out by the first version of the list rule)
        ("Yesterday, Peter hit me", "Yesterday, Peter hit me"),
        ("Sorry, Please help me", "Sorry, Please help me"),
        ("History, Geography and Art", "History, Geography and Art"),
        ("Yesterday, Peter and John hit me", "Yesterday, <NAME> and <NAME> hit me"),
        # before a name, a family word still makes a full name (the review: "Grandma Wanjiku" was
        # kept while family words were taken for words that name nobody)
        ("Grandma Wanjiku hits me", "<NAME> hits me"),
        # black-box review, session 13: a possessive name and a Swahili "X's father" reached the
        # lead; an Arabizi verb after "bi" was taken for a name, hiding what was reported
        ("Fatima's dad touched me at her house", "<NAME>'s dad touched me at her house"),
        ("baba yake Amina alinigusa", "baba yake <NAME> alinigusa"),
        ("baba bi drabni kel yom", "baba bi drabni kel yom"),
        ("Bi Achieng ananipiga", "Bi <NAME> ananipiga"),
        ("It's my uncle, Mum's friend too", "It's my uncle, Mum's friend too"),
        ("Papa Diouf me frappe", "<NAME> me frappe"),
        ("I would call Child Helpline or use WhatsApp", "I would call Child Helpline or use WhatsApp"),
        ("On Monday I told my Mum And Dad", "On Monday I told my Mum And Dad"),
        ("Free Fire is fun, I Love it", "Free Fire is fun, I Love it"),
        ("My friend is nice", "My friend is nice"),
        # session 14: an Arabic name after a relative or a friend reached the lead (Arabic has no
        # capitals to mark it); the verb that says what was done stays
        ("عمي أحمد يلمسني", "عمي <NAME> يلمسني"),
        ("بنت عمي سارة بتتضرب", "بنت عمي <NAME> بتتضرب"),
        ("جارنا خالد بيبعتلي صور", "جارنا <NAME> بيبعتلي صور"),
        ("عمي يضربني", "عمي يضربني"),
        ("خالتي طيبة", "خالتي طيبة"),
        ("عمي دايما بيضربني", "عمي دايما بيضربني"),
        # the code review of that change: the act after a relative is never taken for a name, a
        # compound name ("عبد الله") stays one name, names ending like a verb ("نيللي") go, and
        # "و", "عمو", "خالو", "ابن الجيران" introduce a name too
        ("عمي بيعمل فيا حاجات مش كويسه", "عمي بيعمل فيا حاجات مش كويسه"),
        ("عمي دخل غرفتي بالليل", "عمي دخل غرفتي بالليل"),
        ("عمي خنقني", "عمي خنقني"),
        ("صاحبي أرسل لي صورة مش حلوة", "صاحبي أرسل لي صورة مش حلوة"),
        ("صديقتي انتحرت", "صديقتي انتحرت"),
        ("عمي سكران كل يوم", "عمي سكران كل يوم"),
        ("عمي الكبير بيضربني", "عمي الكبير بيضربني"),
        ("اسمي عبد الله محمود", "اسمي <NAME>"),
        ("المعلمة نيللي بتضربني", "المعلمة <NAME> بتضربني"),
        ("وعمي احمد بيلمسني", "وعمي <NAME> بيلمسني"),
        ("عمو سمير بيضربني", "عمو <NAME> بيضربني"),
        ("ابن الجيران محمد بيبعتلي صور", "ابن الجيران <NAME> بيبعتلي صور"),
        ("عمي يوسف بيضربني", "عمي <NAME> بيضربني"),
    ],
)
def test_full_names_are_removed_with_or_without_a_title(text: str, redacted: str) -> None:
    assert screen_text(text).redacted == redacted


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        # found by an independent review (session 12): a listed name's parts and its hyphenated
        # form stayed in
        ("i would tell otieno", "i would tell <NAME>"),
        ("Wekesa is kind", "<NAME> is kind"),
        ("Otieno-Wekesa shouts at us", "<NAME> shouts at us"),
        ("mr otieno wekesa", "<NAME>"),
        ("Mrs Achieng helps", "<NAME> helps"),
        # a title is not a part of the name
        ("i told mr and he listened", "i told mr and he listened"),
    ],
)
def test_a_listed_name_is_removed_whole_in_parts_or_hyphenated(text: str, redacted: str) -> None:
    assert screen_text(text, names=parse_name_list("Mr Otieno Wekesa, Mrs Achieng")).redacted == redacted
