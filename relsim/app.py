"""The browser app: relsim on Mesa's SolaraViz.

Start it with ``relsim app [SCENARIO]`` (which serves it through ``relsim.util.serve``: only
requests addressed to 127.0.0.1/localhost are answered; a plain ``solara run relsim/app.py`` lacks that check).
The sidebar re-creates the market from its controls when *Reset* is pressed:
the scenario, the seed, the population, the focal firm's strategy preset and
— when "Use my lever settings" is ticked — six of its levers, and four
sliders for the relationship parameters. The main area shows a fixed sample
of the social network coloured by firm and loyalty rung, and six live charts.
Choosing a strategy under "Side by side" runs a second market on the same seed
(common random numbers) with the focal firm on that strategy, stepped together
with the first, and every chart then compares the two.

The app uses a smaller market than the scenario files (1,500 customers by
default) so that the first picture appears within seconds and a step is drawn
without stutter; the population slider goes up to 5,000.

The four relationship parameters map to scenario fields as follows (the same
words are shown in the app's "What the controls mean" panel):

* trust → ``behaviour.trust_gain``: trust a customer gains each time an order
  arrives as promised;
* commitment → ``behaviour.commitment_rate``: how fast contact with a trusted
  firm turns into commitment (wanting to stay);
* reciprocity → a multiplier on every goodwill size (``reward_goodwill``,
  ``recovery_goodwill``, ``offer_goodwill``, ``key_account_goodwill``): how
  much customers feel they owe a firm that does them a favour;
* responsiveness → ``behaviour.w_responsiveness``: how much a quickly
  answering support desk weighs when a customer chooses where to buy.
"""

from __future__ import annotations

import inspect
import os
from html import escape

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization import SolaraViz, solara_viz
from mesa.visualization.utils import update_counter

from relsim.market import rules
from relsim.market.model import MarketModel
from relsim.scenario.schema import BehaviourSpec, Scenario, load_scenario
from relsim.scenario.strategies import PRESETS
from relsim.util.shipped import shipped_names
from relsim.util.style import PALETTE

#: Population of the app's market unless the slider says otherwise: small
#: enough that a step (model plus redraw) takes well under a second.
APP_CUSTOMERS = 1500
#: Customers drawn in the network view.
NETWORK_SAMPLE = 150
#: Environment variable through which ``relsim app SCENARIO`` passes its scenario.
SCENARIO_ENV = "RELSIM_APP_SCENARIO"

RUNG_COLOURS = ("#BBBBBB", "#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00")
NO_FIRM = "#DDDDDD"
GOODWILL_FIELDS = ("reward_goodwill", "recovery_goodwill", "offer_goodwill", "key_account_goodwill")
#: Lever sliders: name → (label, low, high, step).
LEVER_SLIDERS = {
    "price": ("Price index (1 = market price)", 0.7, 1.5, 0.05),
    "acquisition_budget": ("Acquisition budget (× market reference)", 0.0, 3.0, 0.1),
    "promotion_discount": ("Promotion discount (share of price)", 0.0, 0.5, 0.05),
    "service_capacity": ("Support desk size (× market reference)", 0.0, 4.0, 0.25),
    "reward_rate": ("Loyalty reward (share of spend)", 0.0, 0.1, 0.01),
    "personalisation": ("Personalised offers (share of customers a week)", 0.0, 0.5, 0.05),
}

#: What each control means, in plain words (shown in the app and in docs/teaching.md).
HELP = {
    "Scenario": "The market: its customers, the firms and their partners (a file in scenarios/).",
    "Seed": "Which random world to draw. Same seed, same customers and same needs; "
            "change it to see how much is luck.",
    "Customers": "How many people (or businesses) live in the market: at most the scenario's own; "
                 "the app uses 1,500 by default, fewer than the files, so that it stays quick.",
    "Strategy of the focal firm": "How the first firm (blue) markets: 'transactional' wins buyers with "
                                  "price cuts and promotions; 'relationship' spends on keeping them "
                                  "(service, rewards, personal offers, key accounts).",
    "Side by side": "Run a second copy of the same market, same seed, with the focal firm on "
                    "another strategy; the charts then compare the two.",
    "Use my lever settings": "Ticked: the six levers below replace the preset's values. "
                             "Unticked: the preset decides.",
    "Price index": "The focal firm's list price; 1 is the market's usual price.",
    "Acquisition budget": "Weekly advertising to win new customers, as a multiple of a typical budget.",
    "Promotion discount": "Price cut in a promotion week (one week in four when above zero).",
    "Support desk size": "Support agents answering questions and complaints, as a multiple of a typical desk.",
    "Loyalty reward": "Share of every purchase given back as reward points.",
    "Personalised offers": "Share of customers sent a personal offer each week (strategy level 4 and up).",
    "Trust gained per kept promise": "TRUST — how much a customer's trust grows each time an order "
                                     "arrives on time and as described.",
    "Commitment growth": "COMMITMENT — how quickly contact with a trusted firm turns into wanting "
                         "to stay with it.",
    "Reciprocity (goodwill × scenario)": "RECIPROCITY — how strongly customers feel they owe a firm that "
                                         "did them a favour (reward, an apology that fixed a problem, a "
                                         "personal offer); 1 = as in the scenario, 0 = they never feel it.",
    "Weight of responsiveness": "RESPONSIVENESS — how much a support desk that answers quickly counts "
                                "when a customer chooses where to buy.",
}


def _shipped_names() -> list[str]:
    return shipped_names("scenario")


def _scenario_choices() -> tuple[list[str], str]:
    """Names offered in the scenario menu, and the one selected at start."""
    names = _shipped_names()
    chosen = os.environ.get(SCENARIO_ENV, "").strip() or "ecommerce"
    if chosen not in names:
        names.append(chosen)
    return names, chosen


def build_scenario(scenario_name: str, customers: int, strategy: str, custom_levers: bool,
                   levers: dict[str, float], trust_gain: float, commitment_rate: float,
                   reciprocity: float, responsiveness_weight: float) -> Scenario:
    """The scenario the app runs, from the controls' values.

    Parameters
    ----------
    scenario_name : str
        Shipped scenario name or TOML path.
    customers : int
        Population of the market, at most the scenario's own.
    strategy : str
        Preset of the focal firm, or ``"current"`` for the scenario's own.
    custom_levers : bool
        Whether ``levers`` replace the preset's values.
    levers : dict
        Lever values (see ``LEVER_SLIDERS``).
    trust_gain, commitment_rate, responsiveness_weight : float
        ``behaviour.trust_gain``, ``behaviour.commitment_rate`` and
        ``behaviour.w_responsiveness``.
    reciprocity : float
        Multiplier on the scenario's goodwill sizes.

    Returns
    -------
    Scenario
        Validated; raises ``ScenarioError`` on bad values.
    """
    scenario = load_scenario(scenario_name)
    if customers < scenario.market.customers:
        # A smaller market than the file's keeps the app quick (a larger one would change the
        # scenario's character: a 400-account B2B market is not a 1,500-account one). Budgets,
        # desk size and alliance fees shrink with it, so that the money per customer, and so the
        # sign of profit, stays that of the scenario.
        scenario = scenario.resized(int(customers))
    behaviour = scenario.behaviour.model_dump()
    behaviour.update(trust_gain=trust_gain, commitment_rate=commitment_rate,
                     w_responsiveness=responsiveness_weight)
    for name in GOODWILL_FIELDS:
        behaviour[name] = min(1.0, behaviour[name] * reciprocity)
    scenario = scenario.model_copy(update={"behaviour": BehaviourSpec.model_validate(behaviour)})
    scenario = scenario.with_focal_strategy(strategy)
    if custom_levers:
        firms = list(scenario.firms)
        # promotions need a period; a discount without one would never apply
        chosen = {**levers, "promotion_every_weeks": 4 if levers.get("promotion_discount", 0) > 0 else 0}
        firms[0] = firms[0].model_copy(update={"levers": chosen})
        firms[0].build_strategy()   # validates the lever values now, not mid-run
        scenario = scenario.model_copy(update={"firms": firms})
    return scenario


class AppModel(MarketModel):
    """A market re-creatable from the app's controls, optionally with a twin.

    SolaraViz re-creates the model with keyword arguments named like the
    controls, so the signature is flat. (There is deliberately no parameter
    called ``scenario``: SolaraViz would pass a Mesa scenario object in it.)

    Parameters
    ----------
    scenario_name : str
        Shipped scenario name or path of a TOML file.
    seed : int
        Root seed; the twin uses the same one (common random numbers).
    customers : int
        Population.
    strategy : str
        Preset of the focal firm (``"current"``: the scenario's own).
    compare_with : str
        ``"none"``, or a preset for the side-by-side twin market.
    custom_levers : bool
        Apply the lever sliders to the focal firm (of this market only).
    price, acquisition_budget, promotion_discount, service_capacity, reward_rate, personalisation : float
        Levers of the focal firm (used when ``custom_levers``).
    trust_gain, commitment_rate, reciprocity, responsiveness_weight : float
        The four relationship parameters (see the module docstring).
    """

    def __init__(self, scenario_name: str = "ecommerce", seed: int = 0, customers: int = APP_CUSTOMERS,
                 strategy: str = "transactional", compare_with: str = "relationship",
                 custom_levers: bool = False, price: float = 1.0, acquisition_budget: float = 1.0,
                 promotion_discount: float = 0.0, service_capacity: float = 1.0, reward_rate: float = 0.0,
                 personalisation: float = 0.0, trust_gain: float = 0.05, commitment_rate: float = 0.15,
                 reciprocity: float = 1.0, responsiveness_weight: float = 0.5) -> None:
        levers = dict(price=price, acquisition_budget=acquisition_budget,
                      promotion_discount=promotion_discount, service_capacity=service_capacity,
                      reward_rate=reward_rate, personalisation=personalisation)
        shared = dict(trust_gain=trust_gain, commitment_rate=commitment_rate, reciprocity=reciprocity,
                      responsiveness_weight=responsiveness_weight)
        spec = build_scenario(scenario_name, customers, strategy, custom_levers, levers, **shared)
        super().__init__(spec, seed=int(seed))
        self.strategy_label = "custom levers" if custom_levers else strategy
        self.reciprocity = reciprocity
        self.twin: MarketModel | None = None
        if compare_with != "none":
            twin_spec = build_scenario(scenario_name, customers, compare_with, False, levers, **shared)
            self.twin = MarketModel(twin_spec, seed=int(seed))
            self.twin_label = compare_with
        self.view_sample = network_sample(self)

    def step(self) -> None:
        """One week of this market and, in side-by-side mode, of the twin."""
        super().step()
        if self.twin is not None and self.twin.running:
            self.twin.step()


# ----------------------------------------------------------------------
# Network view
# ----------------------------------------------------------------------
class NetworkSample:
    """A fixed set of customers with fixed positions, computed once per market.

    The social network's own structure decides the layout: a small world is
    drawn as its ring (neighbours in index order), other networks on a
    circle of the sampled customers; either costs nothing, unlike a spring
    layout of thousands of nodes.
    """

    def __init__(self, members: np.ndarray, xy: np.ndarray, edges: np.ndarray) -> None:
        self.members, self.xy, self.edges = members, xy, edges


def network_sample(model: MarketModel, size: int = NETWORK_SAMPLE) -> NetworkSample:
    """The customers shown in the network view and their contacts among themselves.

    A run of consecutive customers is taken: in a small-world network
    neighbours are close in index, so the sample keeps its local ties.
    """
    population = model.population.size
    size = min(size, population)
    members = np.arange(size)
    position = {int(c): i for i, c in enumerate(members)}
    edges = []
    network = model.network
    if not network.fully_mixed:
        for i, customer in enumerate(members):
            for other in network.contacts(int(customer)):
                j = position.get(int(other))
                if j is not None and j > i:
                    edges.append((i, j))
    angle = 2 * np.pi * np.arange(size) / max(size, 1)
    # alternate radii so that neighbours on the ring do not overlap
    radius = 1.0 + 0.08 * (np.arange(size) % 3)
    xy = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return NetworkSample(members, xy, np.array(edges, dtype=int).reshape(-1, 2))


def sample_state(model: MarketModel, sample: NetworkSample) -> tuple[np.ndarray, np.ndarray]:
    """Firm (``-1``: none) and loyalty rung of each sampled customer, without touching the dyads."""
    firms = model.population.current_firm(sample.members)
    rungs = np.zeros(len(firms), dtype=int)
    params, wom = model.behaviour, model.spec.word_of_mouth
    for firm in model.firms:
        members = model.population.members_of(firm.index)
        held = np.flatnonzero(firms == firm.index)
        if held.size == 0:
            continue
        state = model.population.relationship_state(firm.index)
        where = np.searchsorted(members, sample.members[held], sorter=np.argsort(members))
        rows = np.argsort(members)[where]
        rungs[held] = rules.loyalty_rung(
            np.ones(held.size), state["purchases"][rows], state["trust"][rows],
            state["commitment"][rows], state["satisfaction"][rows],
            supporter_commitment=params.supporter_commitment,
            advocate_commitment=params.advocate_commitment, partner_commitment=params.partner_commitment,
            promoter_threshold=wom.promoter_threshold, co_creation=float(firm.strategy.level >= 5))
    return firms, rungs


def draw_network(ax, model: MarketModel, sample: NetworkSample, title: str) -> None:
    """Sampled customers: fill colour = the firm they buy from, size and ring = loyalty rung."""
    firms, rungs = sample_state(model, sample)
    segments = sample.xy[sample.edges] if len(sample.edges) else np.zeros((0, 2, 2))
    from matplotlib.collections import LineCollection
    ax.add_collection(LineCollection(list(segments), colors="#999999", linewidths=0.4, alpha=0.6))
    fill = [PALETTE[f % len(PALETTE)] if f >= 0 else NO_FIRM for f in firms]
    ring = [RUNG_COLOURS[r] for r in rungs]
    ax.scatter(sample.xy[:, 0], sample.xy[:, 1], s=18 + 22 * rungs, c=fill, edgecolors=ring,
               linewidths=1.5, zorder=3)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.axis("off")


@solara.component
def NetworkView(model: AppModel) -> None:
    """The network sample, one panel per market."""
    update_counter.get()
    markets = [(model, f"focal: {model.strategy_label}")]
    if model.twin is not None:
        markets.append((model.twin, f"focal: {model.twin_label}"))
    fig = Figure(figsize=(4.2 * len(markets) + 1.6, 4.4))
    axes = fig.subplots(1, len(markets), squeeze=False)[0]
    for ax, (market, label) in zip(axes, markets, strict=True):
        draw_network(ax, market, model.view_sample, f"{NETWORK_SAMPLE} customers — {label}")
    firm_handles = [Line2D([], [], marker="o", linestyle="", color=PALETTE[f.index % len(PALETTE)],
                           label=f.name) for f in model.firms]
    firm_handles.append(Line2D([], [], marker="o", linestyle="", color=NO_FIRM, label="no firm"))
    rung_handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                           markeredgecolor=RUNG_COLOURS[r], markeredgewidth=2,
                           markersize=4 + r, label=name) for r, name in enumerate(rules.RUNGS)]
    fig.legend(handles=firm_handles, title="Buys from (fill)", loc="upper right", fontsize=8,
               title_fontsize=8, frameon=False)
    fig.legend(handles=rung_handles, title="Loyalty rung (ring)", loc="lower right", fontsize=8,
               title_fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.01, right=0.82, top=0.92, bottom=0.02, wspace=0.05)
    solara.FigureMatplotlib(fig, format="png", dpi=90)


# ----------------------------------------------------------------------
# Live charts
# ----------------------------------------------------------------------
def _series(model: MarketModel) -> pd.DataFrame:
    steps = pd.DataFrame(model.recorder.rows)
    if steps.empty:
        return steps
    steps = steps.sort_values(["firm", "week"], kind="stable")
    grouped = steps.groupby("firm", sort=False)
    # a 13-week (quarter) window smooths the week-to-week noise of small markets
    new = grouped["new_customers"].transform(lambda s: s.rolling(13, min_periods=1).sum())
    wom = grouped["new_wom"].transform(lambda s: s.rolling(13, min_periods=1).sum())
    steps["wom_share_pct"] = 100 * wom / new.replace(0, np.nan)
    steps["retention_pct"] = 100 * grouped["retention_rate"].transform(
        lambda s: s.rolling(13, min_periods=1).mean())
    # weekly means of a few tickets jump about; a 4-week mean shows the level
    steps["response_days"] = 7 * grouped["mean_response_time"].transform(
        lambda s: s.rolling(4, min_periods=1).mean())
    steps["profit_k"] = steps["cumulative_discounted_profit"] / 1000
    return steps


CHARTS = (
    ("customers", "Customers by firm", "customers"),
    ("retention_pct", "Weekly retention (13-wk mean)", "% of customers kept"),
    ("profit_k", "Cumulative discounted profit", "thousands (currency)"),
    ("wom_share_pct", "Word-of-mouth share of new customers", "% (13-wk window)"),
    ("response_days", "Support response time (4-wk mean)", "days"),
)


def live_charts(model: AppModel) -> Figure:
    """Six charts of the per-step table; in side-by-side mode the focal firm of each market."""
    fig = Figure(figsize=(12, 6.6))
    axes = fig.subplots(2, 3).ravel()
    if model.twin is None:
        steps = _series(model)
        lines = [(name, steps[steps["firm"] == name] if not steps.empty else steps, PALETTE[i % 8], "-")
                 for i, name in enumerate(f.name for f in model.firms)]
        ladders = [(model.strategy_label, steps[steps["firm"] == model.firms[0].name]
                    if not steps.empty else steps)]
    else:
        focal = model.firms[0].name
        mine, twin = _series(model), _series(model.twin)
        mine = mine[mine["firm"] == focal] if not mine.empty else mine
        twin = twin[twin["firm"] == focal] if not twin.empty else twin
        lines = [(f"{focal}: {model.strategy_label}", mine, PALETTE[0], "-"),
                 (f"{focal}: {model.twin_label}", twin, PALETTE[5], "--")]
        ladders = [(model.strategy_label, mine), (model.twin_label, twin)]
    for ax, (column, title, unit) in zip(axes, CHARTS, strict=False):
        for label, frame, colour, style in lines:
            if not frame.empty:
                ax.plot(frame["week"], frame[column], color=colour, linestyle=style, linewidth=1.6,
                        label=label)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
        ax.set_xlabel("week", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes:
        # the whole horizon from the start, so that the lines grow across a fixed frame
        ax.set_xlim(0, model.spec.market.weeks)
    axes[1].set_ylim(None, 100.5)
    axes[0].legend(fontsize=7, loc="best")
    # the ladder: focal firm's customers by rung, stacked (prospects left out)
    ax = axes[5]
    rungs = rules.RUNGS[1:]
    for number, (_, frame) in enumerate(ladders):
        if frame.empty:
            continue
        shares = frame[[f"rung_{r}" for r in rungs]].to_numpy().T * 100
        if number == 0:
            ax.stackplot(frame["week"], shares, colors=RUNG_COLOURS[1:], labels=rungs, alpha=0.9)
        else:
            # the twin's ladder as outlines over the first market's areas
            ax.plot(frame["week"], np.cumsum(shares, axis=0).T, color="black", linestyle="--",
                    linewidth=0.8)
    ax.set_title("Loyalty ladder of the focal firm" + (" (dashed: side-by-side)" if len(ladders) > 1 else ""),
                 fontsize=9)
    ax.set_ylabel("% of the population", fontsize=8)
    ax.set_xlabel("week", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="upper left", ncol=2)
    ax.grid(alpha=0.3)
    # fixed margins: tight_layout would draw the figure twice on every step
    fig.subplots_adjust(left=0.07, right=0.99, top=0.95, bottom=0.08, wspace=0.3, hspace=0.4)
    return fig


@solara.component
def LiveCharts(model: AppModel) -> None:
    """The six live charts."""
    update_counter.get()
    solara.FigureMatplotlib(live_charts(model), format="png", dpi=80)


@solara.component
def Headline(model: AppModel) -> None:
    """Week and the focal firm's standing, in words (also what the browser tests read)."""
    update_counter.get()
    focal = model.firms[0]
    lines = []
    for market, label in [(model, model.strategy_label)] + (
            [(model.twin, model.twin_label)] if model.twin is not None else []):
        firm = market.firms[0]
        profit = market.recorder.cumulative[0]
        lever = firm.strategy
        customers = model.population.count(firm.index)
        lines.append(f"{escape(focal.name)} on <b>{escape(label)}</b>: {customers:,} customers, "
                     f"cumulative discounted profit {profit:,.0f} — levers: price index {lever.price:.2f}, "
                     f"acquisition {lever.acquisition_budget:.1f}×, promotion "
                     f"{lever.promotion_discount:.0%}, desk {lever.service_capacity:.2f}×, reward "
                     f"{lever.reward_rate:.0%}, personalised offers {lever.personalisation:.0%}")
    behaviour = model.behaviour
    lines.append(f"Relationship parameters: trust gained per kept promise {behaviour.trust_gain:.2f}, "
                 f"commitment growth {behaviour.commitment_rate:.2f}, reciprocity goodwill "
                 f"{model.reciprocity:.1f}× scenario, weight of responsiveness {behaviour.w_responsiveness:.1f}")
    items = "".join(f"<li>{line}</li>" for line in lines)
    # plain HTML, not Markdown: solara's Markdown also loads KaTeX, which the offline assets lack
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"<div class='relsim-headline' style='font-size:14px'><b>Week {model.steps}</b> of "
        f"{model.spec.market.weeks} · {model.population.size:,} customers · seed {model.seed}"
        f"<ul style='margin:4px 0'>{items}</ul></div>"))


@solara.component
def ControlsHelp(model: AppModel) -> None:
    """What each control means, in plain words."""
    rows = "".join(f"<li><b>{escape(name)}</b> — {escape(text)}</li>" for name, text in HELP.items())
    solara.HTML(tag="div", unsafe_innerHTML=(
        "<div style='font-size:13px'><h3>What the controls mean</h3><p>Press <b>Reset</b> after changing "
        f"a control: the market is built anew from them.</p><ul>{rows}</ul></div>"))


def model_params() -> dict:
    """The sidebar controls (Mesa ``model_params``)."""
    names, chosen = _scenario_choices()
    presets = ["current", *PRESETS]
    params = {
        "scenario_name": {"type": "Select", "value": chosen, "values": names, "label": "Scenario"},
        "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 50, "step": 1, "label": "Seed"},
        "customers": {"type": "SliderInt", "value": APP_CUSTOMERS, "min": 500, "max": 5000, "step": 250,
                      "label": "Customers (at most the scenario's)"},
        "strategy": {"type": "Select", "value": "transactional", "values": presets,
                     "label": "Strategy of the focal firm"},
        "compare_with": {"type": "Select", "value": "relationship", "values": ["none", *presets],
                         "label": "Side by side: second market, focal firm on"},
        "custom_levers": {"type": "Checkbox", "value": False, "label": "Use my lever settings"},
    }
    # the lever sliders start at AppModel's defaults, so that the two cannot disagree
    default_of = {name: p.default for name, p in inspect.signature(AppModel.__init__).parameters.items()}
    for name, (label, low, high, step) in LEVER_SLIDERS.items():
        params[name] = {"type": "SliderFloat", "value": default_of[name], "min": low, "max": high,
                        "step": step, "label": label}
    params["trust_gain"] = {"type": "SliderFloat", "value": 0.05, "min": 0.0, "max": 0.2, "step": 0.01,
                            "label": "Trust gained per kept promise"}
    params["commitment_rate"] = {"type": "SliderFloat", "value": 0.15, "min": 0.0, "max": 0.5,
                                 "step": 0.01, "label": "Commitment growth"}
    params["reciprocity"] = {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 3.0, "step": 0.1,
                             "label": "Reciprocity (goodwill × scenario)"}
    params["responsiveness_weight"] = {"type": "SliderFloat", "value": 0.5, "min": 0.0, "max": 2.0,
                                       "step": 0.1, "label": "Weight of responsiveness"}
    return params


def _initial_model() -> AppModel:
    _, chosen = _scenario_choices()
    return AppModel(scenario_name=chosen)


def app_grid_layout(count: int) -> list[dict]:
    """Where the panels sit: headline across the top, charts full width, network and help below.

    SolaraViz lays out every panel as a half-width tile; the charts need the
    full width to be readable, so the app replaces Mesa's initial layout
    (``solara_viz.make_initial_grid_layout``, looked up when a page is drawn).
    """
    tiles = [dict(x=0, y=0, w=12, h=4), dict(x=0, y=4, w=12, h=16), dict(x=0, y=20, w=6, h=14),
             dict(x=6, y=20, w=6, h=14)]
    layout = [{"i": i, "moved": False, **tiles[i]} for i in range(min(count, len(tiles)))]
    layout += [{"i": i, "moved": False, "x": 0, "y": 34 + 10 * i, "w": 12, "h": 10}
               for i in range(len(tiles), count)]
    return layout


solara_viz.make_initial_grid_layout = app_grid_layout
page = SolaraViz(
    _initial_model(),
    components=[(Headline, 0), (LiveCharts, 0), (NetworkView, 0), (ControlsHelp, 0)],
    model_params=model_params(),
    name="relsim — transactional vs relationship marketing",
    play_interval=150,
)
