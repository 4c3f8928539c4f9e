"""GB 11643 identity numbers and masking."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renxing.people.idcard import IdNumberError, make_id_number, parse_id_number
from renxing.people.masking import mask_id_number, mask_name, mask_phone


def test_published_example():
    # The worked example of GB 11643-1999 appendix: 11010519491231002X, a woman born 1949-12-31.
    info = parse_id_number("11010519491231002x")
    assert info.number == "11010519491231002X"
    assert info.birth_date == date(1949, 12, 31) and info.gender == "F" and info.region == "110105"


@pytest.mark.parametrize(
    "bad",
    ["11010519491231002", "110105194912310021", "1101051949123100AX", "110105194913310028", "110105299912310023"],
)
def test_rejects(bad):
    with pytest.raises(IdNumberError):
        parse_id_number(bad)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    seq=st.integers(0, 999),
    gender=st.sampled_from(["M", "F"]),
)
def test_made_numbers_round_trip(born, seq, gender):
    number = make_id_number("320106", born, seq, gender)
    info = parse_id_number(number)
    assert (info.birth_date, info.gender) == (born, gender)
    # any single-digit change in the body breaks the checksum
    i = seq % 17
    changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    with pytest.raises(IdNumberError):
        parse_id_number(changed)


def test_masks():
    # The last four only: the region prefix and the birth date would narrow the rest down.
    assert mask_id_number("320102194003050017") == "**************0017"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张*丰" and mask_name("李四") == "李*"
    assert mask_id_number(None) is None
