"""What a run reports (MODEL.md "Outputs").

* ``steps``: one row per week and firm — customers, new customers by source,
  churn by reason, retention, revenue and every cost line, profit and
  cumulative discounted profit, mean trust/commitment/satisfaction/
  reciprocity/responsiveness of the firm's customers, loyalty-ladder shares,
  NPS, share of orders from referrals, complaints, desk response time, market
  share.
* ``customers``: one row per customer and firm it ever bought from —
  realised lifetime value, tenure, source, rung.
* ``cohorts``: retention curve per acquisition cohort (13-week cohorts).

Aggregates are computed per step; nothing grows with customers × steps.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.terms import BOOK_LINES, CHURN_REASONS, SOURCES, SPELL_SOURCES

if TYPE_CHECKING:
    from relsim.market.interfaces import Market as MarketModel

COST_LINES = tuple(line for line in BOOK_LINES if line != "revenue")
COHORT_WEEKS = 13


RELATIONSHIP = ("trust", "commitment", "satisfaction", "reciprocity", "responsiveness")


#: Columns of the per-customer table (also when no customer has bought yet).
CUSTOMER_COLUMNS = ("customer", "segment", "firm", "source", "referred", "active", "first_week",
                    "tenure_weeks", "spells", "purchases", "spend", "margin", "acquisition_margin", "ltv",
                    "trust", "commitment", "satisfaction", "reciprocity", "responsiveness", "rung",
                    "need_rate")


def partner_value_share(model: MarketModel, firm: int, rung: np.ndarray) -> float:
    """Share of ``firm``'s customer value (expected weekly spend, ``model.customer_value``)
    held by its partner-rung customers; ``rung`` is aligned with the firm's members."""
    members = model.population.members_of(firm)
    rung = np.asarray(rung)
    if members.size == 0 or members.size != rung.size:
        return float(np.mean(rung == rules.PARTNER)) if rung.size else 0.0
    value = model.customer_value[members]
    total = float(value.sum())
    return float(value[rung == rules.PARTNER].sum()) / total if total > 0 else 0.0


def _mean(values: np.ndarray) -> float:
    """``float(values.mean())`` of a non-empty 1-d array, without ``ndarray.mean``'s
    Python layer (called for every firm and relationship parameter every week): the
    same sum, divided by the count as an ``intp`` and cast back to the array's type."""
    if values.dtype not in (np.float32, np.float64):
        return float(values.mean())
    total = np.add.reduce(values, axis=None)
    return float(total.dtype.type(total / np.intp(values.size)))


#: the weekly row's column names made of a source, churn reason, relationship parameter or rung (worked
#: out once, not every week)
_NEW_KEYS = {source: f"new_{source}" for source in SPELL_SOURCES}
_CHURNED_KEYS = tuple((reason, f"churned_{reason}") for reason in CHURN_REASONS)
_MEAN_KEYS = tuple(f"mean_{name}" for name in RELATIONSHIP)
_RUNG_KEYS = tuple(f"rung_{name}" for name in rules.RUNGS)

#: ``record_week`` takes the firms' means by ``kernels.firm_means`` up to this many customers of all
#: firms together, by numpy's sums above (per week: 13 against 21 us for 5,000 customers, 222 against
#: 115 us for 10^5, 2.0 against 0.8 ms for 10^6; about even at 12,000)
_COMPILED_MEANS_UP_TO = 10_000


class Recorder:
    """Collects the weekly per-firm table of one run, and its customer tables
    (the population keeps the spells the cohort table is made of)."""

    def __init__(self, model: MarketModel) -> None:
        self.model = model
        self.rows: list[dict] = []
        self.cumulative = [0.0] * len(model.firms)
        self.snapshot_weeks = set(model.spec.market.snapshot_weeks)
        self.snapshots: list[pd.DataFrame] = []

    def record_week(self) -> None:
        """Append this week's row for every firm; let co-creating firms learn."""
        model = self.model
        wom = model.spec.word_of_mouth
        params = model.behaviour
        market_revenue = sum(f.books["revenue"] for f in model.firms) or 1.0
        week = model.week
        discount = rules.discount_factor(week, model.spec.market.discount_rate)
        population = model.population.size
        firms = model.firms
        # every firm's customers at once (their end-of-week state, firm after firm): the rungs, NPS counts
        # and mean relationship state of all firms in a few passes
        states = [model.population.relationship_state(firm.index) for firm in firms]
        sizes = [len(state["trust"]) for state in states]
        # one row per parameter of RELATIONSHIP (C-ordered: a firm's part of a row is summed as numpy
        # sums a 1-d array, pairwise, so each mean is the one of _mean), each firm's part copied in once
        bounds = [0, *itertools.accumulate(sizes)]
        block = np.empty((len(RELATIONSHIP), bounds[-1]),
                         dtype=np.result_type(*[state[name] for state in states for name in RELATIONSHIP]))
        for row, name in enumerate(RELATIONSHIP):   # each parameter's row, firm after firm, in one call
            np.concatenate([state[name] for state in states], out=block[row])
        co_creating_of = np.array([float(firm.strategy.level >= 5) for firm in firms])
        # the rungs (rules.loyalty_rung) and NPS counts of every firm's customers, in one compiled pass
        # (the thresholds in the state's type: numpy compares a stored value with a Python constant so)
        from relsim.market import kernels  # here: building a market does not load numba
        starts = np.array(bounds)
        rung_all, rungs_of, promoters, detractors = kernels.rungs_by_firm(
            starts, np.concatenate([state["purchases"] for state in states]),
            block[0], block[1], block[2], co_creating_of,
            np.array([params.supporter_commitment, params.supporter_trust, params.advocate_commitment,
                      params.partner_commitment, wom.promoter_threshold, wom.detractor_threshold],
                     dtype=block.dtype), len(rules.RUNGS))
        promoters_of, detractors_of = promoters.tolist(), detractors.tolist()
        # every firm's mean of each parameter (numpy's pairwise sums, divided), in one compiled call for a
        # small population; firm by firm in numpy for a large one (numpy's vectorised sums are faster there)
        means_of = (kernels.firm_means(block, starts, block.dtype.type(0)).tolist()
                    if block.shape[1] <= _COMPILED_MEANS_UP_TO else None)
        rung_counts = rungs_of.tolist()   # each firm's as Python numbers (no copy of a numpy row per firm)
        end = 0
        for firm in firms:
            active = sizes[firm.index]
            start, end = end, end + active
            co_creating = co_creating_of[firm.index]
            rung = rung_all[start:end]
            rungs = rung_counts[firm.index]
            promoters, detractors = promoters_of[firm.index], detractors_of[firm.index]
            rungs[rules.PROSPECT] = population - active
            if not active:
                means = [np.nan] * len(RELATIONSHIP)
            elif means_of is not None:
                means = means_of[firm.index]
            else:
                totals = np.add.reduce(block[:, start:end], axis=1)
                means = (totals / np.intp(active)).astype(block.dtype).tolist()
            # the value share moves only a co-creating firm's quality (Firm.co_create)
            firm.co_create(int(rungs[rules.PARTNER]),
                           partner_value_share(model, firm.index, rung) if co_creating else 0.0)
            books = firm.books
            costs = sum(books[line] for line in COST_LINES)
            profit = books["revenue"] - costs
            self.cumulative[firm.index] += profit * discount
            churned = sum(firm.churned_by_reason.values())
            start = firm.customers_at_start
            desk = firm.desk
            row = {
                "week": week, "firm": firm.name, "strategy": firm.spec.strategy, "customers": active,
                "new_customers": sum(firm.new_by_source.values()),
                **{_NEW_KEYS[source]: count for source, count in firm.new_by_source.items()},
                "churned": churned,
                **{key: firm.churned_by_reason[reason] for reason, key in _CHURNED_KEYS},
                "retention_rate": 1.0 - churned / start if start else np.nan,
                **books, "profit": profit, "discounted_profit": profit * discount,
                "cumulative_discounted_profit": self.cumulative[firm.index],
                **dict(zip(_MEAN_KEYS, means, strict=True)),
                **{key: count / population for key, count in zip(_RUNG_KEYS, rungs, strict=True)},
                "nps": (promoters - detractors) / active if active else np.nan,
                "orders": firm.orders, "referral_orders": firm.referral_orders,
                "referral_share": firm.referral_orders / firm.orders if firm.orders else np.nan,
                "wom_positive": firm.wom_spoken[1], "wom_negative": firm.wom_spoken[0],
                "deliveries": firm.deliveries, "failures": firm.failures,
                "complaints": firm.complaints, "tickets": desk.opened,
                "tickets_abandoned": desk.abandoned,
                "mean_response_time": _mean(np.asarray(desk.response_times))
                if desk.response_times else np.nan,
                "desk_queue": desk.queue_length, "desk_agents": desk.agents,
                "key_accounts": firm.key_accounts, "quality": firm.quality,
                "level": firm.strategy.level, "price_index": firm.strategy.price,
                "market_share": books["revenue"] / market_revenue,
                "aware": int(np.count_nonzero(model.aware[:, firm.index])),
            }
            self.rows.append(row)
        if round(week) in self.snapshot_weeks:
            self.snapshots.append(self.customers_table().assign(snapshot_week=week))

    # ------------------------------------------------------------------
    def steps_table(self) -> pd.DataFrame:
        """The per-step, per-firm table."""
        rows = self.rows
        if rows:
            columns = tuple(rows[0])
            if all(tuple(row) == columns for row in rows):   # (the order too: dict views compare as sets)
                # every row with the same columns in the same order (as record_week writes them): built
                # column by column, the same table as pandas builds from the rows, in half the time
                return pd.DataFrame(dict(zip(columns, map(list, zip(*(row.values() for row in rows), strict=True)),
                                             strict=True)))
        return pd.DataFrame(rows)

    def snapshots_table(self) -> pd.DataFrame:
        """Per-customer tables taken at ``market.snapshot_weeks`` (empty if none)."""
        return pd.concat(self.snapshots, ignore_index=True) if self.snapshots else pd.DataFrame()

    def customers_table(self) -> pd.DataFrame:
        """One row per (customer, firm) with at least one purchase."""
        model = self.model
        wom = model.spec.word_of_mouth
        params = model.behaviour
        # the same row order from both engines: by customer, then firm
        table = model.population.customers_table()
        key = table["customer"].to_numpy(dtype=np.int64) * len(model.firms) + table["firm"].to_numpy(dtype=np.int64)
        if key.size > 1 and not (key[1:] > key[:-1]).all():   # the array engine's table is in that order already
            table = table.sort_values(["customer", "firm"], kind="stable", ignore_index=True)
        else:
            table = table.reset_index(drop=True)
        firm_index = table["firm"].to_numpy(dtype=np.int64)
        co_creating = np.array([float(f.strategy.level >= 5) for f in model.firms])[firm_index]
        rung = rules.loyalty_rung(
            table["active"].to_numpy(dtype=float), table["purchases"].to_numpy(),
            table["trust"].to_numpy(), table["commitment"].to_numpy(),
            table["satisfaction"].to_numpy(), supporter_commitment=params.supporter_commitment,
            supporter_trust=params.supporter_trust,
            advocate_commitment=params.advocate_commitment,
            partner_commitment=params.partner_commitment,
            promoter_threshold=wom.promoter_threshold, co_creation=co_creating)
        table["rung"] = np.array(rules.RUNGS, dtype=object)[np.asarray(rung, dtype=np.int64)]
        table["firm"] = np.array([f.name for f in model.firms], dtype=object)[firm_index]
        return table[list(CUSTOMER_COLUMNS)].reset_index(drop=True)

    def cohorts_table(self) -> pd.DataFrame:
        """Share of each 13-week acquisition cohort still a customer, by age.

        Spells started before week 0 (the initial customer base) are left out.
        """
        model = self.model
        end = model.week + model.step_weeks
        columns = ["customer", "firm", "start", "end", "reason", "source"]
        running = model.population.open_spells().assign(end=np.inf, reason="active")
        blocks = [block for block in (model.population.closed_spells(), running[columns]) if len(block)]
        if not blocks:
            return pd.DataFrame(columns=["firm", "cohort_week", "age_weeks", "size", "retained"])
        # on arrays (a pandas groupby cost ~3 % of a 5,000-customer run): the groups in the groupby's
        # order (firm, then cohort week), and the share of a group still a customer at each age counted
        # on its sorted durations (the same count over the same size as ``np.mean(durations > age)``)
        firm = np.concatenate([block["firm"].to_numpy(dtype=np.int64) for block in blocks])
        start = np.concatenate([block["start"].to_numpy(dtype=np.float64) for block in blocks])
        stop = np.concatenate([block["end"].to_numpy(dtype=np.float64) for block in blocks])
        acquired = start >= 0
        firm, start, stop = firm[acquired], start[acquired], stop[acquired]
        cohort = (start // COHORT_WEEKS) * COHORT_WEEKS
        order = np.lexsort((cohort, firm))
        firm, cohort, durations = firm[order], cohort[order], (stop - start)[order]
        edges = np.flatnonzero((firm[1:] != firm[:-1]) | (cohort[1:] != cohort[:-1])) + 1
        bounds = [0, *edges.tolist(), firm.size]
        names = {f.index: f.name for f in model.firms}
        rows: list[dict] = []
        for first, last in itertools.pairwise(bounds):
            if first == last:
                continue
            size = last - first
            group_cohort = float(cohort[first])
            ages = np.arange(0, max(0, int(end - group_cohort - COHORT_WEEKS)) + 1, COHORT_WEEKS)
            ended = np.searchsorted(np.sort(durations[first:last]), ages, side="right")
            name = names[int(firm[first])]
            rows.extend({"firm": name, "cohort_week": group_cohort, "age_weeks": age, "size": size,
                         "retained": kept / size}
                        for age, kept in zip(ages.tolist(), (size - ended).tolist(), strict=True))
        # a closed cohort (e.g. a calibrated scenario) acquires no one: an empty table, with its columns
        return pd.DataFrame(rows, columns=["firm", "cohort_week", "age_weeks", "size", "retained"])


def summarize(steps: pd.DataFrame) -> pd.DataFrame:
    """End-of-run summary per firm: the headline numbers a comparison uses.

    Returns
    -------
    DataFrame
        One row per firm with annual retention, customers at the end,
        cumulative discounted profit, revenue and each cost line (totals),
        word-of-mouth share of new customers, referral share of orders, NPS,
        mean trust and commitment over the last year, market share.
    """
    rows = []
    weeks = np.sort(steps["week"].unique())
    step_weeks = float(weeks[1] - weeks[0]) if weeks.size > 1 else 1.0
    for firm, frame in steps.groupby("firm", sort=False):
        last_year = frame[frame["week"] > frame["week"].max() - 52]
        step_retention = 1.0 - last_year["churned"].sum() / max(
            last_year["customers"].add(last_year["churned"]).sub(last_year["new_customers"]).sum(), 1)
        weekly_retention = step_retention ** (1.0 / step_weeks)
        new = frame["new_customers"].sum()
        row = {
            "firm": firm, "strategy": frame["strategy"].iloc[0],
            "customers_end": int(frame["customers"].iloc[-1]),
            "annual_retention": weekly_retention ** 52,
            "weekly_retention": weekly_retention,
            "cumulative_discounted_profit": frame["cumulative_discounted_profit"].iloc[-1],
            "profit": frame["profit"].sum(),
            **{line: frame[line].sum() for line in BOOK_LINES},
            "new_customers": int(new),
            "wom_share_of_new": frame["new_wom"].sum() / new if new else np.nan,
            "referral_share_of_orders": frame["referral_orders"].sum() / max(frame["orders"].sum(), 1),
            "nps": last_year["nps"].mean(),
            "mean_trust": last_year["mean_trust"].mean(),
            "mean_commitment": last_year["mean_commitment"].mean(),
            "market_share": last_year["revenue"].sum() / max(
                steps.loc[steps["week"] >= frame["week"].max() - 51, "revenue"].sum(), 1e-12),
            "mean_response_time": last_year["mean_response_time"].mean(),
            "failures": int(frame["failures"].sum()),
            "complaints": int(frame["complaints"].sum()),
        }
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["CHURN_REASONS", "COST_LINES", "SOURCES", "Recorder", "summarize"]
