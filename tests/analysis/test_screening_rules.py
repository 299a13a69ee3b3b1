"""Concern screening (issue 16): every interface language has rules; written disclosures are
flagged and ordinary answers about reporting are not; the text is folded before matching."""

from __future__ import annotations

from pathlib import Path

import pytest

import survey
from analysis.concerns import find_concerns, fold, neutralise, parse_rules, rule_languages, rules_for, words
from analysis.textscreen import parse_name_list, screen_text

DATA = Path(__file__).parent / "data" / "screening"


def interface_languages() -> list[str]:
    """English (the source language) and every catalogue under survey/translations/."""
    folder = Path(survey.__file__).parent / "translations"
    return sorted({"en"} | {p.name for p in folder.iterdir() if p.is_dir()})


def test_every_interface_language_has_concern_rules_and_an_evaluation_set() -> None:
    languages = interface_languages()
    assert {"en", "fr", "es", "ar", "sw"} <= set(languages)
    missing = [lang for lang in languages if lang not in rule_languages()]
    assert missing == [], f"no concern rules (analysis/screening/<lang>.yaml) for {missing}"
    for lang in languages:
        assert rules_for(lang).rules, lang
        assert (DATA / f"{lang}.tsv").exists(), f"no labelled sentences for {lang}"


@pytest.mark.parametrize(
    "text, category",
    [
        # the findings of issue 16, word for word
        ("my uncle touches my private parts and I want to end my life", "sexual_abuse"),
        ("my uncle touches my private parts and I want to end my life", "self_harm"),
        ("my stepdad comes into my room at night and does things", "sexual_abuse"),
        ("a man keeps asking me to send photos of my body", "online_exploitation"),
        ("he said he will share my photos with everyone if I don't send more", "online_exploitation"),
        ("عمي يلمسني وبدي موت", "sexual_abuse"),
        ("ابي يضربني كل يوم", "physical_abuse"),
        ("أريد أن أنتحر", "self_harm"),
        ("طلب مني صور عارية", "online_exploitation"),
    ],
)
def test_the_disclosures_of_the_issue_are_flagged(text: str, category: str) -> None:
    screened = screen_text(text)
    assert screened.safeguarding and category in screened.categories, screened.concerns


def test_folding_case_accents_arabic_letters_diacritics_tatweel_and_repeats() -> None:
    assert fold("ÉCOLE Niño") == "ecole nino"
    # alef forms, ta marbuta, alef maqsura, diacritics and tatweel
    assert fold("أَنَا إِلى آمنة مدرسةٌ عـــلى") == fold("انا الي امنه مدرسه علي")
    assert words("pleeeease he hiiiits meee") == ["please", "he", "hits", "me"]
    assert words("I'm gonna kms", replace=rules_for("en").replace) == ["i", "am", "going", "to", "kil", "myself"]
    # the same disclosure, however it is spelt
    for variant in ("he HITS me", "he hiiits meee", "hé hits mé", "He hits me!!!"):
        assert "physical_abuse" in screen_text(variant).categories, variant
    for variant in ("ابي يضربني", "أبي يَضْرِبُنِي", "ابي يضـــربني", "ابي يضرررربني"):
        assert "physical_abuse" in screen_text(variant).categories, variant


def test_text_speak_sheng_and_mixed_languages() -> None:
    for text in (
        "sum1 on snap wants pics of me wiv no clothes",
        "im gonna kms",
        "u cant tell ur mum its our secret",
        "uncle ananitouch kwa private parts",
        "jamaa wa insta ananiitisha nudes",
        "dadi hunichapa daily",
        "jsuis frappée par mon beau pere",
        "kiero morirme xq nadie me kiere",
    ):
        assert screen_text(text).safeguarding, text


def test_hypotheticals_advice_and_denials_are_not_disclosures() -> None:
    for text in (
        "if someone touched me i would tell my mum",
        "my dad never hits me",
        "children should learn what abuse is",
        "if a stranger asks for nudes block them",
        "si quelqu un me frappe je le dis a la maitresse",
        "kama mtu akikupiga mwambie mwalimu",
        "اذا حدا ضربك احكي للمعلم",
        "si alguien te pide fotos bloquealo",
    ):
        assert not screen_text(text).safeguarding, text


def test_a_rule_file_is_checked_when_read() -> None:
    with pytest.raises(ValueError, match="category"):
        parse_rules({"rules": [{"id": "x", "category": "other", "all": [["hit"]]}]}, "xx")
    with pytest.raises(ValueError, match="no group named"):
        parse_rules({"rules": [{"id": "x", "category": "threats", "all": ["NOPE"]}]}, "xx")
    custom = parse_rules(
        {
            "groups": {"ME": ["me"]},
            "rules": [{"id": "bonk", "category": "physical_abuse", "all": [["bonk*"], "ME"], "window": 2}],
        },
        "xx",
    )
    assert [c.label for c in find_concerns("he bonks me", [custom])] == ["xx:bonk"]
    assert find_concerns("he bonks the ball at me", [custom]) == ()


def test_a_replace_key_that_repeated_letters_would_change_is_refused() -> None:
    # Text-speak keys are looked up after repeated letters are folded: "tt" (tout) became "t", so
    # every elided "t'" read as "tout"; "mm" (meme) and "m" (me) were the same key.
    with pytest.raises(ValueError, match="single letter"):
        parse_rules({"replace": {"tt": "tout"}}, "xx")
    with pytest.raises(ValueError, match="same word"):
        parse_rules({"replace": {"msee": "mtu", "mse": "mtu"}}, "xx")
    french = rules_for("fr")
    assert words("il t'a dit de pas le dire", french.apostrophe, french.replace) == [
        "il", "t", "a", "dit", "de", "pas", "le", "dire",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text, leaked",
    [
        ("Mr Otieno is kind", "Otieno"),
        ("mr otieno helped me", "otieno"),
        ("I told Mr. Otieno Kamau", "Kamau"),
        ("my name is Amina Wanjiru", "Wanjiru"),
        ("my name is amina wanjiru and i am 9", "wanjiru"),
        ("Mrs Achieng helped", "Achieng"),
        ("Ms Njeri and Miss Wambui", "Wambui"),
        ("Dr Mwangi", "Mwangi"),
        ("Teacher Otieno listens", "Otieno"),
        ("mwalimu Kamau anasaidia", "Kamau"),
        ("Bw Mwangi na Bi Halima", "Halima"),
        ("M. Dupont est gentil", "Dupont"),
        ("Mme Durand m'écoute", "Durand"),
        ("je m'appelle Zoé Martin", "Martin"),
        ("el Sr. Gómez y la Sra. López", "López"),
        ("me llamo Carla Pérez y tengo 11", "Pérez"),
        ("الأستاذ أحمد لطيف", "أحمد"),
        ("السيد محمود يساعدنا", "محمود"),
        ("اسمي أمينة", "أمينة"),
    ],
)
def test_names_after_titles_and_introductions_are_removed(text: str, leaked: str) -> None:
    screened = screen_text(text)
    assert leaked not in screened.redacted and "NAME" in screened.pii, screened.redacted


def test_ordinary_words_after_titles_are_kept() -> None:
    for text in ("the teacher said no", "I miss my mum", "mwalimu wangu ni mpole", "my teacher is kind"):
        assert screen_text(text).redacted == text


def test_the_facilitators_list_takes_names_of_several_words() -> None:
    assert parse_name_list("Mrs Achieng\nKibera Hope Academy, Baraka;Otieno") == [
        "Mrs Achieng",
        "Achieng",
        "Kibera Hope Academy",
        "Baraka",
        "Otieno",
    ]
    assert parse_name_list("") == [] and parse_name_list(None) == []
    names = parse_name_list("Mrs Achieng\nKibera Hope Academy")
    redacted = screen_text("Achieng and mrs  achieng said Kibera Hope\nAcademy is far", names=names).redacted
    assert "chieng" not in redacted and "Kibera" not in redacted and "far" in redacted


@pytest.mark.parametrize(
    "text",
    [
        # idioms and game or play talk (fifth round): no rule fires on them, in any language
        "my sister destroys me at mario kart every single time",
        "my dad is gonna murder me when he sees my phone bill lol",
        "my cousin threw a water balloon at me haha",
        "im literally dying of boredom in maths",
        "mon cousin me defonce a fortnite a chaque fois",
        "ma mere va me tuer si je rate encore le bus",
        "ma soeur m a tape avec un oreiller trop fort mdr",
        "mi papa me va a matar si pierdo otra vez las llaves",
        "mi prima me aventó con un cojin jajaja",
        "hoy me toca lavar los trastes",
        "me muero de risa con mis amigos",
        "kaka hunifunga kila mara kwa fifa",
        "dada alinipiga na pillow tukicheza",
        "baba ataniua nikipoteza simu tena",
        "اخوي يغلبني كل مرة بفيفا",
        "اختي ضربتني بالمخدة واحنا بنلعب",
        "امي رح تقتلني اذا رسبت بالرياضيات",
        "اموت على الشوكولا",
    ],
)
def test_idioms_and_game_talk_fire_no_rule(text: str) -> None:
    assert find_concerns(text, model=None) == (), find_concerns(text, model=None)


@pytest.mark.parametrize(
    "text",
    [
        # the same words said of harm, or of a threat for telling: the idioms are narrow
        "my stepdad said he will kill me if i tell anyone",
        "my dad beats me at home when he is drunk",
        "il a dit qu il va me tuer si je le dis",
        "mi padrastro me va a matar si le cuento a alguien",
        "baba ananipiga kila siku nyumbani",
        "رح يقتلني اذا قلت لحدا",
        # Kiswahili "-nigusa" with a body part, "his thing" or an insult for a man as the subject:
        # the noun classes of "a film moved me" (ilinigusa), so an idiom for that would take these
        # out (tried in session 21 and taken back after a review)
        "mikono yake ilinigusa kifuani tukiwa peke yetu",
        "kitu chake kilinigusa mapajani",
        "lile jitu la duka lilinigusa vibaya",
        "vidole vyake vilinigusa ndani ya chupi yangu",
        "kijitu kile cha jirani kimenigusa tena leo",
    ],
)
def test_the_idioms_leave_disclosures_with_the_same_words_alone(text: str) -> None:
    assert find_concerns(text, model=None), text


def test_neutralise_takes_out_only_the_idiom() -> None:
    assert neutralise(fold("He BEATS me at FIFA lol")).split() == ["he", "lol"]
    assert neutralise(fold("my mum will kiiill me if i fail")).split() == ["my", "mum", "will"]
    assert neutralise(fold("he beats me at home")) == "he beats me at home"


@pytest.mark.parametrize(
    "text, category",
    [
        # families of the fourth reviewer's misses, in wording of their own, in every language
        ("honestly im just tired of living", "self_harm"),
        ("je suis fatiguee de vivre", "self_harm"),
        ("estoy cansada de vivir la verdad", "self_harm"),
        ("nimechoka kuishi kabisa", "self_harm"),
        ("تعبت من الحياه خلاص", "self_harm"),
        ("no one washes my clothes and the kids say i smell", "neglect"),
        ("personne lave mes vetements depuis des semaines", "neglect"),
        ("nadie lava mi ropa y en la escuela se burlan", "neglect"),
        ("hakuna anayenifulia nguo na shuleni wananicheka", "neglect"),
        ("محدا بيغسل تيابي وبالمدرسة بيضحكوا علي", "neglect"),
        (
            "they brought me here saying i would go to school but i look after their kids and sleep on the floor",
            "trafficking",
        ),
        ("ils m ont amene ici pour aller a l ecole mais je fais le menage et je dors par terre", "trafficking"),
        ("me trajeron para estudiar pero cuido a sus hijos y duermo en el suelo", "trafficking"),
        ("walinileta mjini nisome shule lakini nalea watoto wao bila malipo", "trafficking"),
        ("جابوني عشان ادرس بس انا بربي ولادهم وبنام على الارض", "trafficking"),
        ("a mi hermano lo tienen de halcon en la colonia", "trafficking"),
        ("my dad took off his belt again last night", "physical_abuse"),
        ("mon beau pere a sorti sa ceinture hier", "physical_abuse"),
        ("mi mama saco la chancla otra vez y me dejo marcas", "physical_abuse"),
        ("baba alitoa mkanda jana usiku", "physical_abuse"),
        ("ابوي طلع الحزام مرة ثانية", "physical_abuse"),
        ("they said if he tells the teacher they will break his arm", "threats"),
        ("wamesema akiambia mwalimu watamvunja mkono", "threats"),
        ("my stepgrandad pulls me onto his lap and it feels wrong", "sexual_abuse"),
        ("el vecino me sube a sus piernas y me da asco", "sexual_abuse"),
        ("mon parrain me prend sur ses genoux et je suis mal a l aise", "sexual_abuse"),
        ("mjomba huniweka mapajani na sipendi", "sexual_abuse"),
        ("خالي بيحطني بحضنه وبحس انو غلط", "sexual_abuse"),
        ("at home im the one who gets beaten not my sister", "physical_abuse"),
        ("chez moi c est moi qui prend les claques", "physical_abuse"),
        ("en mi casa el que recibe los golpes soy yo", "physical_abuse"),
        # session 14: a sister or cousin "is being beaten" (the passive) was read by no rule
        ("بنت عمي سارة بتتضرب", "physical_abuse"),
        ("اخويا بيتضرب في البيت", "physical_abuse"),
        # session 14: disclosures that leaving each independent set out still missed (training sets)
        ("رسلت ليهو صوره وهسي داير قروش", "online_exploitation"),
        ("بعثتلو تصويرة وتوا يحب فلوس", "online_exploitation"),
        ("سووا لي صورة مفبركة بالذكاء الاصطناعي وقاعدين يتداولونها بالمدرسة", "online_exploitation"),
        ("خويا لكبير يدير فيا حوايج ماشي مليحة", "sexual_abuse"),
        ("ويمكنني الحديث عما يفعله بي زوج امي", "sexual_abuse"),
        ("اخوي الصغير عيان شديد وابوي رافض يوديهو الدكتور", "neglect"),
        ("قالي ايلا هدرت نقتلك", "threats"),
        ("قال لو كلمت زول بكتلني", "threats"),
        ("رحت للسطح امس عشان انط بس خفت", "self_harm"),
        ("كتبت رسالة لاختي الصغيرة احسن لو صار لي شي", "self_harm"),
        ("عم فكر كيف بدي ودع صحابي من دون ما يحسوا", "self_harm"),
        ("ابوي اذا عرف بيقتلني فعلا مو مزح", "threats"),
        ("بتقول يوم الخميس الداية جاية تطاهرني زي اختي", "physical_abuse"),
        ("ils veulent m exciser pendant les vacances", "physical_abuse"),
        ("wanataka kunikeketa likizo hii", "physical_abuse"),
        # and from the code review of those rules
        ("ماما بدها تطهرني الصيف الجاي", "physical_abuse"),
        ("عمتي قالت لازم يختنوني", "physical_abuse"),
        ("ارسلت له صوري وهو الان يطلب مني فلوس", "online_exploitation"),
        ("عمي بيعمل فيا حاجات مش كويسه", "sexual_abuse"),
    ],
)
def test_the_fifth_round_families_are_flagged_by_the_rules(text: str, category: str) -> None:
    assert category in {c.category for c in find_concerns(text, model=None)}, find_concerns(text, model=None)


@pytest.mark.parametrize(
    "text",
    [
        # the session-14 Arabic rules' ordinary neighbours: a grandmother's Eid money for photos, a
        # boy's circumcision feast, a birthday letter, a coach's help, a child afraid of needles
        "بعثت صور العيد لجدتي وبعتتلي فلوس العيدية",
        "طهروا اخوي الصغير الاسبوع الماضي وعملنا عزومة",
        "كتبت رسالة لصاحبتي بعيد ميلادها",
        "اللي عمله فيني المدرب خلاني العب احسن",
        "مش عايز اروح للدكتور بخاف من الابر",
        "ودعت صحابي قبل ما نسافر وكان يوم حلو",
        # the code review's: a doctor's tests, a teacher's kindness, a trampoline, an airport, a
        # letter to a grandfather who died, a child or grandfather who will not go to the doctor,
        # a lesson, a brother's circumcision feast, an injection, the times table
        "دار فيا الطبيب شي فحوصات وقال انا بخير",
        "الاستاذ عمل فيا حاجه حلوه يوم عيد ميلادي",
        "رحت النادي عشان انط على الترامبولين",
        "ودعت صاحبي في المطار بدون ما يحسوا اني زعلانه",
        "بكتب رساله لجدي اللي مات لما اموت اشوفه بالجنه",
        "رافض اروح للدكتور لاني خايف من الابره",
        "جدي مريض بس مش راضي يروح المستشفى",
        "اختي سألت عن الختان في المدرسة",
        "اختي فرحانه بختان اخوي الصغير",
        "اختي اتضربت ابرة في المستشفى",
        "لو كلمت الاستاذ بيشرحلي جدول الضرب",
    ],
)
def test_the_session_14_rules_leave_ordinary_answers_alone(text: str) -> None:
    assert not find_concerns(text, model=None), find_concerns(text, model=None)


def test_an_idiom_counts_for_nothing_with_the_model_either() -> None:
    """The model reads the answer with the idiom taken out, and a disclosure beside it still counts."""
    from analysis.concernmodel import load_model

    model = load_model()
    text = "my dad is gonna kill me if i fail maths"
    neutral = neutralise(fold(text))
    assert "kill" not in neutral and "dad" in neutral  # the idiom goes, the rest is still read
    assert model.probability(neutral) < model.flag_at and not screen_text(text).safeguarding
    assert screen_text("my brother beats me at fifa but my stepdad touches me at night").safeguarding
