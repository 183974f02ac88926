"""One-at-a-time sensitivity of Reichheld's counterfactual to the five rows of his
profit ladder (docs/evidence.md, column "moves most" of those rows).

The ladder (``oat.LADDER``: acquisition cost per account, basket growth and
serve-cost saving with tenure) is off in ecommerce, so these rows are measured
on services, as ``tests/test_stylized.py``'s ``services`` fixture runs it
(3,000 customers, 260 weeks, array engine, static competition, the focal firm
on the proactive preset), on its seeds 0-5: the change in the focal firm's
cumulative discounted profit that the ×0.2 cut of its customers' lapse hazard
brings (Reichheld's test, free, nothing else changed), with each field at the
low and the high end of its ``ranges.PLAUSIBLE`` range and everything else at
the services value. Ratio of the seeds' means, paired seeds.

    nice -n 10 python scripts/evidence_oat/ladder.py --out scripts/evidence_oat/ladder.csv
"""

from __future__ import annotations

import argparse
import datetime
import time

import pandas as pd

from relsim import evaluate, load_scenario
from relsim.market import events
from relsim.scenario.ranges import PLAUSIBLE, with_values

#: Reichheld's counterfactual, as tests/test_stylized.py's SERVICES_HAZARD_CUT.
HAZARD_CUT = 0.2


def cut_focal_lapse_hazard(factor):
    """``events.talkers_and_leavers`` with the focal firm's (firm 0's) lapse hazard times ``factor``,
    the same churn draws (tests/test_stylized.py, ``_cut_focal_lapse_hazard``)."""
    original = events.talkers_and_leavers

    def cut(state, firm, members, talk_draws, churn_draws, gathered=None, **computed):
        talking, positive, leaving, relationship = original(state, firm, members, talk_draws, churn_draws,
                                                            gathered, **computed)
        if firm == 0:
            leaving = churn_draws[members] < factor * state.model.hazard(relationship, members)
        return talking, positive, leaving, relationship
    return cut


def main():
    from oat import LADDER
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--out", default="scripts/evidence_oat/ladder.csv")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    scenario = load_scenario("services", **{"market.engine": "arrays", "market.competition": "static"})
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    started, cpu = time.time(), time.process_time()
    original = events.talkers_and_leavers
    records = []
    for row in (r for r in PLAUSIBLE if r.path in LADDER):
        for end, value in (("low", row.low), ("high", row.high)):
            changed = with_values(scenario, {row.path: value}, source="ladder")
            base = evaluate({"strategy": "proactive"}, changed, seeds)["profit"].mean()
            events.talkers_and_leavers = cut_focal_lapse_hazard(HAZARD_CUT)
            try:
                kept = evaluate({"strategy": "proactive"}, changed, seeds)["profit"].mean()
            finally:
                events.talkers_and_leavers = original
            records.append({"field": row.path, "end": end, "value": value, "baseline_profit": base,
                            "cut_profit": kept, "change_pct": 100 * (kept / base - 1), "measured": today})
            print(row.path, end, f"{value:g}", f"base {base:,.0f}, cut {kept:,.0f}, {100 * (kept / base - 1):+.1f} %",
                  f"{time.process_time() - cpu:.0f}s CPU, {time.time() - started:.0f}s wall", flush=True)
            pd.DataFrame(records).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
