"""The synthetic demo county (模拟示范县): :func:`simulate` runs the generator's stages in order.

1. :mod:`.people` — places, households, registration, the households of the planted cases, members;
2. :mod:`.income` — natural incomes 2014–2019 (how incomes are built is told there);
3. :mod:`.projects` — industry projects, beneficiaries, benefit rows, benefits into income;
4. :mod:`.cadres` — helper cadres, pairings (with the helper ledgers' planted cases), visits, reviews;
5. :mod:`.plants` — the planted dividend and income cases;
6. :mod:`.quality` — the planted data-quality problems;
7. :mod:`.departments` — the departments' rolls (issue #16, own random stream);
8. :mod:`.exit` — houses, water, villages and the exit assessment (#18, its own random stream);
9. :mod:`.monitoring` — monitored households and edge households (issue #17, its own random stream);
10. :mod:`.targets` — the plan's dated targets (visits, funds, loans, relocation; issue #19);

then :mod:`.truth` (the expected ledgers) and :mod:`.write` (the files), run by
:func:`qjlib.demo.write_demo`. Each stage imports only earlier ones (and :mod:`.base`).

Everything is drawn with one ``numpy.random.Generator`` seeded by ``seed``, in a fixed order and
with vectorised numpy/pandas, so the same seed gives the same county and a different seed a
different one. The order of the calls below *is* that order: some stages are called in two parts
(projects before and after the planted dividends; pairings first, visits and reviews after the
households table is drawn), and moving a call changes the county.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qjlib.core.errors import QjError
from qjlib.demo import (
    cadres,
    departments,
    income,
    monitoring,
    people,
    plants,
    projects,
    quality,
    targets,
)
from qjlib.demo import exit as exit_stage
from qjlib.demo.base import MIN_HOUSEHOLDS


@dataclass(frozen=True)
class County:
    """The generated county.

    ``tables``: the canonical tables as written, with the planted problems (private columns
    ``_q`` = problem kind, ``_qtype`` = reject|finding, ``_qcol`` = column; ``h`` / ``p`` /
    ``helper`` generator indices); ``plants``: per ledger, the planted cases (``income_decline``,
    ``shares``, ``dividend``, ``plant_helper_unpaired``, ``plant_helper_overloaded``,
    ``plant_helper_frequent_change``); ``decoys``: per ledger, the near misses that must not be
    listed; ``extras``: ``helpers_poor``, ``helper_single_extreme``, ``helpers_unreviewed``,
    ``quality_households``.
    """

    seed: int
    n: int
    tables: dict[str, pd.DataFrame]
    plants: dict[str, list[dict]] = field(default_factory=dict)
    decoys: dict[str, list[dict]] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)


def simulate(seed: int = 2019, households: int = 12000) -> County:
    """Simulate the county (clean data, plants and data-quality problems) of ``households``
    households (at least ``MIN_HOUSEHOLDS``) from ``seed``."""
    if households < MIN_HOUSEHOLDS:
        raise QjError(f"示范县至少需要 {MIN_HOUSEHOLDS} 户 / the demo county needs at least "
                      f"{MIN_HOUSEHOLDS} households (got {households})")
    rng = np.random.default_rng([seed, 610830])
    n = int(households)
    folk, planted = people.draw_people(rng, n)
    natural = income.natural_income(rng, folk)
    proj = projects.draw_projects(rng, folk, planted)
    div = plants.dividend_cases(proj.projects, planted.dividend)
    proj = projects.finish_projects(rng, proj, div.benefits)
    comp = projects.benefits_into_income(natural.components, proj.benefits)
    cad = cadres.pair_helpers(rng, folk, planted)
    comp = income.rounded(plants.helper_effects(comp, natural.activity, cad.plants))
    inc_plants = plants.plant_incomes(rng, comp, planted)
    inc = income.income_table(folk, comp, inc_plants.missing)
    hh = people.households_table(rng, folk, proj.relocated)
    visits = cadres.visits(rng, cad.pairings, cad.helpers)
    reviews = cadres.reviews(rng, cad.pairings, cad.helpers, cad.plants)
    ben = proj.benefits.copy()
    ben["project_id"] = proj.projects["project_id"].to_numpy()[ben["p"].to_numpy()]
    ben["hh_id"] = hh["hh_id"].to_numpy()[ben["h"].to_numpy()]
    tables = {
        "households": hh, "members": folk.members, "income": inc, "projects": proj.projects,
        "benefits": ben, "helpers": cad.helpers, "pairings": cad.pairings, "visits": visits,
        "reviews": reviews,
    }
    tables = quality.plant_quality(tables, planted.quality)
    tables.update(departments.draw_departments(seed, tables))  # issue #16: own random stream
    exit_tables, exit_plants = exit_stage.exit_tables(seed, tables)  # own rng stream (#18)
    county = _county(seed, n, tables | exit_tables, planted, div, inc_plants, cad.plants)
    county.extras["exit"] = exit_plants
    mon = monitoring.plant_monitoring(seed, county.tables, planted.reserved)  # issue #17: own rng stream
    county.tables.update(mon.tables)
    county.plants["monitoring"] = mon.cases
    tg = targets.draw_targets(seed, county.tables)  # issue #19: own random stream, last
    county.tables.update(tg.tables)
    county.plants["targets"], county.decoys["targets"] = tg.plants, tg.decoys
    return county


def _county(seed: int, n: int, tables: dict[str, pd.DataFrame], planted: people.Planted,
            div: plants.DividendPlants, inc: plants.IncomePlants, hp: cadres.HelperPlants) -> County:
    """The county with its plants, decoys and extras gathered per ledger."""
    return County(
        seed=seed, n=n, tables=tables,
        plants={"income_decline": inc.decline, "shares": inc.shares, "dividend": div.ledger,
                "plant_helper_unpaired": hp.plant_helper_unpaired,
                "plant_helper_overloaded": hp.plant_helper_overloaded,
                "plant_helper_frequent_change": hp.plant_helper_frequent_change},
        decoys={"income_decline": inc.decline_decoys, "dividend": div.decoys,
                "decoy_helper_overloaded": hp.decoy_helper_overloaded,
                "decoy_helper_frequent_change": hp.decoy_helper_frequent_change},
        extras={"helpers_poor": hp.poor_helpers, "helper_single_extreme": hp.extreme_helper,
                "helpers_unreviewed": hp.unreviewed, "quality_households": planted.quality},
    )
