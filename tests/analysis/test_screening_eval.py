"""How well the concern screener does on the labelled sentences (issue 16), and what each figure
may claim.

The rules were tuned on every labelled set and the shipped model is trained on all of them, so
their figures on these sets are bounds that guard against regressions, not a measure of unseen
wording (tests/analysis/data/screening/README.md).  The fair claim is cross-validated: the model
trained without a reviewer's set and scored on it, together with the rules.  bench/screening.py
prints every figure per language and set.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.concernmodel import (
    REVIEWERS_SETS,
    C,
    ConcernModel,
    cross_check,
    features,
    figures,
    fit,
    from_bytes,
    labelled_sets,
    load_model,
    readers,
    to_bytes,
    training_fingerprint,
)
from analysis.concerns import CATEGORIES, MODEL_CONCERN, evaluate, find_concerns, fold, rules_for
from analysis.textscreen import screen_text

DATA = Path(__file__).parent / "data" / "screening"
LANGUAGES = ("en", "fr", "es", "ar", "sw")
RECALL_AT_LEAST = 0.95
FALSE_POSITIVES_AT_MOST = 0.10


@pytest.fixture(scope="module")
def sets() -> dict[str, list[tuple[str, bool, str]]]:
    return labelled_sets(DATA)


def _per_language(rows, model=None):
    kwargs = {} if model is None else {"model": model}
    return {
        lang: evaluate(((label, text) for row_lang, label, text in rows if row_lang == lang), **kwargs)
        for lang in LANGUAGES
    }


def test_every_set_has_every_language_and_the_main_set_every_category(sets) -> None:
    assert {"main", "dev", "heldout", "heldout-2"} <= set(sets)
    for name, rows in sets.items():
        # training-3 is training material only: everyday complaints, with a few disclosures in the same words
        # training-8: short everyday sentences about family, with a few disclosures in the same words
        least = 10 if name in ("training-3", "training-8") else 20
        # training-7 is Arabic in Latin letters (Arabizi) only; training-10 Arabic ordinary answers;
        # training-11 Arabic, French and Kiswahili (the languages with the most false alarms);
        # training-20 English hard ordinary answers, Kiswahili and Arabic; training-21 all but English;
        # training-22 Arabic and English hard ordinary answers
        only = {
            "training-7": ("ar",),
            "training-10": ("ar",),
            "training-11": ("ar", "fr", "sw"),
            "training-20": ("ar", "en", "sw"),
            "training-21": ("ar", "fr", "es", "sw"),
            "training-22": ("ar", "en"),
        }
        for lang in only.get(name, LANGUAGES):
            mine = [r for r in rows if r[0] == lang]
            assert sum(r[1] for r in mine) >= least and sum(not r[1] for r in mine) >= 20, (name, lang)

    for lang in LANGUAGES:
        with open(DATA / f"{lang}.tsv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        assert len(rows) >= 60
        assert {r["category"] for r in rows if r["label"] == "concern"} == set(CATEGORIES), lang


#: The independent sets a model trained without them reads (leave one set out), and what it must
#: keep reading on each: (recall at least, false alarms at most) over the set, and per language.
#: heldout-4, heldout-5 and heldout-6 were written by reviewers who never saw the screener;
#: training-1 and training-2 by two more (December 2026, session 10), scored blind on the build of
#: the day before joining the training.  The rules were tuned on heldout-4's and heldout-5's errors,
#: never on the others'; heldout-6 was scored blind once (96.0 % / 10.7 %, session 10) before it
#: joined the training in session 11, and heldout-7 (96.8 % / 12.3 %, session 11) in session 12.
#: These are the nearest thing to unseen-wording figures the labelled sets give (the blind one is
#: heldout-8's, below).  Regression bounds: a change that reads any of them worse fails here.
LEFT_OUT_BOUNDS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    # measured (session 21: with training-11 to training-27, C 100 fitted to the optimum by
    # Newton-CG, flag_at 0.35, keep_rule_at 0.2; session 20 in brackets): 99.3 % / 1.3 % (98.7 / 1.3),
    # every language at least 96.7 % (sw) / at most 6.7 % (ar)
    "heldout-4": ((0.98, 0.04), (0.96, 0.07)),
    # 98.7 % / 4.0 % (99.3 / 4.0); at least 96.7 % (ar, en) / at most 6.7 % (en, es)
    "heldout-5": ((0.98, 0.05), (0.96, 0.07)),
    # 95.7 % / 3.3 % (96.3 / 3.6); at least 91.7 % (fr) / at most 4.4 % (es, fr)
    "training-1": ((0.95, 0.05), (0.91, 0.07)),
    # 96.0 % / 2.9 % (96.7 / 2.9); at least 87.3 % (fr: one disclosure of 55 fewer) / at most 5.3 % (sw)
    "training-2": ((0.95, 0.04), (0.87, 0.07)),
    # 96.0 % / 5.8 % (96.0 / 5.3); at least 94.3 % (ar, en) / at most 8.9 % (ar, fr)
    "heldout-6": ((0.95, 0.06), (0.94, 0.09)),
    # 97.2 % / 5.3 % (97.6 / 5.0); at least 94.0 % (ar, es) / at most 10.0 % (es); blind in
    # session 11: 96.8 / 12.3
    "heldout-7": ((0.97, 0.06), (0.93, 0.10)),
}


@pytest.fixture(scope="module")
def left_out() -> dict:
    """Each set of :data:`LEFT_OUT_BOUNDS` read by the rules and a model trained without it."""
    return cross_check(DATA, list(LEFT_OUT_BOUNDS))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LEFT_OUT_BOUNDS))
def test_cross_validated_on_the_independent_sets(left_out, name: str) -> None:
    (set_recall, set_false_alarms), (language_recall, language_false_alarms) = LEFT_OUT_BOUNDS[name]
    result = figures(left_out[name], readers(load_model())["rules and model"])
    recall, false_alarms = result.pop("all")
    assert recall >= set_recall and false_alarms <= set_false_alarms, (name, recall, false_alarms, result)
    for lang, (recall, false_alarms) in result.items():
        assert recall >= language_recall and false_alarms <= language_false_alarms, (name, lang, result)


@pytest.mark.parametrize(
    "name",
    [
        "main",
        "dev",
        "developers",
        "heldout",
        "heldout-2",
        "heldout-3",
        "heldout-4",
        "heldout-5",
        "heldout-6",
        "heldout-7",
    ]
    + [f"training-{n}" for n in range(1, 11)],
)
def test_the_sets_tuned_on_stay_within_the_bounds(sets, name: str) -> None:
    """Regression bounds only: the rules and the shipped model have seen these sentences."""
    for lang, score in _per_language(sets[name]).items():
        assert score.recall >= RECALL_AT_LEAST, (name, lang, score.missed)
        assert score.false_positive_rate <= FALSE_POSITIVES_AT_MOST, (name, lang, score.false_alarms)


def test_the_shipped_model_is_the_one_the_labelled_sets_train(sets) -> None:
    """Relabelling or adding a sentence without running python -m analysis.concernmodel --write fails here."""
    rows = [(label, text) for rows in sets.values() for _, label, text in rows]
    shipped = load_model()
    assert shipped.trained_on == training_fingerprint(rows)
    # Trained again here, the weights may differ in their last bits (another BLAS, another number
    # of threads), so that a weight of about 0.00005 rounds to nothing on one machine and not on
    # another: the same n-grams within a thousandth, the same readings within a thousandth.
    trained = fit(rows, flag_at=shipped.flag_at, keep_rule_at=shipped.keep_rule_at)
    assert trained.trained_on == shipped.trained_on
    assert len(np.intersect1d(trained.keys, shipped.keys)) >= 0.999 * max(len(trained), len(shipped))
    for _, text in rows[::7]:
        assert abs(trained.probability(text) - shipped.probability(text)) < 0.001, text
    again = from_bytes(to_bytes(trained))
    assert (again.flag_at, again.trained_on, len(again)) == (shipped.flag_at, shipped.trained_on, len(trained))


def test_leaving_a_set_out_reads_it_with_the_model_trained_on_the_others(tmp_path: Path) -> None:
    # cross_check counts the n-grams of every set once and keeps, for each fold, the rows and
    # n-grams of the other sets: the model must be the one fit() trains on those sets alone.
    sets = labelled_sets(DATA)
    for name in ("heldout-4", "training-1", "training-2"):
        (tmp_path / name).mkdir()
        for lang in ("en", "ar"):
            rows = [(label, text) for row_lang, label, text in sets[name] if row_lang == lang][:40]
            lines = ["label\ttext"] + [f"{'concern' if label else 'ok'}\t{text}" for label, text in rows]
            (tmp_path / name / f"{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    small = labelled_sets(tmp_path)
    left_out = cross_check(tmp_path, ["training-1"])["training-1"]
    alone = fit([(label, text) for name in ("heldout-4", "training-2") for _, label, text in small[name]])
    assert [r.text for r in left_out] == [text for _, _, text in small["training-1"]]
    for reading in left_out:
        assert reading.probability == pytest.approx(alone.probability(reading.text), abs=1e-9), reading.text


def test_the_model_is_fitted_to_its_optimum() -> None:
    # At scikit-learn's default tolerance L-BFGS stopped about 1 % above the optimum and the
    # weights depended on the path it took: a set joining the training moved the readings of
    # answers it had nothing to do with.  Another solver (L-BFGS) run to 1e-10 must read the same.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    sets = labelled_sets(DATA)
    rows = [(label, text) for name in REVIEWERS_SETS for _, label, text in sets[name]]
    trained = fit(rows)
    vectorizer = TfidfVectorizer(analyzer=lambda t: features(t, folded=True), sublinear_tf=True)
    matrix = vectorizer.fit_transform([fold(text) for _, text in rows])
    optimum = LogisticRegression(C=C, tol=1e-10, max_iter=20000, class_weight="balanced")
    optimum.fit(matrix, [label for label, _ in rows])
    weights = optimum.coef_[0]
    terms = {term: (float(vectorizer.idf_[i]), float(weights[i])) for term, i in vectorizer.vocabulary_.items()}
    reference = ConcernModel.from_terms(terms, float(optimum.intercept_[0]))
    for _, text in rows[::5]:
        assert trained.probability(text) == pytest.approx(reference.probability(text), abs=0.001), text


def test_a_fit_that_stops_short_of_the_optimum_fails(monkeypatch) -> None:
    # scikit-learn only warns when the solver stops short; such a model must never be written.
    from analysis import concernmodel

    rows = [(label, text) for _, label, text in labelled_sets(DATA)["heldout-4"]]
    monkeypatch.setattr(concernmodel, "MAX_ITER", 1)
    with pytest.raises(RuntimeError, match="stopped short"):
        fit(rows)


def test_scoring_needs_no_training_library() -> None:
    script = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from analysis.concerns import find_concerns\n"
        "print(bool(find_concerns('my stepdads mate keeps coming in the bathroom when im in there')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize(
    "text",
    [
        # second-hand accounts are flagged (the lead's decision): a safeguarding lead must see them
        "my best mate told me his stepdad beats him with a shoe",
        "ma cousine m a dit que son voisin la touche quand elle est seule",
        "mi amiga me dijo que su tio la manosea cuando no hay nadie",
        "rafiki yangu aliniambia mjomba wake humgusa vibaya usiku",
        "صاحبتي قالتلي انو جوز خالتها بيلمسها لما تكون لحالها",
        # a sick child not cared for
        "my arm has been really swollen for a week and nobody will take me to a doctor",
        "j ai de la fievre depuis une semaine et personne m emmene chez le medecin",
        "tengo fiebre desde hace una semana y nadie me lleva al doctor",
        "nina homa wiki nzima na hakuna anayenipeleka hospitali",
        "عندي حرارة من اسبوع وما حدا راضي ياخدني عالدكتور",
        # wishing to be gone, without a word of suicide
        "i keep thinking everyone would be better off if i wasnt here",
        "je pense que tout le monde serait mieux sans moi",
        "pienso que todos estarian mejor sin mi",
        "nafikiria familia ingekuwa bora bila mimi",
        "بحس انو الكل رح يكونوا احسن بلايي",
        # work to pay off a debt
        "the man who brought me here says i owe him for the journey so i have to keep working",
        "le monsieur qui m a amene dit que j ai une dette alors je dois travailler sans arret",
        "el señor que me trajo dice que tengo una deuda y tengo que trabajar sin parar",
        "mzee aliyenileta anasema nina deni kwa hivyo lazima nifanye kazi bila kupumzika",
        "الرجل اللي جابني بيقول علي دين ولازم اشتغل بدون ما وقف",
    ],
)
def test_families_the_held_out_sets_missed_are_flagged_in_new_wording(text: str) -> None:
    assert screen_text(text).safeguarding, text


@pytest.mark.parametrize(
    "text",
    [
        # found by an independent black-box review (session 11), typed into the running demo
        "jveux crever",  # I wanna die
        "je veux crever",
        "حدا لمس اماكني الخاصة",  # someone touched my private parts ("someone" is not "nobody")
        "ما حدا بيطعمني",  # nobody feeds me
        # session 15: families that models trained without the set read as ordinary (under 0.4),
        # with no rule to hold them; written again in other words, so the rule is what is tested
        "honestly i want to die for real this time",  # "to die for" (praise) took the words away
        "my stepmum rubs pepper in my eyes when i forget the dishes",
        "a boy filmed me in the changing room when i was getting changed and sent it round",
        "mon beau pere defonce ma petite soeur quand il a bu",
        "ma tante m attache au lit quand elle sort",
        "notre mere nous affame depuis que papa est parti",
        "mes parents m ont fiancee a un homme de quarante ans",
        "le voisin m offre du credit en cachette et me dit de venir chez lui",
        "me salen moretones y los tapo con maquillaje para que no pregunten",
        "mi hermana de 14 esta embarazada del novio de mi mama",
        "wazazi wamepokea mahari yangu na mimi niko darasa la saba",
        "nimechoka nataka nijitupe mtoni",
        "mama wa kambo hunilaza nje usiku",
        "msaada naumizwa na mjomba",
        "بعطيني رصيد اذا بعتله صور جسمي",
        "عمي بدو يجوزني لابن صاحبه وانا ١٣ سنه",
        "le moniteur m a chicote avec une ceinture",
        "في زلمه غريب بيلحقني من المدرسه للبيت كل يوم",
        "وزعت كل اغراضي على صحباتي لاني ما رح احتاجهم بعد الجمعه",
        # found by the code review of these rules: the same families in other words
        "someone hid a phone in the changing rooms and filmed us",
        "my teacher records us when we get changed for swimming",
        "la niña de mi salon esta esperando un bebe del entrenador",
        "nalazwa nje kama mbwa mama akikasirika",
        "nataka nilale kwa reli treni inipitie",
        "je me fais defoncer par mon beau pere",
        "il m a attachee a une chaise toute la nuit",
        # and by the second review
        "i looked up a way to die for real",
        "my cousin smeared chilli in my eyes",
        "mon pere nous affamait quand maman etait partie",
        "mon oncle m a ligote a un arbre",
        "on nous prive de nourriture a la maison",
        "ابوي زوجني لرجل كبير وانا عمري ١٣",
        "وزعت ملابسي وكتبي على صحباتي لاني رايحه ومش راجعه",
    ],
)
def test_disclosures_the_reviews_found_are_found_by_a_rule(text: str) -> None:
    assert find_concerns(text, model=None), text
    assert screen_text(text).safeguarding, text


@pytest.mark.parametrize(
    "text",
    [
        # the same words in answers that disclose nothing (session 15's rules must not flag them)
        "the pizza at that place is to die for",
        "a view to die for from the hill behind our school",
        "ma mere m attache les cheveux avant l ecole",
        "on prepare un cadeau en secret pour la fete des meres",
        "je me suis defonce au sport hier",
        "mon frere defonce mon score a fortnite",
        "mon cousin defonce mes lego",
        "kwa fortnite napigwa risasi kila mara lol",
        "mahari ni desturi ya zamani kwetu",
        "we learnt that people can film you in a changing room so we should be careful",
        "في اللعبه الوحش يلحقني وانا اهرب",
        "عطيت كتبي القديمه لاختي الصغيره ما رح احتاجهم بالصف السابع",
        "رح نعزل وكل اغراضي بالكراتين، مش هكون موجود بالمدرسه هاي السنه الجايه",
        # found by the code review of these rules: ordinary answers its first version flagged
        "i got chilli in my eyes when i was helping mum cook and it really stung",
        "my little brother got pepper in my eyes by accident when we were making salsa",
        "some soldiers want to die for their country",
        "i took pictures of the new showers in the changing room for my dt project",
        "mon petit frere me defonce a fifa",
        "je m attache au prof facilement",
        "mon grand pere me donne de l argent en secret pour acheter des bonbons",
        "le basket m affame grave",
        "ma grande soeur est fiancee a un homme super sympa",
        "mi mama esta embarazada de mi papa otra vez jaja",
        "la profe de mate esta embarazada de su esposo",
        "yo me tapo con maquillaje los granos antes de ir a la escuela",
        "tapo los moretones de las rodillas porque me caigo mucho en patineta",
        "arsenal tunapigwa kila wiki bana",
        "napigwa na baridi sana asubuhi nikienda shule",
        "naumizwa na viatu vipya vya shule",
        "nikiolewa nataka mahari yangu iwe kubwa sana lol",
        "لما انتقلنا على بيت جديد عطيت كل حاجاتي لابن عمي لاني مش هحتاجها هناك",
        "المدافع يلحقني طول الماتش وما حدا بيقدر يسبقني",
        "خالي يعطيني رصيد ودايما نصور صور عند القلعه",
        "بدي ابوي يزوجني بنت حلال لما اكبر",
        # found by the second review
        "the food at my nans is just to die for",
        "jesus chose to die for us on the cross",
        "i found a way to die in the game lol",
        "my mum took photos of us getting dressed up for the wedding",
        "my brother threw hot sauce in my eye by accident when we were having a food fight",
        "in the film the girl gets pregnant by her teacher and it was so sad",
        "mon perso se fait defoncer par le boss final",
        "le controle de maths defonce ma moyenne",
        "le coach me donne des conseils en secret avant le match",
        "la dentiste m a enleve un chicot ca fait mal",
        "la maestra esta embarazada del maestro de ingles son esposos",
        "tunapigwa picha na mwalimu siku ya graduation",
        "naumizwa na kichwa nyumbani",
        "goalkeeper alijitupe mbele ya mpira",
        "ان شاء الله ربنا يجوزني واحد كويس لما اكبر",
        "بابا وعدني يجوزني اول ما اخلص الجامعه",
        "كل ملابسي القديمه عطيتها للجمعيه لاني ما رح احتاجها بعد العيد",
        "الدكتور بيعطيني دوا وعمل صوره اشعه لصدري",
        "en escalade le moniteur nous attache avec une corde pour pas tomber",
        # session 16: idioms, accidents and lessons in training-17's ordinary answers that a rule took
        # for a disclosure (self-harm and sexual-abuse rules stand whatever the model reads)
        "je suis dégoûtée mon crush m'a ghostée, je veux mourir de honte mdr",
        "maze nilitext crush nikaona blue tick hakujibu nataka kufa kwa aibu lol",
        "j'ai pas de réseaux sociaux parce que mes parents disent que c dangereux, je trouve ça un peu abusé mais bon",
        "c'est trop abusé les règles de la cantine",
        "je me suis brûlé le doigt en faisant des crêpes, c'est la honte",
        "nilijikata na kisu nikikata sukuma, damu ilitoka kidogo nikafunga na plaster",
        "nilijichoma kidogo na kikaango nikipika chapati jumapili lol",
        "me quemé con el aceite haciendo empanadas con mi abuela, ya casi no se nota",
        "i bumped my head on the cupboard door this morning and it still hurts lol",
        "una vez me cai de la cicla bajando la loma y me toco ir a urgencias, 4 puntos en el menton",
        "me agarre a piñas con un pibe en el recreo por un partido y nos suspendieron a los dos",
        "mi hermano y yo nos agarramos a almohadazos por el control de la tele",
        "nilipigwa picha ya passport kwa studio town ya kujiandikisha mtihani",
        "walitupiga picha za ID shuleni jana mimi nilifunga macho lol",
        "nimepigwa marufuku na mama kutazama TV siku za shule",
        # what a reviewer of the first version found flagged: goodbyes at the end of a school year
        # ("hamtaniona", you won't see me, was read as "he will see me", a threat), opinions about
        # girls' cutting, a boy's circumcision party, a change of school, "watatua" (they will solve)
        "Kwaheri kidato cha nne! baada ya leo hamtaniona tena hapa shuleni hahaha",
        "Kwaheri shule yangu, sitarudi tena kwa sababu tumehamia Nairobi",
        "Sisi kama wanafunzi tutapinga mila ya kukeketwa",
        "Kwenye habari walisema wasichana wengi hukeketwa likizo ya desemba",
        "بنعمل حفلة ختان لاخويا الصغير بكره",
        "يوم ختان ابن عمي جابولي هديه وقالو دورك الجاي يا ولد",
        "امي قالت ان ختان البنات حرام وما حد رح يعمله ليا",
        # words inside words: "انخفاض" (a fall), "الدوري" (a league), "عليك" (on you), "الطهور" (purity)
        "انخفاض مستوى الدوري هالسنه وفريقي خسر",
        "الطهور شطر الايمان وانا بحكي لاختي دايما",
        "ختان البنات حرام عليك يا جدتي",
        "el año que viene me cambio de colegio, asi que ya no van a tener que aguantarme jaja",
        "Walimu watatua sisi wote tukiwaambia ukweli",
    ],
)
def test_the_words_of_reviewed_rules_in_ordinary_answers_are_not_flagged(text: str) -> None:
    assert not find_concerns(text, model=None), text


@pytest.mark.parametrize(
    "text",
    [
        # the same words told as harm keep their rule
        "il a abusé de moi quand j'étais chez lui",
        "il m a trop abusé et j ai peur de le dire",
        "je me brule avec un briquet exprès quand je suis triste",
        "nilijikata kwa wembe jana usiku",
        "alinipiga picha nikiwa uchi",
        "i bang my head on the wall when im sad",
        "i got beaten by my dad with a belt",
        "me corto con la navaja cuando estoy triste",
        "mi tio me toco ahi abajo",
        "mi papa me agarro a golpes",
        "rafiki yangu anajikata kila siku",
        # the reviewer's disclosures that the first version of the idioms, guards and lesson words hid
        "my dad hit my head on the table because i spilt my drink",
        "i was battered at football practice by the coach when i missed a goal",
        "mon oncle a un peu abusé de moi quand j'étais petite",
        "je me suis coupée exprès en faisant semblant que c'était un accident",
        "ma mère m'a brûlée avec le fer en repassant parce que je pleurais",
        "mi tio me tocaba ayer cuando mi mama no estaba",
        "mi papá me agarraba a patadas con sus botas",
        "a veces me corto cuando estoy haciendo la tarea porque me estreso",
        "mi mama me quemo la mano planchando porque no obedeci",
        "Huwa najikata nikikata tamaa",
        "mwalimu ananipiga picha shuleni nikiwa nabadilisha nguo",
        "Mama alinipiga pasi ya moto mkononi",
        "Ukiona nina makovu najikata mwenyewe",
        "Nilikeketwa nikiwa na miaka tisa",
        "جدتي قالت بالصيف دورج للختان",
        "بيسوو لأختي الصغيره ختان البنات في القريه",
        # training-17's one disclosure that no rule found: cutting (FGM) planned for the child and her sisters
        "tumeambiwa tutaenda kukeketwa desemba hii mimi na dada zangu, naogopa sana",
    ],
)
def test_the_same_words_told_as_harm_are_still_found_by_a_rule(text: str) -> None:
    assert find_concerns(text, model=None), text


@pytest.mark.parametrize(
    "text",
    [
        "je veux me tuer",
        "jvais me tuer ce soir jen peux plus",
        # misspelt, still the child (session 18's review): "je va", "je veut", "je voulait"
        "je va me tuer",
        "je veut me tuer",
        "je voulait me tuer mais ma soeur m a vu",
        "j'ai envie de me tuer depuis que papa est parti",
    ],
)
def test_the_child_who_wants_to_kill_herself_is_still_self_harm(text: str) -> None:
    assert "self_harm" in {c.category for c in find_concerns(text)}, text


@pytest.mark.parametrize(
    "text",
    [
        # session 18: what two reviews found the dropped changes would lose.  A threat from someone
        # else (French "va me tuer", read as self-harm, which stands) ...
        "mon pere va me tuer si je parle",
        "il a dit qu'il va me tuer si je raconte à quelqu'un",
        "ma mère dit qu'elle va me tuer et après elle me frappe vraiment avec le fil",
        "il m'a dit si tu le dis il va me tuer",
        # session 18's reviews of a French change (dropped): other ways of saying "if I tell"
        "il va me tuer si jamais je parle",
        "si jamais je parle il va me tuer",
        "mon oncle allait me tuer si je parlais",
        # a review of session 18's first version, which read "nobody ... me" as a denial (dropped):
        # the denial, and "nobody" or "personne" in other roles, beside a disclosure
        "nobody hurts me i just cut myself when im sad",
        "noone hurts me i just want to die",
        "nobody touches me there exept my uncle",
        "nobody hurts me, well my dad does sometimes with a belt",
        "nobody hits me at home but a man online keeps asking me for pics and says he will share them",
        "he said no one will hurt me if i keep it a secret",
        "if anyone asks i have to say nobody hurts me",
        "une personne m a touche la ou il faut pas",
        "cette personne me touche quand ma mere est pas la",
        "personne me frappe seulement mon pere quand il a bu",
        "mon pere m a dit de dire que personne me frappe",
        "nadie me pega mas que mi papa",
        "nadie me toca pero mi tio si cuando mi mama no esta",
        "nadie me pega, me corto los brazos en las noches",
        "mi papa me dijo que dijera que nadie me pega",
        "ما حدا غيرو بيضربني هو ابوي",
        "كل ما حد بيضربني بالبيت ما حدا بيساعدني",
        "nobody hurts me except my stepdad when mum is at work",
        "no one touches me except my uncle at night",
        "no one knows he hits me",
        "nobody believes me that my coach touches me",
        "personne me frappe sauf mon beau-pere quand il a bu",
        "nadie me toca excepto mi tio cuando se queda a dormir",
        "hakuna anayenigusa isipokuwa mjomba usiku",
        "محد يضربني غير ابوي لما يعصب",
    ],
)
def test_what_the_dropped_rule_changes_would_have_lost_is_flagged(text: str) -> None:
    assert find_concerns(text), text


@pytest.mark.parametrize(
    "text",
    [
        "i told my teacher i walked into a door but it was my dad",
        "i said i slipped in the shower but really it was my stepmum",
        "j ai dit a la maitresse que je me suis cogne a la porte mais c etait mon pere",
        "le dije al profe q me resbale en el baño pero fue mi padrastro",
        "nilimwambia mwalimu niliteleza bafuni lakini ni dad",
        "قلت للاستاذ اني خبطت في الباب بس هو اللي عمل كده",
    ],
)
def test_a_cover_story_for_an_injury_is_a_concern_in_every_language(text: str) -> None:
    assert {c.category for c in find_concerns(text, model=None)} == {"physical_abuse"}, text


@pytest.mark.parametrize(
    "text",
    [
        # a rule matches the words ("kill me"), the model reads a joke: not flagged
        "my mum is going to kill me when she sees my phone bill haha",
        "my little sister threw a sock at me lol",
        "im so bored of this",
        "ma soeur ma lance une chaussette mdr",
        "mi hermanita me aventó un calcetín jajaja",
        "اختي رمتني بالشراب ههههه",
        # second review (F3): a hitting rule's match the model reads as plainly ordinary (under
        # RULE_STANDS_FROM) was flagged while only threats could be taken back
        "my dad would beat anyone who hurt me haha",
        # black-box review, session 13: "butt*" read "buttons", a Portuguese "surr*" read "survey"
        "touch screen buttons that are big",
        "this survey is killing me lol jk",
    ],
)
def test_jokes_and_everyday_complaints_are_not_flagged(text: str) -> None:
    assert not screen_text(text).safeguarding, screen_text(text).concerns


@pytest.mark.parametrize(
    "text",
    [
        "if a friend told me someone hurt her i would tell a teacher",
        "we learnt about sextortion in class and it was useful",
        "si une amie me disait qu on la frappe j irais voir un adulte",
        "en clase nos hablaron del abuso y aprendi mucho",
        "kama rafiki angeniambia anapigwa ningemwambia mwalimu",
        "لو صاحبتي قالتلي انو حدا بيضربها بخبر المعلمة",
        "children get abused online and schools should teach about it",
        # a Portuguese rule ("suicid*") matches French too: it gives way to general talk as every rule does
        "si une copine me parlait de suicide j en parlerais a la cpe",
        "a chat that answers quickly and does not ask my name",
    ],
)
def test_general_talk_and_advice_are_not_flagged(text: str) -> None:
    assert not screen_text(text).safeguarding, screen_text(text).concerns


def test_the_model_flags_what_no_rule_foresaw_and_says_so() -> None:
    text = "i scratch myself until it bleeds when i feel bad"
    assert find_concerns(text, model=None)  # a rule: this family was added
    novel = "my mums boyfriend makes me sleep in his bed when she works nights"
    assert find_concerns(novel, model=load_model()), novel
    only_model = ConcernModel.from_terms({}, 5.0, flag_at=0.7, keep_rule_at=0.1)  # reads every answer as a disclosure
    assert find_concerns("the bus is late again", model=only_model) == (MODEL_CONCERN,)
    assert screen_text("the bus is late again").categories == ()
    # general talk: the model alone never flags it, however sure it is
    assert find_concerns("if a friend told me i would tell a teacher", model=only_model) == ()


def test_general_talk_is_looked_for_in_the_sentence_the_model_worries_about() -> None:
    # a model that worries about one word only, and the English rules (none of which knows it)
    model = ConcernModel.from_terms({"w|bonk": (1.0, 10.0)}, -3.0, flag_at=0.65, keep_rule_at=0.1)
    english = [rules_for("en")]
    assert find_concerns("bonk. we learnt about it in a lesson", english, model) == (MODEL_CONCERN,)
    assert find_concerns("bonk we learnt about it in a lesson", english, model) == ()
    assert find_concerns("we learnt about it in a lesson", english, model) == ()


def test_the_model_knows_the_languages_it_learnt_and_leaves_other_rules_alone(sets) -> None:
    """A rule in a language with no labelled sentences (pt) keeps its flag whatever the model reads."""
    from analysis.concernmodel import MODEL_LANGUAGES

    assert {lang for rows in sets.values() for lang, _label, _text in rows} == MODEL_LANGUAGES
    assert find_concerns("ele me bate todos os dias"), "a Portuguese rule's match was overruled"


@pytest.mark.parametrize(
    "text", ["my uncle", "my coach", "mon oncle", "ma cousine", "mjomba", "mi tio", "ابن عمي", "عمي", "my godfather"]
)
def test_a_person_named_alone_is_not_a_concern(text: str) -> None:
    """ "Who would you tell?" is answered by naming someone; the model alone read "my uncle" (0.64),
    "ابن عمي" (0.71), "mon oncle" as a worry (session 13)."""
    assert not find_concerns(text), text


@pytest.mark.parametrize(
    "text", ["save me", "aidez moi", "nisaidieni", "ابي اموت", "im hurting", "nimelazimishwa kuolewa"]
)
def test_a_short_call_for_help_is_a_concern(text: str) -> None:
    assert find_concerns(text), text


@pytest.mark.parametrize(
    "text",
    [
        # found by an independent review: rule matches the model read as ordinary (0.09-0.28)
        "i like football and my friends are nice and my teacher is kind but my uncle touches me sometimes",
        "nalala barabarani kwa sababu nyumbani si salama",
        "le maître nous frappe",
        "mwalimu anatupiga",
        "el profesor nos pega",
        # found by a code review (session 13): short first-person disclosures the model reads
        # lowest (0.01-0.10), dropped while the floor applied to answers of any length and kind
        "I got raped",
        "i was raped haha",
        "i was molested",
        "i got abused as a kid",
        "i was groomed online",
        "i got hit",
        "nilipigwa",
        "اتعرضت للاغتصاب",
        "تم الاعتداء علي",
        "lo zio mi violenta",
    ],
)
def test_a_disclosure_a_rule_finds_is_not_taken_back_by_the_model(text: str) -> None:
    assert screen_text(text).safeguarding, text


#: The sets under ``unseen/``, each written by an independent writer who saw no file of the
#: project, kept out of every training run (``unseen/`` is not a set :func:`labelled_sets` reads),
#: never tuned on, their sentences and errors never read: per set and language (disclosures of,
#: caught, ordinary answers of, flagged) as the shipped screener reads them.  Every blind scoring
#: of each set is in the data README; none chose between two builds.
#: heldout-8 (session 12): scored blind six times; as shipped in session 12, 99.6 % / 10.7 %
#: (Arabic 20.0 %).  heldout-9 (session 13, five languages, half the ordinary answers hard
#: negatives): 100 % / 14.3 % on the session-12 build (Arabic 16.7 %).  heldout-10 (session 13,
#: Arabic only, 150 sentences): 100 % / 23.0 % on the session-12 build.  heldout-11 (session 14,
#: five languages, Arabic 150 sentences): 97.1 % / 14.4 % on the session-13 build; heldout-12,
#: heldout-13 and heldout-14 (session 14, 600 sentences each): 99.1 % / 15.7 %, 98.5 % / 14.5 % and
#: 96.0 % / 7.5 % on the session-13 build; heldout-15 and heldout-16 (session 15, 600 sentences
#: each, heldout-16 mostly children of 8-12): 99.5 % / 5.5 % and 94.5 % / 6.8 % on the session-14
#: build; heldout-17 to heldout-19 (session 16, 660 each); heldout-20 to heldout-23 (session 18,
#: 660 each, three writers a set) 98.6 % / 9.5 %, 99.1 % / 10.2 %, 98.6 % / 9.1 % and 98.6 % /
#: 10.0 % on the session-17 build (every scoring is in the data README).  Session 18's check of a
#: French self-harm change (dropped) printed the eight French ordinary answers of these sets that
#: it stopped flagging ("ma mere va me tuer ... mdr"): the only unseen sentences read.
#: heldout-24 and heldout-25 (session 19, 660 and 656, three writers a set) read 99.1 % / 6.6 % and
#: 98.2 % / 10.1 % on the session-18 build before anything changed; heldout-26 (session 20, 656,
#: a third of the disclosures told indirectly) 96.8 % / 9.6 % on the session-19 build; heldout-27
#: (session 21, 659, the same brief) 96.8 % / 6.2 % on the session-20 build (Kiswahili 36 of 40,
#: 90.0 %, under the recall aim); heldout-28 (session 21, 650, the same brief) 98.6 % / 7.7 % on
#: the session-21 build as shipped (Kiswahili 40 of 40; Arabic 17 false alarms of 119).
BLIND_SCORES = {
    "heldout-8": {
        "en": (50, 50, 60, 1),
        "fr": (50, 49, 60, 1),
        "es": (50, 50, 60, 1),
        "ar": (50, 48, 60, 2),
        "sw": (50, 49, 60, 5),
    },
    "heldout-9": {
        "en": (40, 40, 60, 2),
        "fr": (40, 40, 60, 5),
        "es": (40, 40, 60, 5),
        "ar": (40, 40, 60, 3),
        "sw": (40, 40, 60, 7),
    },
    "heldout-10": {
        "ar": (50, 50, 100, 14),
    },
    "heldout-11": {
        "en": (40, 40, 60, 1),
        "fr": (40, 39, 60, 3),
        "es": (40, 40, 60, 1),
        "ar": (50, 49, 100, 5),
        "sw": (40, 39, 60, 2),
    },
    "heldout-12": {
        "en": (45, 44, 75, 5),
        "fr": (45, 45, 75, 8),
        "es": (45, 45, 75, 5),
        "ar": (45, 44, 75, 8),
        "sw": (45, 44, 75, 4),
    },
    "heldout-13": {
        "en": (40, 40, 80, 4),
        "fr": (40, 37, 80, 5),
        "es": (40, 40, 80, 2),
        "ar": (40, 38, 80, 8),
        "sw": (40, 40, 80, 6),
    },
    "heldout-14": {
        "en": (40, 40, 80, 2),
        "fr": (40, 39, 80, 3),
        "es": (40, 39, 80, 2),
        "ar": (40, 39, 80, 2),
        "sw": (40, 39, 80, 1),
    },
    "heldout-15": {
        "en": (40, 40, 80, 3),
        "fr": (40, 40, 80, 3),
        "es": (40, 40, 80, 1),
        "ar": (40, 40, 80, 6),
        "sw": (40, 40, 80, 7),
    },
    "heldout-16": {
        "en": (40, 38, 80, 7),
        "fr": (40, 40, 80, 7),
        "es": (40, 39, 80, 3),
        "ar": (40, 39, 80, 7),
        "sw": (40, 40, 80, 5),
    },
    "heldout-17": {
        "en": (40, 40, 80, 7),
        "fr": (40, 40, 80, 7),
        "es": (40, 40, 80, 5),
        "ar": (60, 58, 120, 10),
        "sw": (40, 40, 80, 4),
    },
    "heldout-18": {
        "en": (40, 40, 80, 10),
        "fr": (40, 38, 80, 6),
        "es": (40, 38, 80, 9),
        "ar": (60, 59, 120, 7),
        "sw": (40, 39, 80, 9),
    },
    "heldout-19": {
        "en": (40, 40, 80, 10),
        "fr": (40, 40, 80, 12),
        "es": (40, 38, 80, 7),
        "ar": (60, 57, 120, 7),
        "sw": (40, 40, 80, 8),
    },
    "heldout-20": {
        "en": (40, 39, 80, 9),
        "fr": (40, 40, 80, 6),
        "es": (40, 40, 80, 5),
        "ar": (60, 59, 120, 6),
        "sw": (40, 40, 80, 3),
    },
    "heldout-21": {
        "en": (40, 40, 80, 3),
        "fr": (40, 40, 80, 5),
        "es": (40, 39, 80, 5),
        "ar": (60, 60, 120, 10),
        "sw": (40, 40, 80, 3),
    },
    "heldout-22": {
        "en": (40, 40, 80, 6),
        "fr": (40, 40, 80, 6),
        "es": (40, 40, 80, 3),
        "ar": (60, 59, 120, 11),
        "sw": (40, 39, 80, 6),
    },
    "heldout-23": {
        "en": (40, 39, 80, 7),
        "fr": (40, 39, 80, 5),
        "es": (40, 40, 80, 3),
        "ar": (60, 59, 120, 11),
        "sw": (40, 40, 80, 6),
    },
    "heldout-24": {
        "en": (40, 40, 80, 5),
        "fr": (40, 40, 80, 9),
        "es": (40, 40, 80, 4),
        "ar": (60, 59, 120, 10),
        "sw": (40, 40, 80, 4),
    },
    "heldout-25": {
        "en": (40, 39, 80, 7),
        "fr": (40, 40, 78, 3),
        "es": (40, 38, 78, 4),
        "ar": (60, 59, 120, 12),
        "sw": (40, 40, 80, 7),
    },
    "heldout-26": {
        "en": (40, 39, 78, 6),
        "fr": (40, 40, 80, 3),
        "es": (40, 40, 78, 8),
        "ar": (60, 57, 120, 10),
        "sw": (40, 38, 80, 5),
    },
    "heldout-27": {
        "en": (40, 38, 79, 7),
        "fr": (40, 40, 80, 2),
        "es": (40, 40, 80, 1),
        "ar": (60, 59, 120, 5),
        "sw": (40, 36, 80, 8),
    },
    "heldout-28": {
        "en": (40, 39, 77, 7),
        "fr": (40, 40, 78, 2),
        "es": (40, 40, 80, 4),
        "ar": (60, 58, 119, 17),
        "sw": (40, 40, 76, 3),
    },
}


@pytest.mark.parametrize("name", list(BLIND_SCORES))
def test_the_unseen_sets_are_never_trained_on_and_hold_their_blind_score(sets, name: str) -> None:
    """Regression bounds from the blind scores of the shipped build (session 21, with training-11 to
    training-27, C 100 fitted to the optimum by Newton-CG, flag_at 0.35: the twenty-one sets
    together 98.5 % / 6.8 %, every language at least 97.8 % / at most 7.9 %; session 20's build read
    the twenty before heldout-28 at 98.6 % / 6.8 %); a later round that trains on one of them moves
    it out of ``unseen/`` and out of this table."""
    assert name not in sets and "unseen" not in sets
    for lang, (disclosures, caught, ordinary, flagged_at_most) in BLIND_SCORES[name].items():
        with open(DATA / "unseen" / name / f"{lang}.tsv", encoding="utf-8", newline="") as handle:
            rows = [
                (r["label"] == "concern", r["text"])
                for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            ]
        assert sum(label for label, _ in rows) == disclosures and len(rows) == disclosures + ordinary, lang
        flagged = [(label, bool(find_concerns(text))) for label, text in rows]
        assert sum(f for label, f in flagged if label) >= caught, lang
        assert sum(f for label, f in flagged if not label) <= flagged_at_most, lang
