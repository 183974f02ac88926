"""One-at-a-time sensitivity of the ecommerce scenario to every behavioural
constant and cost default (docs/evidence.md, column "moves most").

Each field is set to the low and the high end of its plausible range (by
default ×0.5 and ×1.5 of the default, kept inside the schema's bounds; a
default of 0 goes to the range given in RANGES), and the focal firm runs
``transactional`` and ``relationship`` on the same seeds (common random
numbers). Outputs, per field and end: the relationship − transactional gap in
annual retention (points), in cumulative discounted profit, and the
relationship firm's market share in the last year. A small market
(``--customers``, default 500, 156 weeks) and six seeds (``--seeds``): with
adaptive competitors one seed's change of the retention gap between the two
ends has an SD of about 8 points (measured 2026-11-30 from the 2- and the
6-seed run, docs/evidence.md), so two seeds (the default until then) could
not rank the fields; six resolve changes beyond about ±6 points.

    python scripts/evidence_oat/oat.py --customers 500 --seeds 6 --out scripts/evidence_oat/oat.csv

``--fields PATH,...`` (or ``--new``: every row of ``ranges.PLAUSIBLE`` not yet
in ``--out``, but for the five ``LADDER`` rows) runs only those rows, over their plausible ranges as the
uncertainty analysis draws them (``ranges_for`` on the resized scenario, so a
range moves with a value the resizing moves, e.g. ``market.half_saturation``;
nested paths and list fields such as ``segments[].expectation``, one factor
for every item, via ``with_values``), and merges them into ``--out``: rows of
other fields are kept, a field's old rows and the baseline are replaced.

    python scripts/evidence_oat/oat.py --new

``--plausible`` runs every row of ``ranges.PLAUSIBLE`` but the ``LADDER`` rows
this way (the whole table on today's code; ``--first PATH,...`` runs those rows
before the others). Rows are merged into ``--out`` after every field, each
with the date it was measured (column ``measured``), so an interrupted run
keeps what it measured.

    nice -n 10 python scripts/evidence_oat/oat.py --plausible
"""

from __future__ import annotations

import argparse
import datetime
import time

import numpy as np
import pandas as pd

from relsim import load_scenario
from relsim.market.metrics import summarize
from relsim.market.runner import simulate
from relsim.scenario.ranges import ranges_for, with_values
from relsim.scenario.schema import BehaviourSpec, ChurnSpec, CostSpec, OperationsSpec, WordOfMouthSpec, from_dict

SECTIONS = {"behaviour": BehaviourSpec, "churn": ChurnSpec, "word_of_mouth": WordOfMouthSpec,
            "costs": CostSpec, "operations": OperationsSpec}
SKIP = {"churn.model", "churn.lapsed_return", "word_of_mouth.enabled", "word_of_mouth.seeding",
        "word_of_mouth.seeding_share", "word_of_mouth.seeding_contacts", "operations.enabled",
        "churn.constant_retention", "churn.reference_satisfaction", "churn.reference_commitment"}
#: Plausible ranges where ×0.5/×1.5 does not fit (docs/evidence.md).
RANGES = {"behaviour.defect_experience": (0.0, 0.2), "behaviour.habit_max": (0.8, 0.97),
          "churn.dormancy_weeks": (13, 52), "costs.accounts_per_manager": (10, 50),
          "behaviour.exit_after_failure": (0.17, 0.49), "costs.reward_redemption": (0.5, 0.9)}
#: Reichheld's profit ladder: off in ecommerce, measured on services (docs/evidence.md); not picked by --new.
LADDER = {"costs.acquisition_per_customer", "behaviour.basket_growth", "behaviour.basket_growth_weeks",
          "costs.serve_cost_saving", "costs.serve_cost_saving_weeks"}


def fields():
    for section, spec in SECTIONS.items():
        for name, info in spec.model_fields.items():
            key = f"{section}.{name}"
            if key in SKIP or info.annotation not in (float, int):
                continue
            yield key, info


def bounded(value, info):
    for meta in info.metadata:
        for attr, op in (("ge", max), ("gt", max), ("le", min), ("lt", min)):
            bound = getattr(meta, attr, None)
            if bound is not None:
                margin = 1e-6 if attr in ("gt", "lt") else 0.0
                value = op(value, bound + margin if attr == "gt" else bound - margin if attr == "lt" else bound)
    return value


def run(data, seeds):
    scenario = data if not isinstance(data, dict) else from_dict(data, source="oat")
    rows = {}
    for strategy in ("transactional", "relationship"):
        for seed in seeds:
            steps = simulate(scenario.with_focal_strategy(strategy), seed=seed).steps
            focal = summarize(steps).iloc[0]
            rows[(strategy, seed)] = focal
    gap = np.mean([rows[("relationship", s)]["annual_retention"] - rows[("transactional", s)]["annual_retention"]
                   for s in seeds])
    profit = np.mean([rows[("relationship", s)]["cumulative_discounted_profit"]
                      - rows[("transactional", s)]["cumulative_discounted_profit"] for s in seeds])
    share = np.mean([rows[("relationship", s)]["market_share"] for s in seeds])
    retention = np.mean([rows[("relationship", s)]["annual_retention"] for s in seeds])
    return {"retention_gap": 100 * gap, "profit_gap": profit, "relationship_share": share,
            "relationship_retention": retention}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--out", default="scripts/evidence_oat/oat.csv")
    parser.add_argument("--sections", default="", help="comma-separated sections to run (default: all)")
    parser.add_argument("--fields", default="", help="comma-separated PLAUSIBLE paths, merged into --out")
    parser.add_argument("--new", action="store_true", help="every PLAUSIBLE path not yet in --out, merged")
    parser.add_argument("--plausible", action="store_true", help="every PLAUSIBLE path but LADDER, merged")
    parser.add_argument("--first", default="", help="with --plausible: comma-separated paths to run first")
    args = parser.parse_args()
    if args.fields or args.new or args.plausible:
        return plausible_rows(args)
    sections = set(filter(None, args.sections.split(",")))
    base = load_scenario("ecommerce", **{"market.engine": "arrays"}).resized(args.customers)
    data = base.model_dump(mode="json")
    data["market"]["weeks"] = args.weeks
    seeds = list(range(args.seeds))
    started = time.time()
    records = [{"field": "(baseline)", "end": "", "value": np.nan, **run(data, seeds)}]
    for key, info in fields():
        section, name = key.split(".")
        if sections and section not in sections:
            continue
        default = data[section][name]
        low, high = RANGES.get(key, (default * 0.5, default * 1.5) if default else (0.0, 0.1))
        for end, value in (("low", bounded(low, info)), ("high", bounded(high, info))):
            if info.annotation is int:
                value = round(value)
            changed = {**data, section: {**data[section], name: value}}
            try:
                result = run(changed, seeds)
            except Exception as error:   # an inconsistent combination: recorded, not fatal
                result = {"error": str(error).splitlines()[0]}
            records.append({"field": key, "end": end, "default": default, "value": value, **result})
            print(key, end, value, {k: round(v, 3) for k, v in result.items() if isinstance(v, float)},
                  f"{time.time() - started:.0f}s", flush=True)
        pd.DataFrame(records).to_csv(args.out, index=False)
    pd.DataFrame(records).to_csv(args.out, index=False)


def plausible_rows(args):
    """Run the selected rows over their ``ranges.PLAUSIBLE`` ranges and merge them into ``args.out``."""
    base = load_scenario("ecommerce", **{"market.engine": "arrays"}).resized(args.customers)
    base = with_values(base, {"market.weeks": args.weeks}, source="oat")
    ranges = {r.path: r for r in ranges_for(base, ("constant", "scenario"))}
    try:
        old = pd.read_csv(args.out)
    except FileNotFoundError:
        old = pd.DataFrame(columns=["field", "end"])
    if args.plausible:
        first = [p for p in args.first.split(",") if p]
        wanted = first + [p for p in ranges if p not in LADDER and p not in first]
    elif args.fields:
        wanted = [p for p in args.fields.split(",") if p]
    else:
        wanted = [p for p in ranges if p not in set(old["field"]) | LADDER]
    missing = [p for p in wanted if p not in ranges]
    if missing:
        raise SystemExit(f"no plausible range for {missing} (idle or unknown)")
    seeds = list(range(args.seeds))
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    started, cpu = time.time(), time.process_time()
    records = [{"field": "(baseline)", "end": "", "value": np.nan, **run(base, seeds), "measured": today}]
    print("(baseline)", {k: round(v, 3) for k, v in records[0].items() if isinstance(v, float)}, flush=True)
    for number, path in enumerate(wanted, 1):
        r = ranges[path]
        for end, value in (("low", r.low), ("high", r.high)):
            result = run(with_values(base, {path: value}, source="oat"), seeds)
            records.append({"field": path, "end": end, "default": r.value, "value": value, **result,
                            "measured": today})
            print(f"[{number}/{len(wanted)}]", path, end, f"{value:g}", r.status,
                  {k: round(v, 3) for k, v in result.items()},
                  f"{time.process_time() - cpu:.0f}s CPU, {time.time() - started:.0f}s wall", flush=True)
        new = pd.DataFrame(records)
        kept = old[~old["field"].isin(set(new["field"]))]
        pd.concat([kept, new], ignore_index=True).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
