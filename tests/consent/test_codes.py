"""Participation and withdrawal codes: alphabet, entropy, normalisation, hashing."""

from __future__ import annotations

import hashlib
import hmac
import math
import string
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeKind,
    InvalidCode,
    code_entropy_bits,
    format_code,
    hash_code,
    is_valid_code,
    new_code,
    new_codes,
    new_participation_code,
    new_withdrawal_code,
    normalize_code,
)

LOOK_ALIKES = set("0O1IL")


def test_alphabet_has_no_look_alikes_and_no_duplicates():
    assert not LOOK_ALIKES & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert set(ALPHABET) <= set(string.ascii_uppercase + string.digits)


def test_entropy_computed_independently():
    # 30 symbols: digits 2-9 (8) + 26 letters minus I, L, O, U (22)
    symbols = len(list("23456789")) + len(set(string.ascii_uppercase) - set("ILOU"))
    assert symbols == 30
    expected = CODE_LENGTH * math.log(symbols) / math.log(2)
    assert code_entropy_bits() == pytest.approx(expected)
    assert code_entropy_bits() >= 50
    assert 58 < code_entropy_bits() < 60
    # code space: 30**12 ≈ 5.3e17 > 2**50
    assert 30**CODE_LENGTH > 2**50


def test_entropy_of_other_alphabets():
    assert code_entropy_bits(10, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == pytest.approx(50.0)
    assert code_entropy_bits(8, "01") == pytest.approx(1.0 * 8)
    with pytest.raises(ValueError):
        code_entropy_bits(0)


@pytest.mark.parametrize("factory", [new_code, new_participation_code, new_withdrawal_code])
def test_new_codes_are_well_formed(factory):
    for _ in range(200):
        code = factory()
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert normalize_code(code) == code


def test_symbols_are_all_used():
    # 2000 codes x 12 symbols = 24000 draws, 800 expected per symbol: each appears
    counts = Counter("".join(new_code() for _ in range(2000)))
    assert set(counts) == set(ALPHABET)
    assert min(counts.values()) > 500


def test_new_codes_distinct_and_excluding():
    first = new_codes(50)
    assert len(set(first)) == 50
    more = new_codes(50, exclude=set(first))
    assert not set(more) & set(first)
    assert new_codes(0) == []
    with pytest.raises(ValueError):
        new_codes(-1)


def test_format_groups_of_four():
    assert format_code("K7QFM3XRP9TW") == "K7QF-M3XR-P9TW"
    assert format_code("k7qf m3xr p9tw") == "K7QF-M3XR-P9TW"


@pytest.mark.parametrize(
    "typed",
    [
        "K7QF-M3XR-P9TW",
        "k7qf-m3xr-p9tw",
        " K7QF M3XR P9TW ",
        "K7QF_M3XR.P9TW",
        "K7QF–M3XR—P9TW",  # en and em dashes
        "Ｋ７ＱＦ－Ｍ３ＸＲ－Ｐ９ＴＷ",  # full-width, as some phone keyboards type
        "k7q fm3x rp9t w",
        "K7QF\tM3XR\nP9TW",
    ],
)
def test_normalize_ignores_case_spaces_and_separators(typed):
    assert normalize_code(typed) == "K7QFM3XRP9TW"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("K7QF-M3XR-P9T", "this one has 11"),
        ("K7QF-M3XR-P9TWX", "this one has 13"),
        ("", "this one has 0"),
        ("K7QF-M3XR-P9T0", "never use 0, O, 1, I or L"),
        ("K7QF-M3XR-P9TO", "never use 0, O, 1, I or L"),
        ("K7QF-M3XR-P9TU", "cannot contain 'U'"),
        ("K7QF-M3XR-P9T!", "cannot contain '!'"),
    ],
)
def test_normalize_rejects_with_a_reason(typed, message):
    with pytest.raises(InvalidCode, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalize_code(typed)
    assert not is_valid_code(typed)


def test_normalize_rejects_non_text():
    with pytest.raises(InvalidCode):
        normalize_code(None)  # type: ignore[arg-type]


codes = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)
separators = st.sampled_from([" ", "-", "  ", "_", ".", "–", "\t", "", " - "])


@given(codes)
def test_round_trip_format_then_normalize(code):
    assert normalize_code(format_code(code)) == code


@given(codes, st.data())
def test_random_case_and_separators(code, data):
    pieces = []
    for ch in code:
        lower = data.draw(st.booleans())
        pieces.append(ch.lower() if lower else ch)
        pieces.append(data.draw(separators))
    typed = data.draw(separators) + "".join(pieces)
    assert normalize_code(typed) == code
    assert hash_code(typed, b"k") == hash_code(code, b"k")


def test_hash_is_hmac_sha256_of_purpose_and_code():
    expected = hmac.new(b"pepper", b"participation:K7QFM3XRP9TW", hashlib.sha256).hexdigest()
    assert hash_code("k7qf-m3xr-p9tw", b"pepper") == expected
    assert hash_code("k7qf-m3xr-p9tw", "pepper") == expected


def test_hash_depends_on_pepper_and_kind():
    code = "K7QF-M3XR-P9TW"
    a = hash_code(code, b"one")
    assert a != hash_code(code, b"two")
    assert a != hash_code(code, b"one", kind=CodeKind.WITHDRAWAL)
    assert hash_code(code, b"one", kind="withdrawal") == hash_code(code, b"one", kind=CodeKind.WITHDRAWAL)
    assert code.replace("-", "") not in a


def test_hash_needs_a_pepper_and_a_valid_code():
    with pytest.raises(ValueError, match="pepper"):
        hash_code("K7QF-M3XR-P9TW", b"")
    with pytest.raises(InvalidCode):
        hash_code("nope", b"k")
