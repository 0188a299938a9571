import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territorial_geo.codes import department_of, normalize_code, normalize_codes
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
