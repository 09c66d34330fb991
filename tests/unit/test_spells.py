"""The date logic of the departments' rolls (qjlib.core.spells) and the keyed pseudonym
(qjlib.core.pseudonym), at each boundary of the contract's words."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from qjlib.core import pseudonym, spells
from qjlib.core.errors import QjError

A = pd.Timestamp("2019-09-30")


def _d(*xs):
    return pd.Series(pd.to_datetime(list(xs)), dtype="datetime64[us]")


def test_active_on_includes_both_ends_and_blank_end_runs():
    start = _d("2019-01-01", "2019-09-30", "2019-10-01", "2018-01-01", "2018-01-01")
    end = _d("2019-09-30", None, None, "2019-09-29", None)
    assert spells.active_on(start, end, A).tolist() == [True, True, False, False, True]


def test_window_is_open_below_closed_above():
    low, high = spells.window_bounds(A)
    assert low == pd.Timestamp("2018-09-30") and high == A
    assert spells.window_bounds("2020-02-29")[0] == pd.Timestamp("2019-02-28")
    # a spell ending exactly on A − 12 months has no day in the window; one day later it has one
    start = _d("2018-01-01", "2018-01-01", "2019-09-30", "2019-10-01")
    end = _d("2018-09-30", "2018-10-01", None, None)
    first, last = spells.clip_to_window(start, end, A)
    assert first.isna().tolist() == [True, False, False, True]
    assert first[1] == pd.Timestamp("2018-10-01") and last[1] == pd.Timestamp("2018-10-01")
    assert last[2] == A


def test_overlap_needs_one_shared_day():
    s1, e1 = _d("2019-01-01", "2019-01-01"), _d("2019-03-31", "2019-03-31")
    s2, e2 = _d("2019-03-31", "2019-04-01"), _d("2019-06-30", "2019-06-30")
    assert spells.overlap(s1, e1, s2, e2).tolist() == [True, False]


def test_months_active_counts_the_firsts_of_the_year():
    start = _d("2019-03-01", "2019-03-02", "2018-01-01", "2019-01-01")
    end = _d(None, "2019-06-30", "2019-06-30", "2019-01-01")
    assert spells.months_active(start, end, 2019).tolist() == [10, 3, 6, 1]


def test_shorter_than_months_counts_the_end_day():
    start = _d("2018-07-01", "2018-07-01", "2019-01-31", "2019-01-01")
    end = _d("2019-06-30", "2019-06-29", "2019-02-27", None)
    assert spells.shorter_than_months(start, end, 12).tolist() == [False, True, True, False]
    # 31 January + 1 month = 28 February: a spell to 27 February is exactly one month
    assert spells.shorter_than_months(start[2:3], end[2:3], 1).tolist() == [False]


@pytest.mark.parametrize("text, term", [
    ("2019春", "2019春"), ("2019秋", "2019秋"), ("2019年春季", "2019春"), ("2019春季学期", "2019春"),
    ("2019年秋季学期", "2019秋"), ("2018-2019学年第一学期", "2018秋"),
    ("2018-2019学年第二学期", "2019春"), (" 2019 秋 ", "2019秋"),
    ("2019-1", None), ("2018-2020学年第一学期", None), ("秋季", None), ("2019夏", None),
])
def test_parse_terms(text, term):
    got = spells.parse_terms(pd.Series([text]))[0]
    assert (got if isinstance(got, str) else None) == term


def test_term_start_current_term_and_school_year():
    assert spells.term_start(pd.Series(["2019春", "2019秋"])).tolist() == [
        pd.Timestamp("2019-03-01"), pd.Timestamp("2019-09-01")]
    assert spells.current_term("2019-09-30") == "2019秋"
    assert spells.current_term("2019-09-01") == "2019秋"
    assert spells.current_term("2019-08-31") == "2019春"
    assert spells.current_term("2019-02-28") == "2018秋"
    assert spells.age_reference_date("2019秋") == pd.Timestamp("2019-08-31")
    assert spells.age_reference_date("2020春") == pd.Timestamp("2019-08-31")


def test_full_years_from_birth_date_else_id_number():
    birth = _d("2013-08-31", "2013-09-01", None, None, "2004-02-29")
    ids = pd.Series([None, None, "610830200309010011", "6108301", None], dtype="str")
    age = spells.full_years(birth, ids, pd.Timestamp("2019-08-31"))
    assert age.tolist()[:2] == [6, 5]
    assert age[2] == 15 and pd.isna(age[3])
    assert spells.full_years(birth[4:], ids[4:], pd.Timestamp("2005-02-28")).tolist() == [0]
    assert spells.full_years(birth[4:], ids[4:], pd.Timestamp("2005-03-01")).tolist() == [1]


def test_person_key_is_hmac_sha256_of_the_normalised_id():
    key = "县里的密钥 2019"
    idn = "61083019900101123x"
    expect = hmac.new(key.encode("utf-8"), b"61083019900101123X",
                      hashlib.sha256).hexdigest()[:16]
    got = pseudonym.person_key(pd.Series([idn, None]), key)
    assert got[0] == expect and len(got[0]) == 16 and pd.isna(got[1])
    # a fixed vector, computed by hand with Python's hmac
    assert pseudonym.person_key(pd.Series(["110101199003074511"]), "demo")[0] == "b0f4ba4da8725cd2"
    assert pseudonym.person_key(pd.Series(["110101199003074511"]), "other")[0] != expect
    with pytest.raises(QjError):
        pseudonym.person_key(pd.Series(["x"]), "")


def test_county_key_env_then_file_then_created(tmp_path, monkeypatch):
    monkeypatch.delenv(pseudonym.ENV_VAR, raising=False)
    with pytest.raises(QjError):
        pseudonym.county_key(tmp_path)
    key, note = pseudonym.county_key(tmp_path, create=True)
    assert note and (tmp_path / ".qj-key").read_text(encoding="utf-8").strip() == key
    assert pseudonym.county_key(tmp_path) == (key, None)
    monkeypatch.setenv(pseudonym.ENV_VAR, "from-env")
    assert pseudonym.county_key(tmp_path) == ("from-env", None)
    assert pseudonym.key_fingerprint(key) != key[:16] and len(pseudonym.key_fingerprint(key)) == 16


class _Pkg:
    """A package stand-in: its folder and which tables it holds."""

    def __init__(self, root, tables):
        self.root, self.tables = root, set(tables)

    def has(self, name):
        return name in self.tables


def test_report_creates_the_key_on_first_use_only_when_departments_are_there(tmp_path, monkeypatch):
    monkeypatch.delenv(pseudonym.ENV_VAR, raising=False)
    assert pseudonym.prepare_key(_Pkg(tmp_path, ["members"])) is None  # no roll: no key needed
    assert not (tmp_path / ".qj-key").exists()
    assert pseudonym.key_record(tmp_path) is None
    note = pseudonym.prepare_key(_Pkg(tmp_path, ["members", "welfare"]))
    assert note and ".qj-key" in note and (tmp_path / ".qj-key").is_file()
    assert pseudonym.prepare_key(_Pkg(tmp_path, ["members", "welfare"])) is None  # second run: silent
    key = (tmp_path / ".qj-key").read_text(encoding="utf-8").strip()
    rec = pseudonym.key_record(tmp_path)
    assert rec == {"source": ".qj-key", "fingerprint": pseudonym.key_fingerprint(key)}
    assert key not in str(rec)  # the manifest never holds the key


def test_verify_refuses_another_key(tmp_path, monkeypatch):
    monkeypatch.setenv(pseudonym.ENV_VAR, "county-key-1")
    rec = pseudonym.key_record(tmp_path)
    assert rec["source"] == "env"
    pseudonym.check_same_key(rec, tmp_path)  # same key: fine
    pseudonym.check_same_key(None, tmp_path)  # an older manifest without a record: fine
    monkeypatch.setenv(pseudonym.ENV_VAR, "county-key-2")
    with pytest.raises(QjError, match="指纹"):
        pseudonym.check_same_key(rec, tmp_path)
    monkeypatch.delenv(pseudonym.ENV_VAR)
    with pytest.raises(QjError):
        pseudonym.check_same_key(rec, tmp_path)  # no key at all


def test_demo_key_is_fixed():
    assert pseudonym.person_key(pd.Series(["110101199003074511"]), pseudonym.DEMO_KEY)[0] == (
        hmac.new(pseudonym.DEMO_KEY.encode(), b"110101199003074511", hashlib.sha256).hexdigest()[:16])
