"""The DuckDB side of ``bench_departments.py``: the contract's definitions
(``shared/contract/departments.md``) written in SQL — ID checksum keys, the registered persons,
each rule's joins and window logic — to run on the same frames as qjlib."""

from __future__ import annotations

import numpy as np

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def _idk(col: str) -> str:
    """SQL: the integer key of a valid GB 11643 ID in ``col`` (−1 otherwise), as qjlib's."""
    u = f"upper({col})"
    total = " + ".join(f"(ascii(substr({u}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS))
    return (f"CASE WHEN regexp_full_match({u}, '[0-9]{{17}}[0-9X]') AND substr('10X98765432', "
            f"CAST(({total}) % 11 AS INTEGER) + 1, 1) = substr({u}, 18, 1) THEN "
            f"CAST(substr({col}, 1, 17) AS BIGINT) * 11 + CASE WHEN substr({u}, 18, 1) = 'X' THEN 10 "
            f"ELSE CAST(substr({col}, 18, 1) AS BIGINT) END ELSE -1 END")


def _active(d: str, s: str = "start", e: str = '"end"') -> str:
    return f"({s} <= {d} AND ({e} IS NULL OR {e} >= {d}))"


SETUP = """
CREATE TEMP TABLE p AS
SELECT m.person_id, m.hh_id, m.name, m.id_number, m.health, m.dibao, h.town, h.village,
       h.exit_status, h.exit_year, {idk_m} AS k,
       coalesce(m.birth_date, try_strptime(substr(m.id_number, 7, 8), '%Y%m%d')) AS birth,
       (m.member_status IS NULL OR m.member_status = '正常') AS counted
FROM members m LEFT JOIN households h USING (hh_id);
CREATE TEMP TABLE dd AS SELECT k, min(death_date) AS death_date, arg_min(_file, struct_pack(d := death_date, f := _file, r := _row)) AS f,
       arg_min(_row, struct_pack(d := death_date, f := _file, r := _row)) AS r
FROM (SELECT *, {idk} AS k FROM deaths) WHERE k >= 0 AND death_date IS NOT NULL GROUP BY k;
ALTER TABLE p ADD COLUMN alive BOOLEAN;
UPDATE p SET alive = k NOT IN (SELECT k FROM dd WHERE death_date <= {A});
"""

ROLL_KEYS = "CREATE TEMP TABLE r_{t} AS SELECT *, {idk} AS k FROM {t};"

RULE_SQL = {
    "dibao_eligible_unpaid": """
SELECT i.hh_id AS key, NULL AS f, NULL AS r FROM (SELECT * FROM income WHERE year = {Y}) i
JOIN households h USING (hh_id)
WHERE h.labor_capacity = '无劳动能力'
  AND (round((i.net_income - coalesce(i.dibao_pay, 0) - coalesce(i.wubao_pay, 0)) * 100) <= 0
       OR round((i.net_income - coalesce(i.dibao_pay, 0) - coalesce(i.wubao_pay, 0)) * 100)
          < round({std} * 100) * i.size)
  AND i.hh_id NOT IN (SELECT p.hh_id FROM r_welfare w JOIN p USING (k)
                      WHERE w.k >= 0 AND w.programme IN ('dibao', 'tekun') AND {act_A})""",
    "dibao_register_mismatch": """
WITH a AS (SELECT p.person_id, min(struct_pack(f := w._file, r := w._row)) AS fr FROM r_welfare w JOIN p USING (k)
           WHERE w.k >= 0 AND w.programme = 'dibao' AND {act_A} GROUP BY p.person_id)
SELECT p.person_id AS key, a.fr.f AS f, a.fr.r AS r FROM p LEFT JOIN a USING (person_id)
WHERE p.counted AND ((p.dibao AND a.person_id IS NULL) OR (NOT p.dibao AND a.person_id IS NOT NULL))""",
    "welfare_pay_mismatch": """
WITH s AS (SELECT DISTINCT w._file, w._row, p.hh_id, w.monthly_amount,
             greatest(0, (CASE WHEN w."end" IS NULL OR w."end" >= DATE '{Y}-12-01' THEN 12
                               WHEN year(w."end") < {Y} THEN 0 ELSE month(w."end") END)
                       - (CASE WHEN w.start <= DATE '{Y}-01-01' THEN 1 WHEN year(w.start) > {Y} THEN 13
                               ELSE month(w.start) + CAST(day(w.start) > 1 AS INTEGER) END) + 1) AS months
           FROM r_welfare w JOIN p USING (k) WHERE w.k >= 0 AND w.programme IN ('dibao', 'tekun')),
roll AS (SELECT hh_id, sum(monthly_amount * months) AS pay, min(struct_pack(f := _file, r := _row)) AS fr,
                bool_or(months > 0 AND monthly_amount IS NULL) AS unknown FROM s GROUP BY hh_id),
i AS (SELECT DISTINCT ON (hh_id) hh_id, coalesce(dibao_pay, 0) + coalesce(wubao_pay, 0) AS reg
      FROM income WHERE year = {Y})
SELECT i.hh_id AS key, roll.fr.f AS f, roll.fr.r AS r FROM i LEFT JOIN roll USING (hh_id)
WHERE NOT coalesce(roll.unknown, false)
  AND abs(round(i.reg * 100) - round(coalesce(roll.pay, 0) * 100)) * {tq}
      > {tp} * round(coalesce(roll.pay, 0) * 100)
  AND abs(round(i.reg * 100) - round(coalesce(roll.pay, 0) * 100)) > 10000""",
    "welfare_not_registered": """
SELECT id_number AS key, min(struct_pack(f := _file, r := _row)).f AS f, min(struct_pack(f := _file, r := _row)).r AS r FROM r_welfare w
WHERE programme IN ('dibao', 'tekun') AND {act_A} AND id_number IS NOT NULL
  AND (k < 0 OR k NOT IN (SELECT k FROM p WHERE k >= 0)) GROUP BY id_number""",
    "dibao_dropped_at_exit": """
WITH s AS (SELECT p.hh_id, w.start, w."end", w._file, w._row, make_date(CAST(p.exit_year AS INTEGER), 1, 1) AS jan1,
             last_day(make_date(CAST(p.exit_year AS INTEGER) + CAST(({gm} + 11) // 12 AS INTEGER),
                                CAST(({gm} + 11) % 12 + 1 AS INTEGER), 1)) AS deadline
           FROM r_welfare w JOIN p USING (k)
           WHERE w.k >= 0 AND w.programme IN ('dibao', 'tekun') AND p.exit_status = 'exited'
             AND p.exit_year IS NOT NULL),
g AS (SELECT hh_id, bool_or(start <= jan1 AND ("end" IS NULL OR "end" >= jan1)) AS on1,
             bool_or(("end" IS NULL OR "end" >= jan1)
                     AND NOT ("end" IS NOT NULL AND "end" <= {A} AND "end" < deadline)) AS bad,
             min(struct_pack(f := _file, r := _row)) FILTER (WHERE "end" IS NULL OR "end" >= jan1) AS fr
      FROM s GROUP BY hh_id)
SELECT hh_id AS key, fr.f AS f, fr.r AS r FROM g WHERE on1 AND NOT bad""",
    "deceased_paid": """
WITH sp AS (SELECT k, start, "end", _file, _row FROM r_welfare WHERE k >= 0
            UNION ALL SELECT k, start, "end", _file, _row FROM r_posts WHERE k >= 0),
hit AS (SELECT sp.k, min(struct_pack(f := sp._file, r := sp._row)) AS fr FROM sp JOIN dd USING (k)
        WHERE ("end" IS NULL AND {A} > dd.death_date + INTERVAL {grace} DAY)
           OR "end" > dd.death_date + INTERVAL {grace} DAY GROUP BY sp.k)
SELECT coalesce(p.person_id, CAST(hit.k AS VARCHAR)) AS key, hit.fr.f AS f, hit.fr.r AS r
FROM hit LEFT JOIN p USING (k)""",
    "deceased_pending": """
SELECT p.person_id AS key, dd.f, dd.r FROM p JOIN dd USING (k)
WHERE p.counted AND p.k >= 0 AND dd.death_date <= {A}""",
    "disability_no_card": """
SELECT person_id AS key, NULL AS f, NULL AS r FROM p
WHERE counted AND alive AND contains(health, '残疾') AND k NOT IN (SELECT k FROM r_disability WHERE k >= 0)""",
    "card_health_mismatch": """
SELECT p.person_id AS key, min(struct_pack(f := c._file, r := c._row)).f AS f, min(struct_pack(f := c._file, r := c._row)).r AS r
FROM r_disability c JOIN p USING (k)
WHERE c.k >= 0 AND p.counted AND NOT coalesce(contains(p.health, '残疾'), false) GROUP BY p.person_id""",
    "uninsured": """
WITH good AS (SELECT DISTINCT k FROM r_insurance WHERE year = {C} AND k >= 0
              AND (coalesce(basic, false) OR exempt IS NOT NULL)),
seen AS (SELECT p.person_id, min(struct_pack(f := i._file, r := i._row)) AS fr FROM r_insurance i JOIN p USING (k)
         WHERE i.year = {C} AND i.k >= 0 GROUP BY p.person_id)
SELECT p.person_id AS key, seen.fr.f AS f, seen.fr.r AS r FROM p LEFT JOIN seen USING (person_id)
WHERE p.counted AND p.alive AND date_diff('day', p.birth, {A}) > 90
  AND (p.k < 0 OR p.k NOT IN (SELECT k FROM good))""",
    "reimbursement_low": """
WITH st AS (SELECT k, admitted, sum(reimbursed) AS reimb, sum(coalesce(eligible_cost, total_cost)) AS base,
                   max(discharged) AS dis, min(struct_pack(f := _file, r := _row)) AS fr
            FROM r_hospital WHERE k >= 0 AND year(admitted) = {C} GROUP BY k, admitted)
SELECT p.person_id || ' ' || CAST(st.admitted AS VARCHAR) AS key, st.fr.f AS f, st.fr.r AS r
FROM st JOIN p USING (k)
WHERE p.counted AND st.dis <= {A} AND round(st.base * 100) > 0
  AND round(st.reimb * 100) * {rq} < {rp} * round(st.base * 100)""",
    "dropout": """
SELECT p.person_id AS key, min(struct_pack(f := e._file, r := e._row)).f AS f, min(struct_pack(f := e._file, r := e._row)).r AS r
FROM r_enrollment e JOIN band p USING (k)
WHERE e.k >= 0 AND e.term = '{term}' AND e.status = '辍学' GROUP BY p.person_id""",
    "enrollment_not_found": """
SELECT person_id AS key, NULL AS f, NULL AS r FROM band
WHERE k < 0 OR k NOT IN (SELECT k FROM r_enrollment WHERE k >= 0 AND (term = '{term}'
                         OR (stage = '初中' AND status = '毕业')))""",
    "aid_repeat": """
SELECT p.person_id || ' ' || a.term || ' ' || a.programme AS key, min(struct_pack(f := a._file, r := a._row)).f AS f,
       min(struct_pack(f := a._file, r := a._row)).r AS r
FROM r_student_aid a JOIN p USING (k) WHERE a.k >= 0 AND p.counted
GROUP BY p.person_id, a.term, a.programme HAVING count(*) > 1""",
    "aid_multi_channel": """
SELECT p.person_id || ' ' || a.term AS key, min(struct_pack(f := a._file, r := a._row)).f AS f, min(struct_pack(f := a._file, r := a._row)).r AS r
FROM r_student_aid a JOIN p USING (k) WHERE a.k >= 0 AND p.counted AND a.stage = '高校'
GROUP BY p.person_id, a.term HAVING count(DISTINCT a.channel) > {maxch}""",
    "post_multiple": """
WITH c AS (SELECT k, post_id, _file, _row, greatest(start, {low} + INTERVAL 1 DAY) AS s,
                  least(coalesce("end", {A}), {A}) AS e FROM r_posts WHERE k >= 0),
c2 AS (SELECT * FROM c WHERE s <= e),
hit AS (SELECT DISTINCT a.k FROM c2 a JOIN c2 b ON a.k = b.k AND a.post_id < b.post_id
        WHERE greatest(a.s, b.s) <= least(a.e, b.e)),
f AS (SELECT k, min(struct_pack(f := _file, r := _row)) AS fr FROM c2 WHERE k IN (SELECT k FROM hit) GROUP BY k)
SELECT coalesce(p.person_id, CAST(f.k AS VARCHAR)) AS key, f.fr.f AS f, f.fr.r AS r
FROM f LEFT JOIN p USING (k)""",
    "post_rotation": """
WITH t AS (SELECT *, "end" IS NOT NULL AND "end" + INTERVAL 1 DAY < start + INTERVAL {minm} MONTH AS short
           FROM r_posts WHERE start <= {A} AND ("end" IS NULL OR "end" > {low})),
g AS (SELECT post_id, count(DISTINCT id_number) AS holders, bool_and(short) AS allshort,
             min(struct_pack(f := _file, r := _row)) AS fr FROM t GROUP BY post_id)
SELECT post_id AS key, fr.f AS f, fr.r AS r FROM g WHERE holders >= 2 AND allshort""",
    "post_not_registered": """
SELECT id_number || ' ' || post_id AS key, min(struct_pack(f := _file, r := _row)).f AS f, min(struct_pack(f := _file, r := _row)).r AS r
FROM r_posts WHERE post_type IN ('生态护林员', '公益特岗', '公益岗位') AND {act_A} AND id_number IS NOT NULL
  AND (k < 0 OR k NOT IN (SELECT k FROM p WHERE k >= 0)) GROUP BY id_number, post_id""",
}

BAND = """
CREATE TEMP TABLE band AS SELECT * FROM p
WHERE counted AND alive AND birth IS NOT NULL
  AND year(DATE '{ref}') - year(birth) - CAST(month(birth) * 100 + day(birth) > {md} AS INTEGER)
      BETWEEN {amin} AND {amax}"""
