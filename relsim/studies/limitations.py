"""The limitations section of the compare report, written from the run itself.

``limitations(comparison, uncertainty, attribution)`` reads what was run —
the scenario's mechanisms, competition, engine, costs, market size and
horizon, the seeds, which constants were varied and where the scenario's
constants sit in their evidence ranges, the attribution's remainder — and
says what the report's numbers therefore do not cover. Every line depends on
the run; none is printed for every report alike.
"""

from __future__ import annotations

from relsim.scenario.ranges import idle_rows, ranges_for
from relsim.scenario.schema import CALIBRATED_ADVERTISING_WEIGHT, CostSpec, load_scenario
from relsim.studies.attribution import INTERACTION, Attribution
from relsim.studies.compare import Comparison
from relsim.studies.uncertainty import Uncertainty
from relsim.util.shipped import shipped_names


def _names(paths: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{p}`" for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def limitations(comparison: Comparison, uncertainty: Uncertainty | None = None,
                attribution: list[Attribution] | None = None) -> list[str]:
    """Plain-language limitations of this comparison, one item per line (Markdown)."""
    scenario = comparison.scenario
    market = scenario.market
    lines: list[str] = []
    seeds = len(comparison.seeds)

    # what the intervals cover
    if uncertainty is None:
        lines.append(f"The intervals cover seed noise only ({seeds} seeds): every behavioural constant is held "
                     "at the scenario's value. Rerun with `--uncertainty N` to see how the verdict moves over "
                     "their plausible ranges.")
    else:
        varied = len(uncertainty.ranges)
        kinds = {r.kind for r in uncertainty.ranges}
        not_varied = "" if "scenario" in kinds else (
            "; costs and operations times are the scenario's own facts and were not varied")
        lines.append(f"Parameter uncertainty: {len(uncertainty.sets)} Latin-hypercube sets over {varied} "
                     f"constants{not_varied}. Each set runs on one seed, so a set's win or loss mixes seed "
                     "noise with the constants' effect; the seed intervals above are at the scenario's values.")
        chance = uncertainty.chance_rho()
        if chance == chance and varied > len(uncertainty.sets):
            lines.append(f"With {len(uncertainty.sets)} sets and {varied} constants a rank correlation below "
                         f"|ρ| = {chance:.2f} is within chance for one constant, and about {0.05 * varied:.0f} "
                         "constants exceed it by chance alone: read the named drivers as leads, unless marked "
                         "as deciding after the Holm adjustment.")
    if seeds < 10:
        lines.append(f"Only {seeds} seed(s) per strategy: the Student-t intervals are wide and rest on few "
                     "runs; 20 seeds is the default of `relsim compare`.")

    # constants: their evidence and where the scenario's values sit
    constants = ranges_for(scenario)
    by_basis = {basis: [r.path for r in constants if r.basis == basis]
                for basis in ("sourced", "size assumed", "assumption")}
    lines.append(f"Of the {len(constants)} behavioural and market-response constants, "
                 f"{len(by_basis['sourced'])} have a published value, {len(by_basis['size assumed'])} a published "
                 f"direction but an assumed size, and {len(by_basis['assumption'])} no source at all "
                 f"(docs/evidence.md); the last group includes {_names(by_basis['assumption'], 4)}.")
    idle = idle_rows(scenario)
    if idle:
        switches = sorted(set(idle.values()))
        lines.append(f"Not varied because this scenario switches their mechanism off ({', '.join(switches)}): "
                     f"{_names(sorted(idle))}.")
    edge = [r.path for r in constants if r.status == "edge"]
    moved = [r.path for r in constants if r.status == "moved"]
    if edge:
        lines.append(f"At an end of its plausible range in this scenario: {_names(edge)}; the uncertainty "
                     "sample then lies mostly on one side of the scenario's value.")
    if moved:
        lines.append(f"Outside the evidence range (set by the scenario on purpose, range moved with the "
                     f"value): {_names(moved)}.")

    # mechanisms
    wom = scenario.word_of_mouth
    switched_off = []
    if not wom.enabled:
        switched_off.append("word of mouth")
    if not scenario.operations.enabled:
        switched_off.append("operations (deliveries and the support desk are not simulated as queues)")
    if scenario.churn.model in ("constant", "off", "bgnbd", "beta_geometric"):
        switched_off.append(f"behavioural churn (churn.model = {scenario.churn.model!r}: the relationship "
                            "does not move the hazard)")
    if switched_off:
        lines.append("Mechanisms switched off in this scenario: " + "; ".join(switched_off) + ".")
    lines.append("Competition is " + (
        "static: rivals keep their strategies whatever the focal firm does, so a strategy's advantage is "
        "not competed away" if market.competition == "static" else
        f"adaptive (rivals review every {market.review_weeks:g} weeks, imitate the most profitable firm and "
        f"match {100 * market.price_match:g} % of a rival's list-price cut), a rule of thumb, not an estimated "
        "reaction function") + ".")
    # each compared strategy as the focal firm would run it
    built = {s: scenario.with_focal_strategy(s).firms[0].build_strategy() for s in comparison.strategies}
    budgets = {s: strategy.acquisition_budget for s, strategy in built.items()}
    differ = ", ".join(f"{s} {b:g}×" for s, b in budgets.items())
    weight, decay = scenario.behaviour.advertising_weight, scenario.behaviour.advertising_decay
    if len(set(budgets.values())) > 1 and weight > 0:
        lines.append(f"Advertising builds goodwill in this scenario (behaviour.advertising_weight = {weight:g}, "
                     f"advertising_decay = {decay:g}; weight {CALIBRATED_ADVERTISING_WEIGHT:g} at decay 1, the "
                     "default, gives the published mean long-term advertising elasticity, 0.24, and the "
                     "short-term one, 0.12, within a factor of two in a mature market; Sethuraman, Tellis & "
                     "Briesch 2011; the effect on sales lasts three to five times the published six to nine "
                     "months, Leone 1995; docs/evidence.md, \"Advertising elasticity\"). The budgets differ "
                     f"({differ}): the larger campaigns keep buying appeal after everyone knows the firm.")
    elif len(set(budgets.values())) > 1 and market.weeks >= 104:   # awareness saturates within about two years
        largest = max(budgets, key=lambda s: budgets[s])
        lines.append("Advertising only makes customers aware of a firm: once nearly everyone knows it, the "
                     "acquisition budget buys no further sales (in a mature market the model's advertising "
                     "elasticity is 0.00, against 0.12 short-term and 0.24 long-term published; Sethuraman, "
                     f"Tellis & Briesch 2011). The budgets differ ({differ}), so {largest}'s larger campaigns are "
                     "mostly paid for nothing after the first years: a bias against it on profit. An advertising "
                     "goodwill stock (Nerlove & Arrow 1962) is built but off by default (behaviour.advertising_weight "
                     f"= 0); --set behaviour.advertising_weight={CALIBRATED_ADVERTISING_WEIGHT:g} switches it on at "
                     "the weight calibrated to the published long-term elasticity (what it does to this comparison: "
                     "docs/evidence.md, \"Advertising elasticity\").")
    joining = [s for s, strategy in built.items() if strategy.join_alliances]
    if joining and not any(comparison.focal in a.members for a in scenario.alliances):
        lines.append(f"{', '.join(joining)} would join alliances, but this scenario lists none with the focal "
                     "firm: that lever cannot act here.")

    # engine, size, horizon, costs
    together = (f"; replicates advanced {comparison.batch} at a time (relsim.market.replicates: the same "
                "tables as separate runs, bit for bit)" if comparison.batch > 1 else "")
    lines.append(f"Engine: {market.engine} (both engines run the same events; the validation suite checks "
                 f"that they agree, docs/validation.md){together}.")
    if scenario.name in shipped_names("scenario"):
        shipped = load_scenario(scenario.name)
        if shipped.market.customers != market.customers:
            lines.append(f"Market size: {market.customers:,} customers, against {shipped.market.customers:,} "
                         f"in the shipped {scenario.name!r} scenario its constants were set for; money per "
                         "customer is kept (resized), but word of mouth, saturation and the competitors' "
                         "reviews work on a different number of people.")
    elif market.customers < 1000:
        lines.append(f"Small market ({market.customers:,} customers): shares and retention move in steps of "
                     "single customers.")
    if market.weeks < 104:
        window = ("the whole run, start-up included" if market.weeks <= 52
                  else "a year that follows a short start-up")
        lines.append(f"Horizon of {market.weeks} weeks: 'annual retention (last year)' is measured over "
                     f"{window}, and lifetime effects of relationships (commitment, tenure) have little time "
                     "to show.")
    defaults = CostSpec()
    part_time = [name for name in ("desk_agent_per_week", "manager_per_week")
                 if getattr(scenario.costs, name) < getattr(defaults, name)]
    if part_time:
        lines.append("Costs: " + ", ".join(f"`costs.{n}` = {getattr(scenario.costs, n):g}" for n in part_time)
                     + " a week, part-time seats below the full-time defaults "
                     f"({', '.join(f'{getattr(defaults, n):g}' for n in part_time)}); the people costs of "
                     "the profit verdict rest on them.")
    else:
        lines.append(f"Costs: full-time seats (desk agent {scenario.costs.desk_agent_per_week:g}, key-account "
                     f"manager {scenario.costs.manager_per_week:g} a week); costs are not varied by the "
                     "uncertainty sample.")

    # attribution
    for part in attribution or []:
        table = part.table().set_index(["metric", "part"])
        profit = "cumulative_discounted_profit"
        if part.method == "oat":
            total = table.loc[(profit, "total"), "mean"]
            rest = table.loc[(profit, INTERACTION), "mean"]
            share = abs(rest) / abs(total) if total else float("nan")
            lines.append(f"Lever attribution ({part.strategy} vs {part.baseline}) switches one group at a time "
                         f"from {part.baseline} on {len(part.seeds)} seed(s); the interaction remainder is "
                         f"{100 * share:.0f} % of the profit difference"
                         + (": the levers do not act separately, and a Shapley split (`--attribution shapley`)"
                            " shares that remainder out" if share > 0.25 else "") + ".")
        else:
            lines.append(f"Lever attribution ({part.strategy} vs {part.baseline}): Shapley values over "
                         f"{len(part.groups)} lever groups, {'exact' if part.exact else 'sampled orders'}, "
                         f"on {len(part.seeds)} seed(s); levers inside one group are not separated.")

    # what the model is known not to reproduce (docs/evidence.md)
    lines.append("Known gaps of the model (docs/evidence.md): word of mouth brings 2–10 % of orders where "
                 "practitioners claim 20–50 %"
                 + ("; on ecommerce the relationship firm's retention gap (+39 points at full size) is above "
                    "the 5–25 points inferred from the literature" if scenario.name == "ecommerce" else "")
                 + ".")
    return lines
