import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territorial_geo.codes import department_of, is_in, normalize_code, normalize_codes
from territorial_geo.errors import DataFormatError


@pytest.mark.parametrize(
    "raw,code",
    [(1001, "01001"), ("1001", "01001"), (1001.0, "01001"), ("01001", "01001"),
     ("2a004", "2A004"), (" 62041 ", "62041"), ("97105", "97105")],
)
def test_normalize_code(raw, code):
    assert normalize_code(raw) == code


@pytest.mark.parametrize("raw", ["", "abc", "123456", None, "2C004"])
def test_normalize_code_rejects(raw):
    with pytest.raises(ValueError):
        normalize_code(raw)


@given(st.integers(min_value=1000, max_value=95999))
def test_codes_are_five_chars_and_roundtrip(n):
    code = normalize_code(n)
    assert len(code) == 5 and int(code) == n
    assert normalize_codes(pd.Series([n, str(n), float(n)])).tolist() == [code] * 3


def test_normalize_codes_names_source():
    with pytest.raises(DataFormatError, match="myfile.csv:CODGEO"):
        normalize_codes(pd.Series(["62041", "xx"]), source="myfile.csv:CODGEO")


def test_department_of():
    assert department_of("62041") == "62"
    assert department_of("2A004") == "2A"
    assert department_of("97105") == "971"


def test_is_in_by_hand():
    values = pd.Series(["62041", "2A004", None, "62045"], dtype="str")
    assert is_in(values, {"62045", "62041"}).tolist() == [True, False, False, True]
    assert is_in(pd.Index(["01001"]), ["01001", "01002"]).tolist() == [True]
    assert is_in([], {"62041"}).tolist() == []


@given(st.lists(st.sampled_from(["62041", "62045", "2A004", "59350"]), max_size=12),
       st.sets(st.sampled_from(["62041", "62045", "2A004", "59350"])))
def test_is_in_answers_like_pandas_isin(values, codes):
    idx = pd.Index(values, dtype="str")
    assert is_in(idx, codes).tolist() == idx.isin(list(codes)).tolist()
