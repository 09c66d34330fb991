"""Stage 6 of the demo county: the planted data-quality problems, each with the treatment the loader owes it.

They sit on households that carry no other planted case (``Planted.quality``). A row
with a problem carries three private columns the writer drops: ``_q`` (the finding/reject kind of
``docs/design.md``), ``_qtype`` (``reject`` or ``finding``) and ``_qcol`` (the column concerned).

| household | table | problem | treatment |
|---|---|---|---|
| q0, q1 | households | 户主证件号码 fails the GB 11643 checksum | finding ``id_checksum`` |
| q2 | households | 户主证件号码 turned into a number by Excel (6.10830…E+17) | finding ``id_mangled`` |
| q3 | members | a member's 证件号码 fails the checksum | finding ``id_checksum`` |
| q4 | income 2018 | the file's 纯收入 is 500 yuan off the components | finding ``net_income_mismatch`` |
| q5 | income 2019 | the file's 人均纯收入 is 100 yuan off | finding ``net_per_capita_mismatch`` |
| q6 | income 2019 | 生态补偿金 +200 so the items no longer sum to 转移性收入 | finding ``transfer_items_mismatch`` |
| q7 | income 2018 | the row appears twice | reject ``duplicate_key`` (the later copy) |
| q7 | members | the head's row appears twice | reject ``duplicate_key`` (the later copy) |
| q8 | income 2017 | 工资性收入 reads 待核实 | reject ``unparseable_number`` (a missing year) |
| q9 | households | 主要致贫原因 = 其它原因, not in the national list | finding ``not_in_list`` |
| — | members | a person whose 户编号 is in no household | finding ``orphan_member`` |
| — | projects | a 合计 line under the projects | reject ``total_row`` |

Imports only :mod:`.base`: the problems are planted on the finished tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.demo.base import COUNTY_CODE

_ID_CHECK = "10X98765432"


def _mark(df: pd.DataFrame, rows, kind: str, qtype: str, col: str) -> None:
    """Mark ``rows`` of ``df`` (in place) as carrying problem ``kind`` of treatment ``qtype``."""
    for c in ("_q", "_qtype", "_qcol"):
        if c not in df.columns:
            df[c] = ""
    df.loc[rows, "_q"] = kind
    df.loc[rows, "_qtype"] = qtype
    df.loc[rows, "_qcol"] = col


def _bad_check(idn: str) -> str:
    """The same ID with a wrong check character."""
    right = idn[-1].upper()
    wrong = _ID_CHECK[(_ID_CHECK.index(right) + 3) % 11]
    return idn[:17] + wrong


def plant_quality(tables: dict[str, pd.DataFrame], q: list[int]) -> dict[str, pd.DataFrame]:
    """Stage 6: the tables with the problems of the module table planted on households ``q``
    (generator indices, ten of them); every table gains the private columns ``_q``, ``_qtype``
    and ``_qcol``. Draws nothing; the given frames are not changed."""
    t = dict(tables)
    hh = t["households"]
    hid = hh["hh_id"].to_numpy()
    for name in t:
        t[name] = t[name].assign(_q="", _qtype="", _qcol="")
    hh = t["households"]

    ids = hh["head_id_number"].astype(object)
    for h in q[:2]:
        ids.iloc[h] = _bad_check(ids.iloc[h])
    # Excel keeps 15 significant digits of a number: 610830195003121234 → 6.10830195003121E+17
    ids.iloc[q[2]] = float(f"{int(ids.iloc[q[2]][:17] + '0'):.14e}")
    hh["head_id_number"] = ids
    _mark(hh, q[:2], "id_checksum", "finding", "head_id_number")
    _mark(hh, [q[2]], "id_mangled", "finding", "head_id_number")
    hh.loc[q[9], "main_cause"] = "其它原因"
    _mark(hh, [q[9]], "not_in_list", "finding", "main_cause")

    m = t["members"]
    r3 = int(np.flatnonzero(m["hh_id"].to_numpy() == hid[q[3]])[-1])
    m.loc[r3, "id_number"] = _bad_check(m.loc[r3, "id_number"])
    _mark(m, [r3], "id_checksum", "finding", "id_number")
    # orphan: a person of a household that is not in the households table
    r9 = int(np.flatnonzero(m["hh_id"].to_numpy() == hid[q[9]])[0])
    orphan = m.loc[[r9]].copy()
    ghost = hid[q[9]][:12] + "9990001"
    orphan["hh_id"] = ghost
    orphan["person_id"] = ghost + "01"
    orphan["hh"] = -1
    body = COUNTY_CODE + pd.Timestamp(orphan["birth_date"].iloc[0]).strftime("%Y%m%d") + (
        "987" if bool(orphan["male"].iloc[0]) else "988")
    orphan["id_number"] = body + _check(body)
    _mark(orphan, orphan.index, "orphan_member", "finding", "hh_id")
    # duplicate: the head of q7 appears twice (the copy right below)
    r7 = int(np.flatnonzero(m["hh_id"].to_numpy() == hid[q[7]])[0])
    dup = m.loc[[r7]].copy()
    _mark(dup, dup.index, "duplicate_key", "reject", "person_id")
    m = pd.concat([m.iloc[: r7 + 1], dup, m.iloc[r7 + 1:], orphan], ignore_index=True)
    t["members"] = m.sort_values(["hh_id"], kind="stable").reset_index(drop=True)

    inc = t["income"]
    key = inc["hh_id"].to_numpy(), inc["year"].to_numpy()

    def row(h: int, y: int) -> int:
        return int(np.flatnonzero((key[0] == hid[h]) & (key[1] == y))[0])

    a = row(q[4], 2018)
    inc.loc[a, "net_income"] = inc.loc[a, "net_income"] + 500
    _mark(inc, [a], "net_income_mismatch", "finding", "net_income")
    b = row(q[5], 2019)
    inc.loc[b, "net_per_capita"] = inc.loc[b, "net_per_capita"] + 100
    _mark(inc, [b], "net_per_capita_mismatch", "finding", "net_per_capita")
    c = row(q[6], 2019)
    inc.loc[c, "eco_comp"] = inc.loc[c, "eco_comp"] + 200
    _mark(inc, [c], "transfer_items_mismatch", "finding", "transfer")
    e = row(q[8], 2017)
    inc["wage"] = inc["wage"].astype(object)
    inc.loc[e, "wage"] = "待核实"
    _mark(inc, [e], "unparseable_number", "reject", "wage")
    d = row(q[7], 2018)
    dup = inc.loc[[d]].copy()
    _mark(dup, dup.index, "duplicate_key", "reject", "hh_id,year")
    t["income"] = pd.concat([inc.iloc[: d + 1], dup, inc.iloc[d + 1:]], ignore_index=True)

    pj = t["projects"]
    total = pd.DataFrame({"project_id": ["合计"], "investment": [pj["investment"].sum()],
                          "planned_households": [pj["planned_households"].sum()],
                          "_q": ["total_row"], "_qtype": ["reject"], "_qcol": [""]})
    t["projects"] = pd.concat([pj, total], ignore_index=True)
    return t


def _check(body17: str) -> str:
    """The GB 11643 check character of a 17-digit ID body."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return _ID_CHECK[sum(int(c) * k for c, k in zip(body17, w, strict=True)) % 11]
