"""Stage 4 of the demo county: helper cadres (帮扶责任人), their pairings with households, visits
and reviews — with the planted cases of the helper ledgers, which shape the pairings.

Helper pairings (结对帮扶): households of a village are dealt to its helpers so that no helper has more
than 5 (``ceil(n / r)`` helpers with r ∈ [3.5, 5]); 28 % of households changed helper once or twice
since identification; each change ends the old pairing the day before the new one starts.

The planted cases: three unpaired households, two overloaded helpers (6 and 7 households) and a
decoy with exactly 5, two households with frequent changes and two decoys at and below the
window's edge, three poor helpers (whose households do clearly worse, see :mod:`.plants`), one
helper with a single household whose income doubles in 2019, four helpers without a 2019 review.

Imports only :mod:`.base` and :mod:`.people`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.demo.base import (
    ASOF,
    COUNTY_CODE,
    MAX_HOUSEHOLDS,
    NAT,
    TOWNS,
    D,
    id_numbers,
    person_names,
    phones,
    random_dates,
    year_date,
)
from qjlib.demo.people import People, Planted

UNITS = np.array(["县委办", "县政府办", "财政局", "农业农村局", "扶贫办", "发展改革和科技局", "教育和体育局",
                  "卫生健康局", "民政局", "人社局", "住建局", "水利局", "交通运输局", "林业局", "畜牧局",
                  "自然资源和规划局", "市场监督管理局", "统计局", "县人民医院", "国家卫健委驻清帮扶工作队"])
TEAMS = np.array(["驻村工作队", "帮扶干部", "第一书记", "镇村干部"])
RANKS = np.array(["科员", "办事员", "副科级", "正科级", "村干部", "副主任科员"])


@dataclass(frozen=True)
class HelperPlants:
    """The planted cases of the helper ledgers and reviews.

    ``poor_helpers`` / ``unreviewed``: helper ids (sorted); ``poor_households``: generator indices
    of the poor helpers' households; ``extreme_helper``: id of the helper with one household,
    ``extreme_household`` that household; ``plant_*`` / ``decoy_*``: the rows truth.json lists as
    planted cases and decoys (``h`` generator index or ``helper_id``, with ``reason`` / ``why``).
    """

    poor_helpers: list[str]
    poor_households: np.ndarray
    extreme_helper: str
    extreme_household: int
    unreviewed: list[str]
    plant_helper_unpaired: list[dict]
    plant_helper_overloaded: list[dict]
    decoy_helper_overloaded: list[dict]
    plant_helper_frequent_change: list[dict]
    decoy_helper_frequent_change: list[dict]


@dataclass(frozen=True)
class Cadres:
    """Stage 4's result: ``pairings`` one row per pairing (``h`` household index, ``helper``
    helper index, start, end (NaT = ongoing), helper_id, hh_id); ``helpers`` one row per helper
    (helper_id, name, id_number, phone, unit, rank, team, ``town_idx``); ``plants``."""

    pairings: pd.DataFrame
    helpers: pd.DataFrame
    plants: HelperPlants


@dataclass
class _Roster:
    """Working state of the pairing draw (households × helpers). ``cur``: each household's
    current helper; ``nh``: helpers (the last one is the single-extreme helper); ``helper_town``:
    town index per helper; ``t_of_h``: town index per household; ``ident_date``: identification
    date; ``n_prev``: number of earlier helpers (0–2), who were ``prev1``, ``prev2`` until the
    changes ``c1`` < ``c2`` (these six set by ``_changes``)."""

    cur: np.ndarray
    nh: int
    helper_town: np.ndarray
    t_of_h: np.ndarray
    ident_date: np.ndarray | None = None
    n_prev: np.ndarray | None = None
    c1: np.ndarray | None = None
    c2: np.ndarray | None = None
    prev1: np.ndarray | None = None
    prev2: np.ndarray | None = None


def _deal(rng: np.random.Generator, people: People, extreme_hh: int) -> _Roster:
    """Deal each village's households to ``ceil(n / r)`` helpers (r ~ U[3.5, 5]) in random order;
    one more helper, of the village of ``extreme_hh``, for the single-extreme case."""
    hh, villages = people.hh, people.villages
    n = len(hh)
    hv = hh["vidx"].to_numpy()
    nv = len(villages)
    cnt = np.bincount(hv, minlength=nv)
    r = rng.uniform(3.5, 5.0, nv)
    hv_n = np.where(cnt > 0, np.ceil(cnt / r), 0).astype(int)
    off = np.cumsum(hv_n) - hv_n
    order = np.lexsort((rng.random(n), hv))
    pos = np.empty(n, int)
    pos[order] = np.arange(n) - np.searchsorted(hv[order], hv[order])
    cur = off[hv] + pos % hv_n[hv]
    nh = int(hv_n.sum()) + 1  # + the single-extreme helper
    helper_v = np.r_[np.repeat(np.arange(nv), hv_n), hv[extreme_hh]]
    helper_town = villages["town_idx"].to_numpy()[helper_v]
    t_of_h = villages["town_idx"].to_numpy()[hv]
    return _Roster(cur=cur, nh=nh, helper_town=helper_town, t_of_h=t_of_h)


def _changes(rng: np.random.Generator, ro: _Roster, ident: np.ndarray) -> None:
    """Identification dates (04-01 … 10-31 of the year identified), the number of earlier helpers
    (0, 1, 2 with probabilities .72, .24, .04), the change dates (120 days after identification
    … 2019-08-31, at least 30 days apart) and the earlier helpers (same town, not the current)."""
    n = len(ident)
    ro.ident_date = random_dates(rng, year_date(ident, "04-01"), year_date(ident, "10-31"), n)
    ro.n_prev = rng.choice(3, n, p=[0.72, 0.24, 0.04])
    lo = ro.ident_date + 120 * D
    hi = np.datetime64("2019-08-31")
    c1 = random_dates(rng, lo, hi, n)
    c2 = random_dates(rng, lo, hi, n)
    c1, c2 = np.minimum(c1, c2), np.maximum(c1, c2)
    ro.c1, ro.c2 = c1, np.where(c2 == c1, c2 + 30 * D, c2)
    ro.prev1, ro.prev2 = _other_helper(rng, ro), _other_helper(rng, ro)


def _other_helper(rng: np.random.Generator, ro: _Roster) -> np.ndarray:
    """Per household, a helper of the same town (not the current one, not the extreme one)."""
    n = len(ro.cur)
    hs_by_town = [np.flatnonzero(ro.helper_town[:-1] == t) for t in range(len(TOWNS))]
    out = np.empty(n, int)
    for t in range(len(TOWNS)):
        idx = np.flatnonzero(ro.t_of_h == t)
        pool = hs_by_town[t]
        if len(idx) == 0:
            continue
        ch = pool[rng.integers(0, len(pool), len(idx))]
        ch = np.where(ch == ro.cur[idx], pool[(np.searchsorted(pool, ch) + 1) % len(pool)], ch)
        out[idx] = ch
    return out


def _special_pairings(ro: _Roster, ph: list[int]) -> dict[int, list[tuple]]:
    """The planted households' pairings, household → [(helper, start, end)] (a planting table:
    unpaired ph0–ph2, frequent change ph3–ph4, decoys ph5–ph6, the single-extreme case ph7)."""
    cur, prev1, prev2, ident_date = ro.cur, ro.prev1, ro.prev2, ro.ident_date
    d = np.datetime64
    special = {}  # household -> list of (helper, start, end)
    special[ph[0]] = [(cur[ph[0]], ident_date[ph[0]], d("2019-06-30"))]
    special[ph[1]] = []
    special[ph[2]] = [(prev1[ph[2]], ident_date[ph[2]], d("2017-05-31")), (cur[ph[2]], d("2017-06-01"), d("2019-09-29"))]
    special[ph[3]] = [(prev1[ph[3]], ident_date[ph[3]], d("2018-09-30")), (prev2[ph[3]], d("2018-10-01"), d("2019-02-28")),
                      (cur[ph[3]], d("2019-03-01"), NAT)]
    special[ph[4]] = [(prev1[ph[4]], ident_date[ph[4]], d("2018-12-09")), (prev2[ph[4]], d("2018-12-10"), d("2019-03-31")),
                      (prev1[ph[4]], d("2019-04-01"), d("2019-08-14")), (cur[ph[4]], d("2019-08-15"), NAT)]
    special[ph[5]] = [(prev1[ph[5]], ident_date[ph[5]], d("2018-09-29")), (prev2[ph[5]], d("2018-09-30"), d("2019-02-28")),
                      (cur[ph[5]], d("2019-03-01"), NAT)]
    special[ph[6]] = [(prev1[ph[6]], ident_date[ph[6]], d("2019-04-30")), (cur[ph[6]], d("2019-05-01"), NAT)]
    ext_helper = ro.nh - 1
    special[ph[7]] = [(cur[ph[7]], ident_date[ph[7]], d("2017-02-28")), (ext_helper, d("2017-03-01"), NAT)]
    return special


def _poor_helpers(rng: np.random.Generator, ro: _Roster, cur_final: np.ndarray, active: np.ndarray,
                  reserved: np.ndarray) -> list[int]:
    """Three helpers of different towns with 3–5 active households, none of them reserved."""
    nh = ro.nh
    load = np.bincount(cur_final[active], minlength=nh)
    bad = np.zeros(nh, bool)
    np.logical_or.at(bad, cur_final, reserved)
    cand = np.flatnonzero((load >= 3) & (load <= 5) & ~bad)
    cand = cand[rng.permutation(len(cand))]
    poor = []
    used_towns = set()
    for c in cand:
        t = ro.helper_town[c]
        if t in used_towns:
            continue
        poor.append(int(c))
        used_towns.add(t)
        if len(poor) == 3:
            break
    return poor


def _overload(rng: np.random.Generator, ro: _Roster, cur_final: np.ndarray, active: np.ndarray,
              reserved: np.ndarray, poor_mask: np.ndarray, taken: set[int]) -> list[tuple[int, int]]:
    """Bring helpers to 6 and 7 active households, and a decoy to exactly ``MAX_HOUSEHOLDS`` (5),
    moving at most one household from each donor helper of the same town (``cur_final`` and
    ``ro.cur`` are changed in place, ``taken`` grows); returns [(helper, target)]."""
    nh, t_of_h = ro.nh, ro.t_of_h
    load = np.bincount(cur_final[active], minlength=nh)
    over = []
    for target in (6, 7, MAX_HOUSEHOLDS):
        cands = np.flatnonzero((load >= 3) & ~np.isin(np.arange(nh), list(taken)))
        cands = cands[rng.permutation(len(cands))]
        for hlp in cands:
            t = ro.helper_town[hlp]
            donors = np.flatnonzero(active & ~reserved & (t_of_h == t) & (cur_final != hlp)
                                    & ~poor_mask & np.isin(cur_final, np.flatnonzero(load >= 3)))
            donors = donors[~np.isin(cur_final[donors], list(taken))]
            need = target - load[hlp]
            # at most one household from each donor helper
            _, first = np.unique(cur_final[donors], return_index=True)
            donors = donors[np.sort(first)]
            if need < 0 or len(donors) < need:
                continue
            mv = donors[:need]
            taken.update(int(x) for x in np.unique(cur_final[mv]))
            cur_final[mv] = hlp
            ro.cur[mv] = hlp
            load = np.bincount(cur_final[active], minlength=nh)
            over.append((int(hlp), target))
            taken.add(int(hlp))
            break
    return over


def _pairing_rows(ro: _Roster, special: dict[int, list[tuple]], hh: pd.DataFrame,
                  helper_ids: np.ndarray) -> pd.DataFrame:
    """One row per pairing: natural households [prev1, (prev2),] cur, each change ending the old
    pairing the day before; the special ones as listed; sorted by household, start, helper."""
    n = len(ro.cur)
    cur, prev1, prev2, c1, c2, ident_date = ro.cur, ro.prev1, ro.prev2, ro.c1, ro.c2, ro.ident_date
    natural = np.ones(n, bool)
    natural[list(special)] = False
    rows_h, rows_hp, rows_s, rows_e = [], [], [], []
    h0 = np.flatnonzero(natural & (ro.n_prev == 0))
    rows_h.append(h0); rows_hp.append(cur[h0]); rows_s.append(ident_date[h0]); rows_e.append(np.full(len(h0), NAT))  # noqa: E702
    h1 = np.flatnonzero(natural & (ro.n_prev == 1))
    rows_h += [h1, h1]
    rows_hp += [prev1[h1], cur[h1]]
    rows_s += [ident_date[h1], c1[h1]]
    rows_e += [c1[h1] - D, np.full(len(h1), NAT)]
    h2 = np.flatnonzero(natural & (ro.n_prev == 2))
    rows_h += [h2, h2, h2]
    rows_hp += [prev1[h2], prev2[h2], cur[h2]]
    rows_s += [ident_date[h2], c1[h2], c2[h2]]
    rows_e += [c1[h2] - D, c2[h2] - D, np.full(len(h2), NAT)]
    for h, lst in special.items():
        for hlp, s, e in lst:
            rows_h.append(np.array([h]))
            rows_hp.append(np.array([hlp]))
            rows_s.append(np.array([s], dtype="datetime64[D]"))
            rows_e.append(np.array([e], dtype="datetime64[D]"))
    pr = pd.DataFrame({"h": np.concatenate(rows_h), "helper": np.concatenate(rows_hp),
                       "start": np.concatenate(rows_s).astype("datetime64[D]"),
                       "end": np.concatenate(rows_e).astype("datetime64[D]")})
    pr["helper_id"] = helper_ids[pr["helper"].to_numpy()]
    pr["hh_id"] = hh["hh_id"].to_numpy()[pr["h"].to_numpy()]
    return pr.sort_values(["hh_id", "start", "helper_id"], kind="stable").reset_index(drop=True)


def _helpers_table(rng: np.random.Generator, nh: int, helper_town: np.ndarray, helper_ids: np.ndarray) -> pd.DataFrame:
    """The helpers: 70 % men born 1962–1996, 60 % registered in the county (the rest in the
    city), a team, a unit (town cadres: their town's government) and a rank."""
    male = rng.random(nh) < 0.7
    birth = random_dates(rng, np.datetime64("1962-01-01"), np.datetime64("1996-12-31"), nh)
    region = np.where(rng.random(nh) < 0.6, COUNTY_CODE, "610802")
    # helpers' sequence numbers start at 611, above any household member's of the same birth day
    ids = np.where(region == COUNTY_CODE, id_numbers(COUNTY_CODE, birth, male, rng, seq_offset=600),
                   id_numbers("610802", birth, male, rng, seq_offset=600))
    team = rng.choice(TEAMS, nh, p=[0.25, 0.5, 0.05, 0.2])
    unit = np.where(team == "镇村干部", np.array([t[0] for t in TOWNS])[helper_town] + "人民政府",
                    rng.choice(UNITS, nh))
    rank = np.where(team == "镇村干部", rng.choice(np.array(["村干部", "科员", "副科级"]), nh),
                    rng.choice(RANKS[:4], nh, p=[0.5, 0.15, 0.25, 0.1]))
    return pd.DataFrame({"helper_id": helper_ids, "name": person_names(rng, male), "id_number": ids,
                         "phone": phones(rng, nh), "unit": unit, "rank": rank, "team": team,
                         "town_idx": helper_town})


def _helper_plants(helper_ids: np.ndarray, ph: list[int], poor: list[int], poor_mask: np.ndarray,
                   ext_helper: int, over: list[tuple[int, int]], unreviewed: np.ndarray) -> HelperPlants:
    """The planted helper cases with their reasons (a planting table)."""

    def hid(x):
        return [str(helper_ids[i]) for i in x]

    return HelperPlants(
        poor_helpers=sorted(hid(poor)),
        poor_households=np.flatnonzero(poor_mask),
        extreme_helper=str(helper_ids[ext_helper]),
        extreme_household=ph[7],
        unreviewed=sorted(hid(unreviewed)),
        plant_helper_unpaired=[
            {"h": ph[0], "reason": "结对于 2019-06-30 结束，未再结对"},
            {"h": ph[1], "reason": "从未结对帮扶干部"},
            {"h": ph[2], "reason": "结对于 2019-09-29 结束（截至日前一天），未再结对"}],
        plant_helper_overloaded=[{"helper_id": str(helper_ids[x]), "households": t}
                                 for x, t in over if t > MAX_HOUSEHOLDS],
        decoy_helper_overloaded=[{"helper_id": str(helper_ids[x]), "why": "恰好结对5户，不超过上限"}
                                 for x, t in over if t == MAX_HOUSEHOLDS],
        plant_helper_frequent_change=[
            {"h": ph[3], "reason": "12个月内调换2次（2018-10-01、2019-03-01；窗口起点之后第一天计入）"},
            {"h": ph[4], "reason": "12个月内调换3次"}],
        decoy_helper_frequent_change=[
            {"h": ph[5], "why": "2018-09-30 的调换恰在窗口起点（不含），窗口内仅1次"},
            {"h": ph[6], "why": "12个月内仅调换1次"}],
    )


def pair_helpers(rng: np.random.Generator, people: People, planted: Planted) -> Cadres:
    """Stage 4, first part: helpers, pairings and the planted helper cases, drawn in this order:
    the deal, the changes, the poor helpers, the overloaded helpers, the helpers table, the four
    helpers left without a 2019 review."""
    hh, reserved, ph = people.hh, planted.reserved, planted.helper_hh
    n = len(hh)
    ro = _deal(rng, people, ph[7])
    _changes(rng, ro, people.reg.ident)
    special = _special_pairings(ro, ph)
    ext_helper = ro.nh - 1
    cur_final = ro.cur.copy()
    cur_final[ph[7]] = ext_helper
    active = np.ones(n, bool)
    active[[ph[0], ph[1], ph[2]]] = False
    # poor helpers: 3 helpers with 3–5 households, none reserved, all past-exited
    poor = _poor_helpers(rng, ro, cur_final, active, reserved)
    poor_mask = np.isin(cur_final, poor)
    ro.n_prev = np.where(poor_mask, 0, ro.n_prev)  # paired since identification
    taken = set(poor) | {ext_helper}
    over = _overload(rng, ro, cur_final, active, reserved, poor_mask, taken)
    helper_ids = np.char.add(COUNTY_CODE + "BF", np.char.zfill(np.arange(1, ro.nh + 1).astype(str), 5))
    pr = _pairing_rows(ro, special, hh, helper_ids)
    helpers = _helpers_table(rng, ro.nh, ro.helper_town, helper_ids)
    unrev_c = np.setdiff1d(np.arange(ro.nh - 1), np.array(sorted(taken | set(poor)), int))
    unreviewed = np.sort(rng.choice(unrev_c, 4, replace=False))
    plants = _helper_plants(helper_ids, ph, poor, poor_mask, ext_helper, over, unreviewed)
    return Cadres(pairings=pr, helpers=helpers, plants=plants)


def visits(rng: np.random.Generator, pairings: pd.DataFrame, helpers: pd.DataFrame) -> pd.DataFrame:
    """Home visits 2018-01-01 … as-of: Poisson(rate × days/365) per pairing, rate 4–14 a year by helper."""
    lo = np.maximum(pairings["start"].to_numpy(), np.datetime64("2018-01-01"))
    end = pairings["end"].to_numpy()
    hi = np.where(np.isnat(end), ASOF, np.minimum(end, ASOF))
    days = ((hi - lo) / D).astype(float) + 1
    days = np.where(days > 0, days, 0)
    rate = rng.uniform(4, 14, len(helpers))[pairings["helper"].to_numpy()]
    k = rng.poisson(rate * days / 365.0)
    idx = np.repeat(np.arange(len(pairings)), k)
    date = random_dates(rng, lo[idx], hi[idx], len(idx))
    v = pd.DataFrame({"helper_id": pairings["helper_id"].to_numpy()[idx], "hh_id": pairings["hh_id"].to_numpy()[idx],
                      "date": date})
    v["kind"] = rng.choice(np.array(["入户走访", "电话回访", "集中走访"]), len(v), p=[0.75, 0.2, 0.05])
    v = v.drop_duplicates(["helper_id", "hh_id", "date"]).sort_values(["date", "helper_id", "hh_id"], kind="stable")
    return v.reset_index(drop=True)


def reviews(rng: np.random.Generator, pairings: pd.DataFrame, helpers: pd.DataFrame, hp: HelperPlants) -> pd.DataFrame:
    """Ratings 2018 and 2019: 群众测评 by each household paired at the rating date, 领导点评, 干部访谈."""
    nh = len(helpers)
    hid = helpers["helper_id"].to_numpy()
    effect = rng.normal(0, 4, nh)
    poor = np.isin(hid, hp.poor_helpers)
    effect = np.where(poor, effect - 6, effect)
    unrev = np.isin(hid, hp.unreviewed)
    out = []
    for year, lo, hi in ((2018, "2018-11-01", "2018-12-20"), (2019, "2019-06-01", "2019-09-20")):
        h = np.arange(nh)
        if year == 2019:
            h = h[~unrev]
        dv = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        dl = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        di = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        out.append(pd.DataFrame({"helper": h, "date": dl, "source": "领导点评", "hh_id": "",
                                 "score": np.clip(np.rint(rng.normal(82, 7, len(h)) + effect[h]), 50, 100)}))
        out.append(pd.DataFrame({"helper": h, "date": di, "source": "干部访谈", "hh_id": "",
                                 "score": np.clip(np.rint(rng.normal(76, 9, len(h)) + effect[h]), 30, 100)}))
        # villagers: each household paired with the helper on the rating date
        date_of = np.full(nh, NAT)
        date_of[h] = dv
        pd_ = date_of[pairings["helper"].to_numpy()]
        s, e = pairings["start"].to_numpy(), pairings["end"].to_numpy()
        on = ~np.isnat(pd_) & (s <= pd_) & (np.isnat(e) | (e >= pd_))
        ph = pairings[on]
        out.append(pd.DataFrame({"helper": ph["helper"].to_numpy(), "date": pd_[on], "source": "群众测评",
                                 "hh_id": ph["hh_id"].to_numpy(),
                                 "score": np.clip(np.rint(rng.normal(88, 6, int(on.sum())) + effect[ph["helper"].to_numpy()]), 40, 100)}))
    r = pd.concat(out, ignore_index=True)
    r["helper_id"] = hid[r["helper"].to_numpy()]
    r = r.drop_duplicates(["helper_id", "date", "source", "hh_id"])
    return r.sort_values(["date", "helper_id", "source", "hh_id"], kind="stable").reset_index(drop=True)
