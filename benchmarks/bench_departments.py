"""Province-scale benchmark of the departments comparison (#16) against DuckDB.

    .venv/bin/python benchmarks/bench_departments.py [--scale 1.0] [--repeat 1]

A synthetic province (vectorised numpy, fixed seed): ``1,000,000 × scale`` households with
about 3 registered persons each (valid GB 11643 ID numbers, half with ``birth_date``), two
income years, and department rolls totalling ``10,000,000 × scale`` rows in the proportions of
real rolls — insurance one row per person-year (5.0 M), enrolment per student-term (2.0 M),
hospital settlement rows (0.9 M, 1–3 per stay), student aid payments (0.7 M), welfare spells
(0.6 M), disability cards (0.4 M), post spells (0.3 M), deaths (0.1 M). About a third of the roll
rows name people outside the register, 0.3 % carry an ID failing the checksum.

The frames are built once and pickled; each side then runs in its own child process that loads
them, so that each side's peak resident memory (``VmHWM``, frames included) is its own:

- **qjlib**: :func:`qjlib.analyses.departments.analyse` on a fresh context — normalised ID keys
  of the register and of every roll, the registered persons, all eighteen rules, the
  ``dept_mismatch`` ledger (details, ``person_key`` HMACs, sorted) and the matched counts.
- **DuckDB**: the same definitions written from ``shared/contract/departments.md`` in SQL
  (``bench_departments_sql.py``) on the
  same frames — ID checksum and keys, the persons (counted, alive, birth), the eighteen rules'
  joins and window logic (active on A, months active in Y, overlaps in the 12-month window,
  ages on 31 August, stays summed, terms and channels, deaths + grace), one row per (rule,
  subject) fetched into pandas sorted, and the matched counts.

Prints both times, the ratio qjlib ÷ DuckDB (target ≤ 1.0), each side's peak memory (target
< 4 GiB for qjlib), the machine's load, and each rule's count on both sides.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

A = pd.Timestamp("2019-09-30")
Y = 2019
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
ROLL_ROWS = {"insurance": 5_000_000, "enrollment": 2_000_000, "hospital": 900_000,
             "student_aid": 700_000, "welfare": 600_000, "disability": 400_000, "posts": 300_000,
             "deaths": 100_000}
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚")


# ----------------------------------------------------------------------------------- generator

def _text(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """``prefix`` + zero-padded ``numbers`` as a ``str`` Series (built as bytes, vectorised)."""
    pw = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((numbers.astype(np.int64)[:, None] // pw) % 10 + ord("0")).astype(np.uint8)
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    raw = np.hstack([np.broadcast_to(pre, (len(numbers), len(pre))), digits])
    return pd.Series(np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel().astype(str),
                     dtype="str")


def _serial(group: np.ndarray) -> np.ndarray:
    """1, 2, … within runs of equal sorted ``group`` values."""
    first = np.r_[True, group[1:] != group[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    return np.arange(len(group)) - start + 1


def _ids(n: int, birth: np.ndarray) -> np.ndarray:
    """``n`` distinct valid ID numbers as bytes (n, 18): region 610000 + i mod 9000, birth date,
    serial (i ÷ 9000) mod 1000, GB 11643 check character."""
    i = np.arange(n, dtype=np.int64)
    ymd = pd.DatetimeIndex(birth)
    body = ((610000 + i % 9000) * 10**11 + (ymd.year * 10000 + ymd.month * 100 + ymd.day).to_numpy()
            .astype(np.int64) * 1000 + (i // 9000) % 1000)
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    raw = np.empty((n, 18), dtype=np.uint8)
    raw[:, :17] = digits + ord("0")
    raw[:, 17] = CHECK[(digits @ WEIGHTS) % 11]
    return raw


def _as_str(raw: np.ndarray) -> pd.Series:
    return pd.Series(np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel().astype(str), dtype="str")


def _pick(rng, values, n, p=None) -> pd.Series:
    """``n`` values drawn from ``values`` (None = NA) as ``str``."""
    arr = np.array(values, dtype=object)
    return pd.Series(arr[rng.choice(len(arr), n, p=p)], dtype="str")


def _days(base: str, span: np.ndarray) -> np.ndarray:
    return (np.datetime64(base, "D") + span.astype("timedelta64[D]")).astype("datetime64[us]")


def _prov(df: pd.DataFrame, stem: str, town_idx: np.ndarray) -> pd.DataFrame:
    """The loader's provenance: one file per town, rows numbered within it from 3."""
    order = np.argsort(town_idx, kind="stable")
    row = np.empty(len(df), dtype=np.int64)
    counts = np.bincount(town_idx, minlength=town_idx.max() + 1 if len(town_idx) else 1)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    row[order] = np.arange(len(df)) - starts + 3
    df["_file"] = f"{stem}/t" + _text("", town_idx, 3) + ".xlsx"
    df["_row"] = row
    return df


def make_province(scale: float, seed: int = 2019) -> dict[str, pd.DataFrame]:
    """The synthetic province's canonical frames (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_hh = max(int(1_000_000 * scale), 1000)
    towns = np.array([f"镇{k:03d}" for k in range(100)], dtype=object)
    hh_town = rng.integers(0, 100, n_hh)
    size = np.clip(rng.poisson(2.0, n_hh) + 1, 1, 8)
    exited = rng.random(n_hh) < 0.8
    households = pd.DataFrame({
        "hh_id": _text("6108", np.arange(n_hh), 9),
        "town": pd.Series(towns[hh_town], dtype="str"),
        "village": pd.Series(towns[hh_town], dtype="str") + "村" + _text("", rng.integers(0, 20, n_hh), 2),
        "size": size,
        "labor_capacity": _pick(rng, ["有劳动能力", "弱劳动能力", "无劳动能力"], n_hh, [0.6, 0.25, 0.15]),
        "exit_status": pd.Series(np.where(exited, "exited", "not_exited"), dtype="str"),
        "exit_year": pd.array(np.where(exited, rng.integers(2014, 2020, n_hh), 0), dtype="Int64"),
    })
    households.loc[~exited, "exit_year"] = pd.NA
    n_reg = int(size.sum())
    n_all = n_reg + int(0.6 * n_reg)  # registered persons, then people outside the register
    age_days = rng.integers(0, 90 * 365, n_all)
    birth = (np.datetime64("2019-09-30", "D") - age_days.astype("timedelta64[D]"))
    idraw = _ids(n_all, birth)
    ids = _as_str(idraw)
    names = _pick(rng, SURNAMES, n_all) + _pick(rng, GIVEN, n_all)
    hh_of = np.repeat(np.arange(n_hh), size)
    members = pd.DataFrame({
        "person_id": _text("6108", hh_of * 100 + _serial(hh_of), 11),  # 户编号 + 2 digits
        "hh_id": households["hh_id"].take(hh_of).reset_index(drop=True),
        "name": names[:n_reg].reset_index(drop=True),
        "id_number": ids[:n_reg].reset_index(drop=True),
        "birth_date": pd.Series(np.where(rng.random(n_reg) < 0.5, birth[:n_reg], np.datetime64("NaT")),
                                dtype="datetime64[us]"),
        "health": _pick(rng, ["健康", "长期慢性病", "残疾", "患有大病", "长期慢性病、残疾"], n_reg,
                        [0.75, 0.10, 0.08, 0.05, 0.02]),
        "dibao": pd.array(rng.choice(np.array([True, False, None], dtype=object), n_reg,
                                     p=[0.12, 0.8, 0.08]), dtype="boolean"),
        "member_status": _pick(rng, [None, "正常", "迁出", "死亡", "服役"], n_reg,
                               [0.9, 0.07, 0.01, 0.01, 0.01]),
    })
    inc_hh = np.concatenate([np.arange(n_hh), np.arange(n_hh)])
    net = rng.lognormal(np.log(4000), 0.6, 2 * n_hh) * size[inc_hh]
    dpay = np.where(rng.random(2 * n_hh) < 0.15, np.round(rng.uniform(2000, 12000, 2 * n_hh), 2), 0.0)
    income = pd.DataFrame({
        "hh_id": households["hh_id"].take(inc_hh).reset_index(drop=True),
        "year": pd.array(np.repeat([2018, 2019], n_hh), dtype="Int64"),
        "size": pd.array(size[inc_hh], dtype="Int64"),
        "net_income": np.round(net, 2), "dibao_pay": dpay,
        "wubao_pay": np.where(rng.random(2 * n_hh) < 0.02, 3000.0, np.nan),
    })
    person_town = np.concatenate([hh_town[hh_of], rng.integers(0, 100, n_all - n_reg)])
    ctx = {"rng": rng, "ids": idraw, "names": names, "n_reg": n_reg, "n_all": n_all,
           "age_days": age_days, "town": person_town, "towns": towns, "scale": scale,
           "disabled": np.flatnonzero(members["health"].str.contains("残疾").to_numpy(dtype=bool))}
    tables = {"households": households, "members": members, "income": income}
    for t, fn in ROLLS.items():
        tables[t] = fn(ctx, max(int(ROLL_ROWS[t] * scale), 100))
    _consistent(ctx, tables, hh_of)
    return tables


def _consistent(c: dict, t: dict[str, pd.DataFrame], hh_of: np.ndarray) -> None:
    """Most people consistent, as in a real province: the register's ``dibao`` flag follows the
    roll's spells active on A and the income rows of Y its payments, each but for a few per cent."""
    rng, who, w = c["rng"], c["welfare_who"], t["welfare"]
    reg = who < c["n_reg"]
    start, end = w["start"].to_numpy(), w["end"].to_numpy()
    a = np.datetime64(A.date(), "us")
    prog = w["programme"].to_numpy(dtype=object)
    active = (start <= a) & (np.isnat(end) | (end >= a))
    flag = np.zeros(c["n_reg"], dtype=bool)
    flag[who[reg & active & (prog == "dibao")]] = True
    flip = rng.random(c["n_reg"]) < 0.015
    dib = pd.array(flag ^ flip, dtype="boolean")
    dib[rng.random(c["n_reg"]) < 0.03] = pd.NA
    t["members"]["dibao"] = dib
    months = np.zeros(len(w), dtype=np.int64)
    for m in range(1, 13):
        d = np.datetime64(f"{Y}-{m:02d}-01", "us")
        months += (start <= d) & (np.isnat(end) | (end >= d))
    pay = np.where(reg & np.isin(prog, ["dibao", "tekun"]), w["monthly_amount"].to_numpy() * months, 0.0)
    hh_pay = np.bincount(hh_of[who[reg]], weights=pay[reg], minlength=len(t["households"]))
    inc = t["income"]
    y = (inc["year"] == Y).to_numpy(dtype=bool)
    off = rng.random(len(hh_pay)) < 0.03
    inc.loc[y, "dibao_pay"] = np.round(np.where(off, hh_pay * 1.5 + 600, hh_pay), 2)
    inc.loc[y, "wubao_pay"] = np.nan


def _who(c: dict, n: int, registered: float, pool: np.ndarray | None = None) -> np.ndarray:
    """``n`` person indices: a share ``registered`` from the register, the rest from outside
    (or drawn from ``pool``)."""
    rng = c["rng"]
    if pool is not None:
        return pool[rng.integers(0, len(pool), n)]
    reg = rng.random(n) < registered
    return np.where(reg, rng.integers(0, c["n_reg"], n), rng.integers(c["n_reg"], c["n_all"], n))


def _people(c: dict, who: np.ndarray, stem: str, town: bool = False) -> pd.DataFrame:
    """ID number (0.3 % failing the checksum, 2 % lower-case x) and name of the rows' persons."""
    rng = c["rng"]
    raw = c["ids"][who].copy()
    bad = rng.random(len(who)) < 0.003
    raw[bad, 17] = np.where(raw[bad, 17] == ord("0"), ord("1"), ord("0"))
    raw[:, 17] = np.where((raw[:, 17] == ord("X")) & (rng.random(len(who)) < 0.02), ord("x"), raw[:, 17])
    df = pd.DataFrame({"id_number": _as_str(raw), "name": c["names"].take(who).reset_index(drop=True)})
    if town:
        df["town"] = pd.Series(c["towns"][c["town"][who]], dtype="str")
        df["village"] = df["town"] + "一村"
    return df


def _welfare(c, n):
    rng = c["rng"]
    who = _who(c, n, 0.75)
    c["welfare_who"] = who
    df = _people(c, who, "welfare", town=True)
    prog = rng.choice(np.array(["dibao", "tekun", "临时救助"], dtype=object), n, p=[0.8, 0.15, 0.05])
    df["programme"] = pd.Series(prog, dtype="str")
    df["class"] = _pick(rng, ["A类", "B类", "C类"], n)
    start = rng.integers(0, 2830, n)  # 2012-01-01 … 2019-09
    df["start"] = _days("2012-01-01", start)
    df["end"] = pd.Series(np.where(rng.random(n) < 0.55, np.datetime64("NaT"),
                                   _days("2012-01-01", start + rng.integers(30, 1500, n))),
                          dtype="datetime64[us]")
    df["monthly_amount"] = np.where(prog == "tekun", 550.0, np.round(rng.uniform(250, 420, n), 0))
    return _prov(df, "低保特困名册", c["town"][who])


def _disability(c, n):
    rng = c["rng"]
    dis = c["disabled"]
    held = rng.permutation(dis)[: min(int(len(dis) * 0.95), int(n * 0.9))]  # most disabled hold one
    who = np.concatenate([held, _who(c, n - len(held), 0.05)])
    df = _people(c, who, "disability")
    cat, grade = rng.integers(1, 8, n), rng.integers(1, 5, n)
    df["card_number"] = df["id_number"] + _text("", cat * 10 + grade, 2)
    cats = np.array(["视力", "听力", "言语", "肢体", "智力", "精神", "多重"], dtype=object)
    df["category"] = pd.Series(cats[cat - 1], dtype="str")
    df["grade"] = pd.Series(np.array(["一级", "二级", "三级", "四级"], dtype=object)[grade - 1], dtype="str")
    df["issued"] = _days("2005-01-01", rng.integers(0, 5000, n))
    return _prov(df, "残疾人名册", c["town"][who])


def _insurance(c, n):
    rng = c["rng"]
    n_reg = c["n_reg"]
    cur = np.flatnonzero(rng.random(n_reg) < 0.97)[: int(n * 0.6)]
    rest = n - len(cur)
    who = np.concatenate([cur, _who(c, rest, 0.4)])
    year = np.concatenate([np.full(len(cur), 2019), np.where(rng.random(rest) < 0.5, 2019, 2018)])
    df = _people(c, who, "insurance")
    df["year"] = pd.array(year, dtype="Int64")
    basic = rng.random(n) < 0.985
    df["basic"] = pd.array(basic, dtype="boolean")
    df["scheme"] = _pick(rng, ["城乡居民", "职工", "异地"], n, [0.9, 0.08, 0.02])
    df["critical"] = pd.array(basic & (rng.random(n) < 0.97), dtype="boolean")
    df["family_doctor"] = pd.array(rng.random(n) < 0.7, dtype="boolean")
    df["exempt"] = _pick(rng, [None, "在校大学生", "服役", "新生儿"], n, [0.99, 0.006, 0.002, 0.002])
    return _prov(df, "医保参保", c["town"][who])


def _hospital(c, n):
    rng = c["rng"]
    k = rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1])
    k = k[: np.searchsorted(np.cumsum(k), n) + 1]
    stays = len(k)
    who_s = _who(c, stays, 0.7)
    adm_s = rng.integers(0, 636, stays)  # 2018-01-01 … 2019-09-28
    stay = np.repeat(np.arange(stays), k)[:n]
    first = np.r_[True, stay[1:] != stay[:-1]]
    who = who_s[stay]
    df = _people(c, who, "hospital")
    df["admitted"] = _days("2018-01-01", adm_s[stay])
    df["discharged"] = _days("2018-01-01", adm_s[stay] + rng.integers(1, 25, stays)[stay])
    total = np.round(rng.lognormal(np.log(8000), 0.8, n), 2)
    df["total_cost"] = np.where(first, total, 0.0)
    df["eligible_cost"] = np.where(first, np.round(total * rng.uniform(0.8, 1.0, n), 2), 0.0)
    df["reimbursed"] = np.round(np.where(first, 0.8, 0.1) * total * rng.uniform(0.9, 1.12, n), 2)
    df["out_of_pocket"] = np.nan
    df["hospital_name"] = _pick(rng, ["县医院", "中医院", "镇卫生院"], n)
    return _prov(df, "住院报销", c["town"][who])


def _students(c) -> np.ndarray:
    age_years = c["age_days"] // 365
    return np.flatnonzero((age_years >= 5) & (age_years <= 19))


def _enrollment(c, n):
    rng = c["rng"]
    pool = _students(c)
    terms = np.array(["2018春", "2018秋", "2019春", "2019秋"], dtype=object)
    p_term = np.array([0.5, 0.5, 0.5, 0.95])
    take = rng.random((len(pool), 4)) < p_term
    st, tm = np.nonzero(take)
    sel = rng.permutation(len(st))[:n]
    st, tm = st[sel], tm[sel]
    who = pool[st]
    df = _people(c, who, "enrollment")
    df["term"] = pd.Series(terms[tm], dtype="str")
    age = c["age_days"][who] // 365
    stage = np.select([age < 6, age < 12, age < 15, age < 18], ["学前", "小学", "初中", "高中"], "高校")
    df["school"] = _pick(rng, ["一中", "二中", "中心小学"], len(who))
    df["stage"] = pd.Series(stage.astype(object), dtype="str")
    status = rng.choice(np.array(["在校", "辍学", "毕业", "转学", "休学"], dtype=object), len(who),
                        p=[0.965, 0.005, 0.02, 0.005, 0.005])
    df["status"] = pd.Series(status, dtype="str")
    return _prov(df, "学籍", c["town"][who])


def _student_aid(c, n):
    rng = c["rng"]
    who = _who(c, n, 0.8, pool=_students(c))
    df = _people(c, who, "student_aid")
    df["term"] = _pick(rng, ["2018秋", "2019春", "2019秋"], n)
    age = c["age_days"][who] // 365
    df["stage"] = pd.Series(np.select([age < 12, age < 15, age < 18], ["小学", "初中", "高中"], "高校")
                            .astype(object), dtype="str")
    df["programme"] = _pick(rng, ["营养餐", "寄宿生生活补助", "国家助学金", "雨露计划", "新生入学资助"], n)
    df["channel"] = _pick(rng, ["教体", "民政", "扶贫办", "团委", "慈善"], n, [0.7, 0.1, 0.1, 0.05, 0.05])
    df["amount"] = np.round(rng.choice([500.0, 1000.0, 1500.0, 3000.0], n), 2)
    return _prov(df, "学生资助", c["town"][who])


def _posts(c, n):
    rng = c["rng"]
    n_posts = int(n * 0.8)
    post = np.concatenate([np.arange(n_posts), rng.integers(0, n_posts, n - n_posts)])
    who = _who(c, n, 0.75)
    df = pd.DataFrame({"post_id": _text("G", post, 8)})
    kinds = np.array(["生态护林员", "公益特岗", "公益岗位", "保洁员", "其他"], dtype=object)
    ptype = rng.choice(5, n_posts, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    df["post_type"] = pd.Series(kinds[ptype[post]], dtype="str")
    df = pd.concat([df, _people(c, who, "posts", town=True)], axis=1)
    start = rng.integers(0, 1370, n)  # 2016-01-01 … 2019-09
    df["start"] = _days("2016-01-01", start)
    df["end"] = pd.Series(np.where(rng.random(n) < 0.6, np.datetime64("NaT"),
                                   _days("2016-01-01", start + rng.integers(60, 800, n))),
                          dtype="datetime64[us]")
    df["monthly_pay"] = 800.0
    return _prov(df, "生态护林员", c["town"][who])


def _deaths(c, n):
    rng = c["rng"]
    who = _who(c, n, 0.5)
    df = _people(c, who, "deaths")
    df["death_date"] = _days("2015-01-01", rng.integers(0, 1800, n))
    return _prov(df, "死亡人员", c["town"][who])


ROLLS = {"welfare": _welfare, "disability": _disability, "insurance": _insurance,
         "hospital": _hospital, "enrollment": _enrollment, "student_aid": _student_aid,
         "posts": _posts, "deaths": _deaths}


# ------------------------------------------------------------------------------------ qjlib side

class ProvincePackage:
    """The part of a loaded package the analysis reads, over the synthetic frames."""

    pseudonym_key = "province-bench-key"

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables = tables

    def has(self, name: str) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def run_qjlib(tables: dict[str, pd.DataFrame], par) -> dict[str, int]:
    """Matching and the eighteen rules: :func:`qjlib.analyses.departments.analyse` on a fresh
    context; each rule's row count."""
    from qjlib.analyses import departments
    from qjlib.core.context import Context

    ctx = Context(ProvincePackage(tables), par)
    res = departments.analyse(ctx)
    counts = res.ledger["rule"].value_counts()
    out = {k: int(counts.get(k, 0)) for k in departments.RULES}
    out.update({f"matched.{t}": v for t, v in res.matched.items()})
    return out


# ----------------------------------------------------------------------------------- DuckDB side

from bench_departments_sql import BAND, ROLL_KEYS, RULE_SQL, SETUP, _active, _idk  # noqa: E402


def run_duckdb(tables: dict[str, pd.DataFrame], par) -> dict[str, int]:
    """The same joins and window logic in DuckDB SQL; each rule's row count."""
    import duckdb

    from qjlib.core.exact import fraction
    from qjlib.core.spells import age_reference_date, current_term, window_bounds

    con = duckdb.connect()
    for t, df in tables.items():
        con.register(t, df)
    fa = f"DATE '{A.date()}'"
    term = current_term(A)
    ref = age_reference_date(term)
    tp, tq = fraction(float(par.get("dept.pay_tolerance")))
    rp, rq = fraction(float(par.get("health.reimbursement_target")))
    fmt = {"A": fa, "Y": Y, "C": A.year, "idk": _idk("id_number"), "idk_m": _idk("m.id_number"),
           "act_A": _active(fa), "std": float(par.get("dept.dibao_standard")[Y]), "tp": tp, "tq": tq,
           "gm": int(par.get("dept.gradual_exit_months")), "grace": int(par.get("dept.death_grace_days")),
           "rp": rp, "rq": rq, "term": term, "maxch": int(par.get("education.max_aid_channels")),
           "low": f"DATE '{window_bounds(A)[0].date()}'", "minm": int(par.get("posts.min_spell_months")),
           "ref": ref.date(), "md": ref.month * 100 + ref.day,
           "amin": int(par.get("education.age_min")), "amax": int(par.get("education.age_max"))}
    for stmt in SETUP.format(**fmt).split(";"):
        if stmt.strip():
            con.execute(stmt)
    for t in ROLLS:
        con.execute(ROLL_KEYS.format(t=t, idk=fmt["idk"]))
    con.execute(BAND.format(**fmt))
    union = " UNION ALL ".join(f"SELECT '{rule}' AS rule, key, CAST(f AS VARCHAR) AS file, "
                               f"CAST(r AS BIGINT) AS row FROM ({sql.format(**fmt)})"
                               for rule, sql in RULE_SQL.items())
    ledger = con.execute(f"SELECT * FROM ({union}) ORDER BY rule, key").df()
    counts = ledger["rule"].value_counts()
    out = {k: int(counts.get(k, 0)) for k in RULE_SQL}
    for t in ROLLS:
        out[f"matched.{t}"] = con.execute(
            f"SELECT count(*) FROM r_{t} WHERE k >= 0 AND k IN (SELECT k FROM p)").fetchone()[0]
    return out


# ----------------------------------------------------------------------------------- the runs

def _rss(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def child(side: str, frames: str) -> None:
    """One side in this process: load the frames, reset the peak, run, print JSON."""
    import duckdb  # noqa: F401  (imports are not timed)

    import qjlib.analyses.departments  # noqa: F401
    from qjlib.core.params import load_params

    par = load_params("2019Q3")
    with open(frames, "rb") as fh:
        tables = pickle.load(fh)
    gc.collect()
    base = _rss("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    t = time.perf_counter()
    counts = (run_qjlib if side == "qjlib" else run_duckdb)(tables, par)
    secs = time.perf_counter() - t
    print(json.dumps({"seconds": secs, "peak": _rss("VmHWM"), "base": base, "counts": counts}))


def _spawn(side: str, frames: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--child", side, "--frames", frames],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{side} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", choices=("qjlib", "duckdb"))
    ap.add_argument("--frames")
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.frames)
        return 0
    import duckdb

    t0 = time.perf_counter()
    tables = make_province(args.scale)
    rolls = sum(len(tables[t]) for t in ROLLS)
    mib = sum(df.memory_usage(deep=True).sum() for df in tables.values()) / 2**20
    print(f"province ×{args.scale:g}: {len(tables['households']):,} households, "
          f"{len(tables['members']):,} registered persons, {len(tables['income']):,} income rows, "
          f"rolls {rolls:,} rows ({', '.join(f'{t} {len(tables[t]):,}' for t in ROLLS)}); "
          f"{mib:,.0f} MiB; built in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory(prefix="bench-dept-") as tmp:
        frames = str(Path(tmp) / "frames.pkl")
        with open(frames, "wb") as fh:
            pickle.dump(tables, fh, protocol=5)
        del tables
        gc.collect()
        qj, db = [], []
        for _ in range(args.repeat):  # alternate, so that other load hits both sides alike
            qj.append(_spawn("qjlib", frames))
            db.append(_spawn("duckdb", frames))
    load = os.getloadavg()
    rules = list(qj[0]["counts"])
    print(f"\n{'rule / matched rows':<32}{'qjlib':>12}{'DuckDB':>12}")
    same = True
    for k in rules:
        a, b = qj[0]["counts"][k], db[0]["counts"].get(k)
        same &= a == b
        print(f"{k:<32}{a:>12,}{b:>12,}{'' if a == b else '  ≠'}")
    tq = min(r["seconds"] for r in qj)
    td = min(r["seconds"] for r in db)
    pq, pd_ = max(r["peak"] for r in qj), max(r["peak"] for r in db)
    print(f"\n{'side':<10}{'best s':>9}{'runs':>24}{'peak GiB':>10}{'frames GiB':>12}")
    for name, rs, best, peak in (("qjlib", qj, tq, pq), (f"DuckDB {duckdb.__version__}", db, td, pd_)):
        runs = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        print(f"{name:<10}{best:>9.2f}{runs:>24}{peak:>10.2f}{rs[0]['base']:>12.2f}")
    ok = tq <= td and pq < 4.0
    print(f"ratio qjlib/DuckDB = {tq / td:.2f} (target ≤ 1.0); qjlib peak {pq:.2f} GiB (< 4 GiB: "
          f"{pq < 4.0}); rule counts {'identical' if same else 'DIFFER'}; load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; cores {os.cpu_count()} → "
          f"{'OK' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
