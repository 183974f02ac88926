"""The browser app: relsim's market (a Mesa model) in a Solara page.

Start it with ``relsim app [SCENARIO]`` (which serves it through ``relsim.util.serve``: only
requests addressed to 127.0.0.1/localhost are answered; a plain ``solara run relsim/app.py`` lacks that check).

Every browser tab (every Solara session) has **its own market**: the page
builds it when it opens (``Session``, held by ``solara.use_memo`` inside the
page component, never in a module-level global). The sidebar holds the
controls; *Reset* re-creates the market from them: the scenario, the seed, the
population, the focal firm's strategy preset and — when "Use my lever
settings" is ticked — six of its levers, and four relationship parameters.
The controls start from the chosen scenario's values and the chosen preset's
levers, show their values, and say "changed — press Reset" until the market
is rebuilt. *Step*, *▶* (play), *❚❚* (pause) and *Run to week N* (plays and
stops at week N) move the clock.

Threads: playing steps the market in a worker thread (``solara.use_thread``)
while the browser may ask for a redraw at any time. The market is only ever
touched under ``Session.lock``; after each step the session copies what the
page shows into an immutable ``View`` (the recorded rows, both markets'
standings, the network sample's state), and every panel draws from a view,
never from the live model — so a chart cannot read a table that is growing.

Charts are plain SVG built from the view (no matplotlib in the loop): they
are cheap to make, scale with the page width and keep text readable. The main
area shows the headline and every firm's share, a profit bridge (revenue and
every cost line so far), eight live charts and a sample of the social
network coloured by firm and loyalty rung. Choosing a strategy under "Side by
side" runs a second market on the same seed (common random numbers) with the
focal firm on that strategy, stepped together with the first; every chart
then compares the two (solid: the first market, dashed: the second).

While playing, the page is redrawn at most ten times a second (``PLAY_FRAME_S``) and the play thread
pauses after each picture at least as long as drawing it took: a loop that sends pictures faster than
the browser draws them fills the browser's queue without end, and a click (pause) then waits behind
it. The clock's buttons are not redrawn every week, so they stay put under the pointer.

Controls are validated like scenario fields: each is applied as a dotted-path override of the scenario
(with the ``--set`` assignments of ``relsim app SCENARIO --set PATH=VALUE``, parsed and checked by the
command line exactly as ``relsim run --set``) before validation, so a value out of its field's range is
named on the page with what is allowed (``params_problem``, checked as the controls change; Reset
waits until it is fixed). Before a market is built, the memory of all the markets of the page is
estimated (``relsim.market.resources.estimate``, as ``relsim run`` does) and a market that would not
fit in the memory available is refused with a message (``check_size``).

Start-up (issue 16): ``relsim app`` serves this module in its own process; the module does not import
the model, so the server answers before Mesa, pandas and numba are loaded, and a background thread
(``WarmUp``) loads them and builds the first tab's market while the browser loads the page. The first
page's picture (week 0 of that market, a ``View``) is kept between starts (``keep_picture``: a JSON file
in ``relsim/__pycache__`` or ``$RELSIM_CACHE_DIR``, keyed by the controls, the ``--set`` overrides, the
scenario file, relsim's code and the versions of the libraries that shape a market); a start that finds it
draws it at once and builds the market behind it (``Session.attach``: every step waits for it, and a
picture that differs from the market's own is replaced). ``scripts/setup.sh`` keeps it after installing.

Engine: the app runs the array engine by default and offers the agent engine (every customer a Mesa
agent; the same customer events) in its *Engine* menu; see ``APP_ENGINES`` for why.

The page is the app's own, not Mesa's ``SolaraViz``: SolaraViz keeps one model
for all browser tabs, reads the model while its play thread steps it, and
shows controls a student does not need ("Page 0", "Use Threads").

The app uses a smaller market than the scenario files (1,500 customers at
most by default, budgets scaled) so that a step is quick; the population
slider goes up to 5,000.

The four relationship parameters map to scenario fields as follows (the same
words are shown in the app's "What the controls mean" panel); each starts at
the scenario's own value:

* trust → ``behaviour.trust_gain``: trust a customer gains each time an order
  arrives as promised;
* commitment → ``behaviour.commitment_rate``: how fast contact with a trusted
  firm turns into commitment (wanting to stay);
* reciprocity → a multiplier on every goodwill size (``reward_goodwill``,
  ``recovery_goodwill_per_satisfaction``, ``offer_goodwill_per_discount``,
  ``key_account_goodwill_per_value``): how
  much customers feel they owe a firm that does them a favour;
* responsiveness → ``behaviour.w_responsiveness``: how much a quickly
  answering support desk weighs when a customer chooses where to buy.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import solara

from relsim.market import rules
from relsim.market.resources import estimate
from relsim.market.terms import BOOK_LINES
from relsim.scenario.errors import ScenarioError
from relsim.scenario.schema import Scenario, load_scenario
from relsim.scenario.strategies import PRESETS
from relsim.util.errors import RelsimError
from relsim.util.resources import MEMORY_SHARE, ResourceError, available_memory, human_bytes
from relsim.util.shipped import shipped_names
from relsim.util.style import PALETTE

if TYPE_CHECKING:
    from relsim.market.model import MarketModel

    _MarketBase = MarketModel
else:
    _MarketBase = object

# The app is served over plain http on 127.0.0.1: Solara then warns, on every page load, that its
# session cookie falls back from SameSite=None (needed only inside a cross-site iframe, over https)
# to SameSite=Lax — which is what a local app wants. Silence that one warning, nothing else.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

#: Population of the app's market unless the slider says otherwise: small
#: enough that a step (model plus redraw) is quick.
APP_CUSTOMERS = 1500
#: Customers drawn in the network view.
NETWORK_SAMPLE = 150
#: Environment variable through which ``relsim app SCENARIO`` passes its scenario.
SCENARIO_ENV = "RELSIM_APP_SCENARIO"
#: Environment variable through which ``relsim app --set PATH=VALUE`` passes its assignments: a JSON
#: object of dotted path → value, parsed and validated by the command line as ``relsim run --set`` does.
SET_ENV = "RELSIM_APP_SET"
#: Engines offered by the app. Both run the same customer events (relsim/market/events.py); firms and
#: partners are Mesa agents in both. The default is the array engine: on the merged event code the agent
#: engine needs about 0.19 s per week for one market of 1,500 customers on the reference machine, the
#: model step alone, which misses the app's target of 0.2 s round trip per step (benchmarks/README.md).
APP_ENGINES = ("arrays", "agents")
APP_ENGINE = "arrays"
#: ``RELSIM_APP_TIMING=1``: print the server's start milestones and its time per Step (model, then redraw).
TIMING = os.environ.get("RELSIM_APP_TIMING", "") == "1"
#: While playing, at most one picture per this many seconds (ten a second). Without a pace the play
#: thread sent pictures faster than a busy browser could draw them: the browser's queue of updates
#: grew without end, and a click (pause) waited behind it for minutes — the "hang" of the long play.
PLAY_FRAME_S = 0.1
#: Shortest pause after each picture; the pause is also at least as long as drawing the picture took,
#: so that the play thread leaves the server at least half its time for clicks.
PLAY_GAP_S = 0.02

RUNG_COLOURS = ("#BBBBBB", "#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00")
NO_FIRM = "#DDDDDD"
TWIN_COLOUR = PALETTE[5]
GOODWILL_FIELDS = ("reward_goodwill", "recovery_goodwill_per_satisfaction", "offer_goodwill_per_discount",
                   "key_account_goodwill_per_value")
COST_LINES = tuple(line for line in BOOK_LINES if line != "revenue")
LINE_LABELS = {"revenue": "Revenue", "cogs": "Cost of goods", "acquisition": "Acquisition",
               "relationship": "Relationship programme", "service_desk": "Service desk",
               "partner_fees": "Partner fees", "rewards": "Loyalty rewards", "adaptation": "Strategy changes",
               "profit": "Profit"}
#: Lever sliders: name → (label, low, high, step).
LEVER_SLIDERS = {
    "price": ("Price index (1 = market price)", 0.7, 1.5, 0.05),
    "acquisition_budget": ("Acquisition budget (× market reference)", 0.0, 3.0, 0.1),
    "promotion_discount": ("Promotion discount (share of price)", 0.0, 0.5, 0.05),
    "service_capacity": ("Support desk size (× market reference)", 0.0, 4.0, 0.25),
    "reward_rate": ("Loyalty reward (share of spend)", 0.0, 0.1, 0.01),
    "personalisation": ("Personalised offers (share of customers a week)", 0.0, 0.5, 0.05),
}
#: Relationship sliders: name → (label, low, high, step); they start at the scenario's values.
RELATIONSHIP_SLIDERS = {
    "trust_gain": ("Trust gained per kept promise", 0.0, 0.2, 0.01),
    "commitment_rate": ("Commitment growth", 0.0, 0.5, 0.01),
    "reciprocity": ("Reciprocity (goodwill × scenario)", 0.0, 3.0, 0.1),
    "responsiveness_weight": ("Weight of responsiveness", 0.0, 2.0, 0.1),
}
#: Labels of the other controls (also used by the "changed" cue).
OTHER_LABELS = {"scenario_name": "Scenario", "seed": "Seed", "customers": "Customers",
                "strategy": "Strategy of the focal firm", "compare_with": "Side by side",
                "custom_levers": "Use my lever settings", "engine": "Engine"}

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
                    "another strategy; the charts then compare the two (solid: first, dashed: second).",
    "Use my lever settings": "Ticked: the six levers below replace the preset's values (they start "
                             "at the chosen preset's). Unticked: the preset decides.",
    "Price index": "The focal firm's list price; 1 is the market's usual price.",
    "Acquisition budget": "Weekly advertising to win new customers, as a multiple of a typical budget.",
    "Promotion discount": "Price cut in a promotion week (one week in four when above zero).",
    "Support desk size": "Support agents answering questions and complaints, as a multiple of a typical desk.",
    "Loyalty reward": "Share of every purchase given back as reward points.",
    "Personalised offers": "Share of customers sent a personal offer each week (strategy level 4 and up).",
    "Trust gained per kept promise": "TRUST — how much a customer's trust grows each time an order "
                                     "arrives on time and as described (starts at the scenario's value).",
    "Commitment growth": "COMMITMENT — how quickly contact with a trusted firm turns into wanting "
                         "to stay with it (starts at the scenario's value).",
    "Reciprocity (goodwill × scenario)": "RECIPROCITY — how strongly customers feel they owe a firm that "
                                         "did them a favour (reward, an apology that fixed a problem, a "
                                         "personal offer); 1 = as in the scenario, 0 = they never feel it "
                                         "(each goodwill size is capped at 1, the scenario's upper limit).",
    "Weight of responsiveness": "RESPONSIVENESS — how much a support desk that answers quickly counts "
                                "when a customer chooses where to buy (starts at the scenario's value).",
    "Engine": "How the customers are simulated: 'arrays' moves all customers of an event at once "
              "(quick); 'agents' makes every customer a Mesa agent acting for itself (the same events, "
              "10–20 times slower). Both give the same market in distribution.",
    "Draw every": "While playing, redraw the page every N weeks (the market still moves week by week); "
                  "larger is faster.",
    "Run to week": "Play and stop at that week (e.g. 52, 104, 156 for one, two, three years).",
}


def _upper_limit(name: str) -> float:
    """The upper bound (``le``) of ``behaviour.<name>`` in the scenario schema."""
    from relsim.scenario.schema import BehaviourSpec
    return min(float(m.le) for m in BehaviourSpec.model_fields[name].metadata if getattr(m, "le", None) is not None)


def _shipped_names() -> list[str]:
    return shipped_names("scenario")


def _scenario_choices() -> tuple[list[str], str]:
    """Names offered in the scenario menu, and the one selected at start."""
    names = _shipped_names()
    chosen = os.environ.get(SCENARIO_ENV, "").strip() or "ecommerce"
    if chosen not in names:
        names.append(chosen)
    return names, chosen


def command_line_overrides() -> dict[str, Any]:
    """The ``--set`` assignments of ``relsim app`` (dotted path → value)."""
    overrides = json.loads(os.environ.get(SET_ENV, "") or "{}")
    if not isinstance(overrides, dict):
        raise ScenarioError(f"{SET_ENV} must hold a JSON object of dotted path → value, not {overrides!r}")
    return overrides


def overrides_for(scenario_name: str) -> dict[str, Any]:
    """The ``--set`` overrides that apply to ``scenario_name``: those of the command line's scenario only
    (another scenario chosen in the menu is loaded as shipped: its fields may differ)."""
    return command_line_overrides() if scenario_name == _scenario_choices()[1] else {}


def load_app_scenario(scenario_name: str) -> Scenario:
    """``scenario_name`` with the command line's ``--set`` overrides (``ScenarioError`` on a bad one)."""
    return load_scenario(scenario_name, **overrides_for(scenario_name))


def scenario_controls(scenario_name: str) -> dict[str, Any]:
    """Starting values of the relationship controls, the population and the engine, from the scenario."""
    scenario = load_app_scenario(scenario_name)
    behaviour = scenario.behaviour
    # the app's engine unless the command line chose one (--set market.engine=agents)
    engine = scenario.market.engine if "market.engine" in overrides_for(scenario_name) else APP_ENGINE
    return {"trust_gain": float(behaviour.trust_gain), "commitment_rate": float(behaviour.commitment_rate),
            "reciprocity": 1.0, "responsiveness_weight": float(behaviour.w_responsiveness),
            "customers": min(APP_CUSTOMERS, scenario.market.customers), "engine": engine}


def preset_levers(scenario_name: str, strategy: str) -> dict[str, float]:
    """The six slider levers of the focal firm under ``strategy`` (``"current"``: the scenario's own)."""
    firm = load_app_scenario(scenario_name).with_focal_strategy(strategy).firms[0]
    levers = firm.build_strategy()
    return {name: float(getattr(levers, name)) for name in LEVER_SLIDERS}


def default_params(scenario_name: str | None = None, strategy: str = "transactional",
                   compare_with: str = "relationship") -> dict[str, Any]:
    """Every control's starting value: the scenario's parameters and the preset's levers."""
    if scenario_name is None:
        scenario_name = _scenario_choices()[1]
    return {"scenario_name": scenario_name, "seed": 0, "strategy": strategy, "compare_with": compare_with,
            "custom_levers": False, **scenario_controls(scenario_name),
            **preset_levers(scenario_name, strategy)}


#: Scenario field set by each control that maps to one (dotted path, as in ``--set``).
CONTROL_FIELDS = {"trust_gain": "behaviour.trust_gain", "commitment_rate": "behaviour.commitment_rate",
                  "responsiveness_weight": "behaviour.w_responsiveness", "customers": "market.customers",
                  "engine": "market.engine", "strategy": "firms.0.strategy", "custom_levers": "firms.0.levers",
                  **{name: f"firms.0.levers.{name}" for name in LEVER_SLIDERS}}


def control_error(error: Exception) -> str:
    """A scenario error about the app's controls, each field named by its control's label too."""
    text = str(error)
    if "invalid scenario\n" in text:            # from_dict's "<file>: invalid scenario" and one line per field
        text = "; ".join(line.strip() for line in text.split("invalid scenario\n", 1)[1].splitlines())
    labels = {**OTHER_LABELS, **{k: v[0] for k, v in LEVER_SLIDERS.items()},
              **{k: v[0] for k, v in RELATIONSHIP_SLIDERS.items()}}
    paths = {**CONTROL_FIELDS, **{name: f"levers.{name}" for name in LEVER_SLIDERS}}
    for name, path in sorted(paths.items(), key=lambda item: -len(item[1])):
        label = labels.get(name, name)
        text = re.sub(rf"(?<![\w.]){re.escape(path)}(?= =|:)", f"{label} ({path})", text)
    return text


def check_size(scenarios: list[Scenario], available: int | None = None) -> str:
    """Refuse (``ResourceError``) markets that would not fit in memory; a note if a week will be slow.

    Uses the estimate of ``relsim run`` (:func:`relsim.market.resources.estimate`): the memory of all the
    markets the page holds at once (the twin too), against the memory available now.
    """
    memory = 0.0
    week_seconds = 0.0
    for scenario in scenarios:
        size, seconds = estimate(scenario)
        memory += size
        week_seconds += seconds / max(1, -(-scenario.market.weeks // scenario.market.step_weeks))
    available = available_memory() if available is None else available
    if available is not None and memory > MEMORY_SHARE * available:
        raise ResourceError(
            f"this market needs about {human_bytes(memory)} of memory, more than this machine has available "
            f"({human_bytes(available)}): use fewer customers, or no side-by-side market")
    if week_seconds > 1.0:
        return f"each week will take about {week_seconds:.0f} s (estimate): fewer customers are quicker"
    return ""


def build_scenario(scenario_name: str, customers: int, strategy: str, custom_levers: bool,
                   levers: dict[str, float], trust_gain: float | None = None,
                   commitment_rate: float | None = None, reciprocity: float = 1.0,
                   responsiveness_weight: float | None = None, engine: str | None = None) -> Scenario:
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
    trust_gain, commitment_rate, responsiveness_weight : float or None
        ``behaviour.trust_gain``, ``behaviour.commitment_rate`` and
        ``behaviour.w_responsiveness``; ``None`` keeps the scenario's value.
    reciprocity : float
        Multiplier on the scenario's goodwill sizes (each capped at 1).
    engine : str or None
        ``market.engine``; ``None`` keeps the scenario's.

    Returns
    -------
    Scenario
        Validated like a scenario file: every control is applied as a dotted-path override
        (with ``relsim app --set``'s own) before validation; raises ``ScenarioError`` naming
        the field and the value.
    """
    base = load_app_scenario(scenario_name)
    # every control becomes a dotted-path override of the scenario, validated like a scenario file
    # (and like relsim run --set): a value out of a field's range is refused with the field's message
    overrides: dict[str, Any] = dict(overrides_for(scenario_name))
    if engine is not None:
        overrides["market.engine"] = engine
    for name, value in (("trust_gain", trust_gain), ("commitment_rate", commitment_rate),
                        ("w_responsiveness", responsiveness_weight)):
        if value is not None:
            overrides[f"behaviour.{name}"] = float(value)
    if not 0 <= reciprocity:
        raise ScenarioError(f"Reciprocity = {reciprocity!r}: must be at least 0")
    for name in GOODWILL_FIELDS:
        # capped at the field's upper limit: reciprocity 3 on a goodwill of 0.5 is a goodwill of 1
        overrides[f"behaviour.{name}"] = min(_upper_limit(name), getattr(base.behaviour, name) * reciprocity)
    if strategy != "current":
        base.with_focal_strategy(strategy)            # an unknown preset: the message that names the presets
        overrides["firms.0.strategy"] = strategy
        overrides["firms.0.levers"] = {}
    if custom_levers:
        preset = base.with_focal_strategy(strategy).firms[0]
        # promotions need a period; a discount without one would never apply
        every = preset.build_strategy().promotion_every_weeks or 4
        overrides["firms.0.levers"] = {
            **preset.levers, **{k: float(v) for k, v in levers.items()},
            "promotion_every_weeks": every if levers.get("promotion_discount", 0) > 0 else 0}
    scenario = load_scenario(scenario_name, **overrides)
    if not isinstance(customers, int | float) or not 1 <= customers:
        raise ScenarioError(f"Customers = {customers!r}: must be a whole number of at least 1")
    if customers < scenario.market.customers:
        # A smaller market than the file's keeps the app quick (a larger one would change the
        # scenario's character: a 400-account B2B market is not a 1,500-account one). Budgets,
        # desk size and alliance fees shrink with it, so that the money per customer, and so the
        # sign of profit, stays that of the scenario.
        scenario = scenario.resized(int(customers))
    return scenario


class AppMarket(_MarketBase):
    """A market re-creatable from the app's controls, optionally with a twin (``AppModel``'s body).

    ``AppModel`` is this class on top of ``MarketModel``, made at its first use (``app_model_class``):
    importing the model (Mesa, SimPy, networkx) takes a second or more, and ``relsim app``
    does it in the background while the browser loads the page (``WarmUp``), not before the server
    answers.

    The signature is flat, one keyword per control. (There is deliberately no
    parameter called ``scenario``: Mesa's visualisation would pass a Mesa
    scenario object in it.)

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
        Levers of the focal firm (used when ``custom_levers``; ``None``: the preset's).
    trust_gain, commitment_rate, reciprocity, responsiveness_weight : float
        The four relationship parameters (see the module docstring); ``None``: the scenario's.
    engine : str
        ``"arrays"`` (the app's default) or ``"agents"`` (every customer a Mesa agent).
    check_memory : bool
        Estimate the markets' memory first and refuse (``ResourceError``) what would not fit
        (``check_size``); the page always checks.
    """

    def __init__(self, scenario_name: str = "ecommerce", seed: int = 0, customers: int = APP_CUSTOMERS,
                 strategy: str = "transactional", compare_with: str = "relationship",
                 custom_levers: bool = False, price: float | None = None,
                 acquisition_budget: float | None = None, promotion_discount: float | None = None,
                 service_capacity: float | None = None, reward_rate: float | None = None,
                 personalisation: float | None = None, trust_gain: float | None = None,
                 commitment_rate: float | None = None, reciprocity: float = 1.0,
                 responsiveness_weight: float | None = None, engine: str = APP_ENGINE,
                 check_memory: bool = False) -> None:
        given = dict(price=price, acquisition_budget=acquisition_budget,
                     promotion_discount=promotion_discount, service_capacity=service_capacity,
                     reward_rate=reward_rate, personalisation=personalisation)
        levers = {**preset_levers(scenario_name, strategy),
                  **{k: v for k, v in given.items() if v is not None}}
        shared: dict[str, Any] = dict(trust_gain=trust_gain, commitment_rate=commitment_rate,
                                      reciprocity=reciprocity, responsiveness_weight=responsiveness_weight,
                                      engine=engine)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ScenarioError(f"Seed = {seed!r}: must be a whole number of at least 0")
        spec = build_scenario(scenario_name, customers, strategy, custom_levers, levers, **shared)
        twin_spec = (None if compare_with == "none"
                     else build_scenario(scenario_name, customers, compare_with, False, levers, **shared))
        #: a note for the page when a week will be slow (empty otherwise)
        self.size_note = check_size([s for s in (spec, twin_spec) if s is not None]) if check_memory else ""
        super().__init__(spec, seed=int(seed))
        self.strategy_label = "custom levers" if custom_levers else strategy
        self.reciprocity = reciprocity
        self.twin: MarketModel | None = None
        self.twin_label = ""
        if twin_spec is not None:
            from relsim.market.model import MarketModel

            self.twin = MarketModel(twin_spec, seed=int(seed))
            self.twin_label = compare_with
        self.view_sample = network_sample(self)

    def step(self) -> None:
        """One week of this market and, in side-by-side mode, of the twin."""
        super().step()
        if self.twin is not None and self.twin.running:
            self.twin.step()

    def markets(self) -> list[tuple[MarketModel, str]]:
        """This market and its twin (if any), each with the label of its focal strategy."""
        pairs: list[tuple[MarketModel, str]] = [(self, self.strategy_label)]
        if self.twin is not None:
            pairs.append((self.twin, self.twin_label))
        return pairs


if TYPE_CHECKING:
    AppModel = AppMarket


@cache
def app_model_class() -> type[AppMarket]:
    """``AppModel``: ``AppMarket`` on ``MarketModel``, importing the model on first use."""
    from relsim.market.model import MarketModel

    app_model = type("AppModel", (AppMarket, MarketModel), {"__module__": __name__, "__doc__": AppMarket.__doc__})
    return app_model


def __getattr__(name: str) -> Any:
    # ``from relsim.app import AppModel`` works as if the class were defined here
    if name == "AppModel":
        return app_model_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        self._edge_path = ""

    def edge_path(self) -> str:
        """The contacts among the sampled customers as one SVG path (they never change: made once)."""
        if not self._edge_path:
            xy = self.xy
            segments = "".join(f"M{xy[i, 0]:.3f},{xy[i, 1]:.3f}L{xy[j, 0]:.3f},{xy[j, 1]:.3f}"
                               for i, j in self.edges)
            self._edge_path = f"<path d='{segments}' stroke='#999' stroke-width='0.005' opacity='0.6'/>"
        return self._edge_path


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
            supporter_commitment=params.supporter_commitment, supporter_trust=params.supporter_trust,
            advocate_commitment=params.advocate_commitment, partner_commitment=params.partner_commitment,
            promoter_threshold=wom.promoter_threshold, co_creation=float(firm.strategy.level >= 5))
    return firms, rungs


# ----------------------------------------------------------------------
# What the page shows: an immutable copy, taken under the session's lock
# ----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MarketView:
    """One market at one moment: everything a panel draws, copied out of the model."""

    label: str
    firms: tuple[str, ...]
    rows: tuple[dict, ...]            # the recorder's rows so far (rows are never changed once written)
    customers: tuple[int, ...]        # per firm, now
    cumulative: tuple[float, ...]     # cumulative discounted profit per firm, now
    levers: dict[str, float]          # the focal firm's levers
    sample_firms: np.ndarray          # network sample: firm of each sampled customer (-1: none)
    sample_rungs: np.ndarray          # network sample: loyalty rung of each sampled customer


@dataclass(frozen=True, eq=False)
class View:
    """The whole page's data at one week (``eq=False``: a new view is always a change)."""

    generation: int
    week: int
    weeks: int
    running: bool
    seed: int
    population: int
    markets: tuple[MarketView, ...]
    behaviour: dict[str, float]
    sample: Any = field(repr=False)
    cache: dict = field(default_factory=dict, repr=False)   # series computed from this view, once

    def series(self, market: int, firm: str) -> dict[str, np.ndarray]:
        """``chart_series`` of one firm of one market, computed once per view."""
        key = (market, firm)
        if key not in self.cache:
            self.cache[key] = chart_series(self.markets[market].rows, firm)
        return self.cache[key]


def market_view(market: MarketModel, label: str, sample: NetworkSample) -> MarketView:
    """Copy what the page needs out of one market (call with the session's lock held)."""
    lever = market.firms[0].strategy
    sample_firms, sample_rungs = sample_state(market, sample)
    return MarketView(
        label=label, firms=tuple(f.name for f in market.firms), rows=tuple(market.recorder.rows),
        customers=tuple(int(market.population.count(f.index)) for f in market.firms),
        cumulative=tuple(float(v) for v in market.recorder.cumulative),
        levers={name: float(getattr(lever, name)) for name in LEVER_SLIDERS},
        sample_firms=sample_firms, sample_rungs=sample_rungs)


def make_view(model: AppModel, generation: int = 0) -> View:
    """The page's data for ``model`` now (call with the session's lock held)."""
    behaviour = model.behaviour
    return View(
        generation=generation, week=round(model.steps * model.step_weeks),
        weeks=int(model.spec.market.weeks), running=bool(model.running), seed=int(model.seed),
        population=int(model.population.size),
        markets=tuple(market_view(market, label, model.view_sample) for market, label in model.markets()),
        behaviour={"trust_gain": behaviour.trust_gain, "commitment_rate": behaviour.commitment_rate,
                   "reciprocity": model.reciprocity, "w_responsiveness": behaviour.w_responsiveness},
        sample=model.view_sample)


# ----------------------------------------------------------------------
# The first picture, kept from the previous start
# ----------------------------------------------------------------------
#: Environment variable naming the folder of the kept first picture (default: ``relsim/__pycache__``,
#: beside numba's cache of the compiled kernels).
CACHE_ENV = "RELSIM_CACHE_DIR"
#: The kept picture's file in that folder, and the largest file read back (the default page's picture is ~17 kB).
PICTURE_FILE = "app-first-picture.json"
PICTURE_MAX_BYTES = 4_000_000
#: Version of the file's layout; a file of another version is ignored.
PICTURE_FORMAT = 1


def picture_path() -> Path:
    """Where the first page's picture is kept between starts."""
    folder = os.environ.get(CACHE_ENV, "").strip()
    return (Path(folder) if folder else Path(__file__).resolve().parent / "__pycache__") / PICTURE_FILE


@cache
def _code_digest() -> str:
    """SHA-256 of relsim's own code and shipped files, and of the versions of the libraries whose
    numbers reach a market's first week (random streams, network): a change to any of them makes a
    kept picture stale."""
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml", ".csv", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    for library in ("numpy", "mesa", "networkx", "scipy", "pandas", "pydantic"):
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=none".encode())
    return digest.hexdigest()


def picture_key(params: dict[str, Any]) -> str:
    """What a kept picture must match: the controls, the command line's overrides, the scenario file
    (when it is a path) and the code (``_code_digest``)."""
    import hashlib

    scenario_file = Path(str(params.get("scenario_name", "")))
    content = ""
    if scenario_file.suffix == ".toml" and scenario_file.is_file():
        content = hashlib.sha256(scenario_file.read_bytes()).hexdigest()
    described = json.dumps({"params": params, "set": command_line_overrides(), "file": content,
                            "code": _code_digest(), "format": PICTURE_FORMAT}, sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()


def picture_data(view: View, note: str = "") -> dict[str, Any]:
    """A view as plain JSON data (exact: floats are written with ``repr``, which reads back bit for bit)."""
    sample = view.sample
    return {
        "week": view.week, "weeks": view.weeks, "running": view.running, "seed": view.seed,
        "population": view.population, "behaviour": dict(view.behaviour), "note": note,
        "sample": {"members": sample.members.tolist(), "xy": sample.xy.tolist(), "edges": sample.edges.tolist()},
        "markets": [{"label": m.label, "firms": list(m.firms), "rows": [_row_data(r) for r in m.rows],
                     "customers": list(m.customers), "cumulative": list(m.cumulative), "levers": dict(m.levers),
                     "sample_firms": m.sample_firms.tolist(), "sample_rungs": m.sample_rungs.tolist()}
                    for m in view.markets]}


def _row_data(row: Any) -> dict[str, Any]:
    """A week's row as JSON data: a NaN (a rate of a week without its events: no ticket answered,
    no customer at the start) is written as null, JSON having no NaN (:func:`view_from_data` reads
    it back as ``np.nan``, the value the recorder writes)."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}


def _checked(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is of ``kind`` (a bool is not taken for a number), else ``ValueError``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ValueError(f"{what}: {type(value).__name__}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in a kept picture")


def _numbers(value: Any, what: str) -> dict[str, float]:
    _checked(value, dict, what)
    return {str(k): float(_checked(v, (int, float), f"{what}.{k}")) for k, v in value.items()}


def _array(value: Any, dtype: type, shape_tail: tuple[int, ...], what: str) -> np.ndarray:
    array = np.asarray(_checked(value, list, what), dtype=dtype)
    if array.size == 0:
        array = array.reshape((0, *shape_tail))
    if array.shape[1:] != shape_tail or not np.isfinite(array).all():
        raise ValueError(f"{what}: shape {array.shape}")
    return array


def view_from_data(data: Any) -> tuple[View, str]:
    """The view (and the page's note) of ``picture_data``; ``ValueError`` (or ``TypeError``) on anything
    that is not such data. Every field is checked for its type and shape: a file is never trusted."""
    _checked(data, dict, "picture")
    sample_data = _checked(data["sample"], dict, "sample")
    sample = NetworkSample(_array(sample_data["members"], np.int64, (), "sample.members"),
                           _array(sample_data["xy"], np.float64, (2,), "sample.xy"),
                           _array(sample_data["edges"], np.int64, (2,), "sample.edges"))
    size = sample.members.size
    if sample.xy.shape[0] != size or (sample.edges.size and not (0 <= sample.edges.min() <= sample.edges.max() < size)):
        raise ValueError("sample: sizes")
    markets = []
    for m in _checked(data["markets"], list, "markets"):
        _checked(m, dict, "market")
        firms = tuple(_checked(f, str, "firm") for f in _checked(m["firms"], list, "firms"))
        rows = tuple({str(k): np.nan if v is None else _checked(v, (int, float, str, bool), f"row.{k}")
                      for k, v in _checked(r, dict, "row").items()}
                     for r in _checked(m["rows"], list, "rows"))
        customers = tuple(int(_checked(c, int, "customers")) for c in _checked(m["customers"], list, "customers"))
        cumulative = tuple(float(_checked(c, (int, float), "cumulative"))
                           for c in _checked(m["cumulative"], list, "cumulative"))
        sample_firms = _array(m["sample_firms"], np.int64, (), "sample_firms")
        sample_rungs = _array(m["sample_rungs"], np.int64, (), "sample_rungs")
        if not (len(customers) == len(cumulative) == len(firms) and sample_firms.size == sample_rungs.size == size):
            raise ValueError("market: sizes")
        markets.append(MarketView(label=_checked(m["label"], str, "label"), firms=firms, rows=rows,
                                  customers=customers, cumulative=cumulative, levers=_numbers(m["levers"], "levers"),
                                  sample_firms=sample_firms, sample_rungs=sample_rungs))
    if not 1 <= len(markets) <= 2:
        raise ValueError("markets: count")
    view = View(generation=0, week=_checked(data["week"], int, "week"), weeks=_checked(data["weeks"], int, "weeks"),
                running=_checked(data["running"], bool, "running"), seed=_checked(data["seed"], int, "seed"),
                population=_checked(data["population"], int, "population"), markets=tuple(markets),
                behaviour=_numbers(data["behaviour"], "behaviour"), sample=sample)
    return view, _checked(data["note"], str, "note")


def read_picture(params: dict[str, Any]) -> tuple[View, str] | None:
    """The first page's picture kept for ``params`` by an earlier start, or ``None`` (none kept, kept for
    other controls or other code, or not a picture file: never an error, the page then builds its market
    before drawing). Read as JSON, size-limited, every field checked (``view_from_data``)."""
    path = picture_path()
    try:
        if not path.is_file() or path.stat().st_size > PICTURE_MAX_BYTES:
            return None
        kept = json.loads(path.read_bytes(), parse_constant=_no_constant)
        if not isinstance(kept, dict) or kept.get("format") != PICTURE_FORMAT or kept.get("key") != picture_key(params):
            return None
        return view_from_data(kept["picture"])
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None


def keep_picture(params: dict[str, Any], view: View, note: str = "") -> bool:
    """Keep ``view`` (week 0 of the market built from ``params``) for the next start; ``False`` where the
    folder is not writable (an install in a read-only place: the next start builds its market first)."""
    from relsim.util.outputs import atomic_write_text

    text = json.dumps({"format": PICTURE_FORMAT, "key": picture_key(params), "picture": picture_data(view, note)})
    try:
        path = picture_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(text, path)
        return True
    except OSError:
        return False


def keep_first_picture() -> bool:
    """Build the first page's market of ``relsim app`` (default scenario and controls) and keep its picture,
    so that even the first start after installing draws its first chart without waiting for the model
    (``scripts/setup.sh`` calls this with the compiling of the kernels)."""
    params = default_params()
    session = Session(params)
    return keep_picture(params, session.view, session.note)


class Session:
    """One browser tab's market: the model, its lock and the latest view.

    Every access to the model goes through ``advance`` or ``rebuild``, which
    hold ``lock``; the page reads only ``View`` objects.
    """

    def __init__(self, params: dict[str, Any], picture: tuple[View, str] | None = None) -> None:
        self.lock = threading.RLock()
        self.generation = 0
        #: changed by every play, pause and reset: a play loop started under another value stops
        self.play_token = 0
        self.params = dict(params)
        #: set once the market exists (at once, unless the session starts from a kept picture)
        self.ready = threading.Event()
        #: why the market of a kept picture could not be built (shown by the first step)
        self.failure = ""
        self.model: AppModel
        if picture is None:
            self.model = app_model_class()(**self.params, check_memory=True)
            self.note = self.model.size_note
            self.view = make_view(self.model, self.generation)
            self.ready.set()
        else:
            # the first page's picture kept by the previous start (``read_picture``); the market itself is
            # built by the warm-up thread (``attach``) and every step or reset waits for it
            self.view, self.note = picture

    def attach(self, model: AppModel) -> bool:
        """The market of a session that started from a kept picture; ``False`` if the picture differed
        from the market's own (it is then replaced, and the next picture is the market's)."""
        with self.lock:
            same = True
            if not self.ready.is_set():
                fresh = make_view(model, self.generation)
                same = picture_data(fresh, model.size_note) == picture_data(self.view, self.note)
                self.model, self.note = model, model.size_note
                if not same:
                    self.view = fresh
                self.ready.set()
            return same

    def fail(self, reason: str) -> None:
        """The market of a kept picture could not be built: every step says why."""
        with self.lock:
            if not self.ready.is_set():
                self.failure = reason
                self.ready.set()

    def rebuild(self, params: dict[str, Any]) -> View:
        """A new market from ``params`` (a bad value, or a market too large for the memory available,
        raises before the old market is dropped)."""
        model = app_model_class()(**params, check_memory=True)
        with self.lock:
            self.generation += 1
            self.model, self.params, self.note, self.failure = model, dict(params), model.size_note, ""
            self.view = make_view(model, self.generation)
            self.ready.set()
            return self.view

    def advance(self, weeks: int = 1, until: int | None = None) -> View:
        """Step up to ``weeks`` weeks (not past week ``until``, nor the end) and return the new view."""
        WARM_UP.wait_for_kernels()
        self.ready.wait()
        with self.lock:
            if self.failure:
                raise RuntimeError(self.failure)
            model = self.model
            for _ in range(max(int(weeks), 1)):
                done = round(model.steps * model.step_weeks)
                if not model.running or (until is not None and done >= until):
                    break
                model.step()
            self.view = make_view(model, self.generation)
            return self.view


# ----------------------------------------------------------------------
# Series and SVG charts (drawn from a view, never from the live model)
# ----------------------------------------------------------------------
def firm_series(rows: tuple[dict, ...], firm: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``week`` and ``columns`` of one firm's rows, as float arrays."""
    mine = [row for row in rows if row["firm"] == firm]
    out = {"week": np.array([row["week"] for row in mine], dtype=float)}
    for column in columns:
        out[column] = np.array([row[column] for row in mine], dtype=float)
    return out


def rolling(values: np.ndarray, window: int, how: str = "mean") -> np.ndarray:
    """Trailing rolling sum or mean over ``window`` points, ignoring NaN (NaN where a window has none)."""
    ok = np.isfinite(values)
    sums = np.cumsum(np.where(ok, values, 0.0))
    counts = np.cumsum(ok)
    sums[window:] = sums[window:] - sums[:-window].copy()
    counts[window:] = counts[window:] - counts[:-window].copy()
    if how == "sum":
        return np.where(counts > 0, sums, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


SERIES_COLUMNS = ("customers", "new_customers", "new_wom", "retention_rate", "mean_response_time",
                  "cumulative_discounted_profit", "market_share", *BOOK_LINES,
                  *(f"rung_{r}" for r in rules.RUNGS[1:]))


def chart_series(rows: tuple[dict, ...], firm: str) -> dict[str, np.ndarray]:
    """The charted quantities of one firm: smoothed where small markets are noisy."""
    s = firm_series(rows, firm, SERIES_COLUMNS)
    if s["week"].size == 0:
        return s
    new = rolling(s["new_customers"], 13, "sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        s["wom_share_pct"] = np.where(new > 0, 100 * rolling(s["new_wom"], 13, "sum") / np.where(new > 0, new, 1),
                                      np.nan)
    # a 13-week (quarter) window smooths the week-to-week noise of small markets
    s["retention_pct"] = 100 * rolling(s["retention_rate"], 13)
    # weekly means of a few tickets jump about; a 4-week mean shows the level
    s["response_days"] = 7 * rolling(s["mean_response_time"], 4)
    s["profit_k"] = s["cumulative_discounted_profit"] / 1000
    s["share_pct"] = 100 * rolling(s["market_share"], 4)
    for line in BOOK_LINES:
        s[f"total_{line}_k"] = np.cumsum(s[line]) / 1000
    return s


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    power = 10 ** np.floor(np.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:g}M"
    if size >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


@dataclass
class Line:
    """One line of a chart."""

    label: str
    colour: str
    x: np.ndarray
    y: np.ndarray
    dashed: bool = False


def svg_chart(title: str, unit: str, lines: list[Line], weeks: int, *, ymin: float | None = None,
              ymax: float | None = None, areas: list[tuple[str, str, np.ndarray, np.ndarray]] | None = None,
              legend: Sequence[tuple[str, str, bool | None]] | None = None, css: str = "") -> str:
    """A line (or stacked-area) chart as SVG that scales with its box; ``legend``: (label, colour, dashed),
    dashed ``None`` for a band (a thick swatch)."""
    width, height, left, right, top, bottom = 360, 230, 44, 8, 36, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [line.y[np.isfinite(line.y)] for line in lines]
    if areas:
        values += [upper[np.isfinite(upper)] for _, _, _, upper in areas]
    finite = np.concatenate(values) if values else np.array([])
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    lo = min(lo, 0.0) if ymin is None else ymin
    hi = hi if ymax is None else ymax
    if hi - lo < 1e-9:
        hi = lo + 1.0
    step = _nice_step(hi - lo)
    lo, hi = np.floor(lo / step) * step, np.ceil(hi / step) * step
    xmax = max(weeks, 1)

    def sx(x: float | np.ndarray) -> np.ndarray:
        return left + plot_w * np.asarray(x, dtype=float) / xmax

    def sy(y: float | np.ndarray) -> np.ndarray:
        return top + plot_h * (1 - (np.asarray(y, dtype=float) - lo) / (hi - lo))

    parts = [f"<svg viewBox='0 0 {width} {height}' preserveAspectRatio='xMidYMid meet' "
             f"style='width:100%;height:auto;display:block' role='img' aria-label='{escape(title)}'>",
             f"<text x='4' y='14' font-size='12' font-weight='600'>{escape(title)}</text>",
             f"<text x='{left}' y='29' font-size='10' fill='#555'>{escape(unit)}</text>"]
    for tick in np.arange(lo, hi + step / 2, step):
        y = float(sy(tick))
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' "
                     "stroke='#e4e4e4'/>"
                     f"<text x='{left - 4}' y='{y + 3:.1f}' font-size='10' text-anchor='end'>"
                     f"{_fmt(float(tick))}</text>")
    xstep = 52 if weeks > 104 else 13
    for tick in range(0, weeks + 1, xstep):
        x = float(sx(tick))
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{top + plot_h}' stroke='#eeeeee'/>"
                     f"<text x='{x:.1f}' y='{top + plot_h + 12}' font-size='10' text-anchor='middle'>{tick}</text>")
    parts.append(f"<text x='{left + plot_w / 2}' y='{height - 3}' font-size='10' text-anchor='middle' "
                 f"fill='#555'>week</text>")
    for label, colour, x, upper in areas or []:
        # areas come stacked: each is drawn from 0 up to its top; later (lower) ones cover earlier ones
        if x.size:
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(sx(x), sy(upper), strict=True))
            base = f"{float(sx(x[-1])):.1f},{float(sy(lo)):.1f} {float(sx(x[0])):.1f},{float(sy(lo)):.1f}"
            parts.append(f"<polygon points='{pts} {base}' fill='{colour}' opacity='0.9'>"
                         f"<title>{escape(label)}</title></polygon>")
    for line in lines:
        ok = np.isfinite(line.y)
        if not ok.any():
            continue
        xs, ys = sx(line.x), sy(np.where(ok, line.y, lo))
        # a gap where the series has no value (e.g. no new customers yet)
        path = []
        pen_down = False
        for a, b, good in zip(xs, ys, ok, strict=True):
            if good:
                path.append(f"{'L' if pen_down else 'M'}{a:.1f},{b:.1f}")
            pen_down = bool(good)
        dash = " stroke-dasharray='6 4'" if line.dashed else ""
        parts.append(f"<path d='{''.join(path)}' fill='none' stroke='{line.colour}' stroke-width='2'{dash}>"
                     f"<title>{escape(line.label)}</title></path>")
    parts.append("</svg>")
    if legend:
        dash = " stroke-dasharray='5 3'"
        items = "".join(
            f"<span style='white-space:nowrap;margin-right:10px'><svg width='22' height='8'><line x1='0' "
            f"x2='22' y1='4' y2='4' stroke='{colour}' stroke-width='{6 if dashed is None else 2}'"
            f"{dash if dashed else ''}/></svg> {escape(label)}</span>"
            for label, colour, dashed in legend)
        parts.append(f"<div class='relsim-legend' style='font-size:11px;line-height:1.5'>{items}</div>")
    return f"<div class='relsim-chart{(' ' + css) if css else ''}'>{''.join(parts)}</div>"


CHARTS = (
    ("customers", "Customers", "customers"),
    ("share_pct", "Share of the market's revenue (4-wk mean)", "%"),
    ("profit_k", "Cumulative discounted profit", "thousands"),
    ("retention_pct", "Weekly retention (13-wk mean)", "% of customers kept"),
    ("wom_share_pct", "Word-of-mouth share of new customers", "% (13-wk window)"),
    ("response_days", "Support response time (4-wk mean)", "days"),
)
COST_COLOURS = dict(zip(COST_LINES, ("#999999", PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[5], PALETTE[6],
                                     PALETTE[7]), strict=True))


def chart_lines(view: View) -> tuple[list[tuple[str, str, dict[str, np.ndarray], bool]], list]:
    """(label, colour, series, dashed) of every charted line, and the shared legend."""
    if len(view.markets) == 1:
        market = view.markets[0]
        lines = [(name, PALETTE[i % len(PALETTE)], view.series(0, name), False)
                 for i, name in enumerate(market.firms)]
    else:
        focal = view.markets[0].firms[0]
        lines = [(f"{focal}: {market.label}", PALETTE[0] if number == 0 else TWIN_COLOUR,
                  view.series(number, focal), number > 0)
                 for number, market in enumerate(view.markets)]
    return lines, [(label, colour, dashed) for label, colour, _, dashed in lines]


def live_charts(view: View) -> list[str]:
    """The eight live charts as SVG snippets: six by firm (or by market), cost lines, loyalty ladder."""
    lines, _ = chart_lines(view)
    charts = []
    for column, title, unit in CHARTS:
        drawn = [Line(label, colour, s["week"], s[column], dashed) for label, colour, s, dashed in lines
                 if s["week"].size]
        limits: dict[str, Any] = {"ymax": 100.0} if column == "retention_pct" else {}
        charts.append(svg_chart(title, unit, drawn, view.weeks, css=f"relsim-chart-{column}", **limits))
    # what the focal firm spends on: every cost line, added up (undiscounted)
    focal = [(market.label, view.series(number, market.firms[0]), number > 0)
             for number, market in enumerate(view.markets)]
    cost_lines = [Line(f"{LINE_LABELS[line]} ({label})", COST_COLOURS[line], s["week"], s[f"total_{line}_k"],
                       dashed) for label, s, dashed in focal if s["week"].size for line in COST_LINES]
    legend = [(LINE_LABELS[line], COST_COLOURS[line], False) for line in COST_LINES]
    title = "Focal firm's costs so far, by line" + (" (dashed: side by side)" if len(focal) > 1 else "")
    charts.append(svg_chart(title, "thousands, undiscounted", cost_lines, view.weeks, legend=legend,
                            css="relsim-chart-costs"))
    # the ladder: focal firm's customers by rung, stacked (prospects left out)
    rungs = rules.RUNGS[1:]
    s = focal[0][1]
    areas = []
    if s["week"].size:
        stacked = np.cumsum(np.array([100 * s[f"rung_{r}"] for r in rungs]), axis=0)
        # draw the tallest (all rungs) first so that each lower rung covers it
        areas = [(rungs[i], RUNG_COLOURS[1 + i], s["week"], stacked[i]) for i in reversed(range(len(rungs)))]
    outlines = []
    for other_label, other, _ in focal[1:]:
        if other["week"].size:
            tops = np.cumsum(np.array([100 * other[f"rung_{r}"] for r in rungs]), axis=0)
            outlines += [Line(f"{rungs[i]} ({other_label})", "#000000", other["week"], tops[i], True)
                         for i in range(len(rungs))]
    title = "Loyalty ladder of the focal firm" + (" (dashed: side by side)" if len(focal) > 1 else "")
    charts.append(svg_chart(title, "% of the population", outlines, view.weeks, areas=areas,
                            legend=[(r, RUNG_COLOURS[1 + i], None) for i, r in enumerate(rungs)],
                            css="relsim-chart-ladder"))
    return charts


def legend_html(view: View) -> str:
    """The legend shared by the six firm charts."""
    _, legend = chart_lines(view)
    dash = " stroke-dasharray='6 4'"
    items = "".join(
        f"<span style='white-space:nowrap;margin-right:16px'><svg width='28' height='10'><line x1='0' "
        f"x2='28' y1='5' y2='5' stroke='{colour}' stroke-width='3'{dash if dashed else ''}/></svg> "
        f"{escape(label)}</span>" for label, colour, dashed in legend)
    return f"<div class='relsim-chart-legend' style='font-size:13px;margin:4px 0'>{items}</div>"


def headline_html(view: View) -> str:
    """Week and every firm's standing, in words and a table (also what the browser tests read)."""
    items = []
    for market in view.markets:
        lever = market.levers
        items.append(
            f"<li>{escape(market.firms[0])} on <b>{escape(market.label)}</b>: "
            f"<span class='relsim-count'>{market.customers[0]:,}</span> customers, cumulative discounted "
            f"profit <span class='relsim-profit'>{market.cumulative[0]:,.0f}</span> — levers: price index "
            f"{lever['price']:.2f}, acquisition {lever['acquisition_budget']:.1f}×, promotion "
            f"{lever['promotion_discount']:.0%}, desk {lever['service_capacity']:.2f}×, reward "
            f"{lever['reward_rate']:.0%}, personalised offers {lever['personalisation']:.0%}</li>")
    b = view.behaviour
    items.append(f"<li>Relationship parameters: trust gained per kept promise {b['trust_gain']:.2f}, "
                 f"commitment growth {b['commitment_rate']:.2f}, reciprocity goodwill {b['reciprocity']:.1f}× "
                 f"scenario, weight of responsiveness {b['w_responsiveness']:.1f}</li>")
    end = "" if view.running else " — <b>the end</b> (press Reset to start again)"
    return (f"<div class='relsim-headline' style='font-size:14px'><b>Week {view.week}</b> of {view.weeks}"
            f"{end} · {view.population:,} customers · seed {view.seed}"
            f"<ul style='margin:4px 0'>{''.join(items)}</ul></div>")


def shares_html(view: View) -> str:
    """Every firm's customers and shares, per market."""
    head = "".join(f"<th colspan='3'>{escape(m.label)}</th>" for m in view.markets)
    sub = "<th>customers</th><th>share of customers</th><th>share of revenue (4 wk)</th>" * len(view.markets)
    body = []
    for i, name in enumerate(view.markets[0].firms):
        cells = []
        for market in view.markets:
            recent = [row["market_share"] for row in market.rows[-4 * len(market.firms):] if row["firm"] == name]
            revenue_share = f"{100 * float(np.mean(recent)):.0f} %" if recent else "–"
            cells.append(f"<td>{market.customers[i]:,}</td><td>{100 * market.customers[i] / view.population:.0f} %"
                         f"</td><td>{revenue_share}</td>")
        swatch = f"<span style='color:{PALETTE[i % len(PALETTE)]}'>■</span>"
        body.append(f"<tr><th style='text-align:left'>{swatch} {escape(name)}</th>{''.join(cells)}</tr>")
    return (f"<div class='relsim-shares'><b>Every firm's share</b> (market: focal firm's strategy)"
            f"<table class='relsim-table'><tr><th></th>{head}</tr><tr><th></th>{sub}</tr>{''.join(body)}</table>"
            f"</div>")


def bridge_html(view: View) -> str:
    """The focal firm's books so far, line by line: what each strategy earns and spends on."""
    totals = []
    for market in view.markets:
        focal = market.firms[0]
        rows = [row for row in market.rows if row["firm"] == focal]
        total = {line: float(sum(row[line] for row in rows)) for line in BOOK_LINES}
        total["profit"] = total["revenue"] - sum(total[line] for line in COST_LINES)
        totals.append(total)
    head = "".join(f"<th>{escape(m.label)}</th>" for m in view.markets)
    if len(totals) > 1:
        head += f"<th>effect on profit of {escape(view.markets[1].label)}</th>"
    body = []
    for line in ("revenue", *COST_LINES, "profit"):
        sign = "" if line in ("revenue", "profit") else "− "
        cells = "".join(f"<td>{sign if round(t[line]) else ''}{t[line]:,.0f}</td>" for t in totals)
        if len(totals) > 1:
            effect = totals[1][line] - totals[0][line]
            effect = round(effect if line in ("revenue", "profit") else -effect) + 0
            colour = "#0a7d32" if effect > 0 else ("#b3261e" if effect < 0 else "#555")
            cells += f"<td style='color:{colour}'>{effect:+,.0f}</td>" if effect else "<td>0</td>"
        style = " style='border-top:1px solid #999;font-weight:600'" if line == "profit" else ""
        body.append(f"<tr{style}><th style='text-align:left'>{LINE_LABELS[line]}</th>{cells}</tr>")
    return (f"<div class='relsim-bridge'><b>Profit bridge of the focal firm</b> (totals so far, undiscounted)"
            f"<table class='relsim-table'><tr><th></th>{head}</tr>{''.join(body)}</table></div>")


def network_svg(view: View) -> str:
    """Sampled customers, one panel per market: fill = firm bought from, ring and size = loyalty rung."""
    sample = view.sample
    panels = []
    xy = sample.xy
    for market in view.markets:
        # the contacts never change: they are the background (edges_css), sent once per market, not each week
        parts = [f"<svg viewBox='-1.3 -1.3 2.6 2.6' class='relsim-edges-{view.generation}' "
                 "style='width:100%;max-width:420px;height:auto' role='img' "
                 f"aria-label='network {escape(market.label)}'>"]
        for (x, y), firm, rung in zip(xy, market.sample_firms, market.sample_rungs, strict=True):
            fill = PALETTE[firm % len(PALETTE)] if firm >= 0 else NO_FIRM
            parts.append(f"<circle cx='{x:.3f}' cy='{y:.3f}' r='{0.022 + 0.008 * rung:.3f}' fill='{fill}' "
                         f"stroke='{RUNG_COLOURS[rung]}' stroke-width='0.012'/>")
        parts.append("</svg>")
        panels.append(f"<div style='flex:1 1 320px;text-align:center'><div style='font-size:13px'>"
                      f"{len(xy)} customers — focal: {escape(market.label)}</div>{''.join(parts)}</div>")
    firms = "".join(f"<span style='margin-right:10px'><span style='color:{PALETTE[i % len(PALETTE)]}'>●</span> "
                    f"{escape(name)}</span>" for i, name in enumerate(view.markets[0].firms))
    firms += f"<span style='margin-right:10px'><span style='color:{NO_FIRM}'>●</span> no firm</span>"
    rungs = "".join(f"<span style='margin-right:10px'><span style='color:{RUNG_COLOURS[r]}'>◯</span> {name}</span>"
                    for r, name in enumerate(rules.RUNGS))
    return (f"<div class='relsim-network'><b>Social network sample</b><div style='display:flex;flex-wrap:wrap'>"
            f"{''.join(panels)}</div><div style='font-size:12px'>Buys from (fill): {firms}<br>"
            f"Loyalty rung (ring and size): {rungs}</div></div>")


def edges_css(view: View) -> str:
    """The network sample's contacts as the background of its panels: a style that stays the same from
    week to week (so Solara sends it once per market), named by the market's generation."""
    sample = view.sample
    if not len(sample.edges):
        return ""
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='-1.3 -1.3 2.6 2.6'>{sample.edge_path()}</svg>"
    return (f".relsim-edges-{view.generation} {{background-image:url(\"data:image/svg+xml,{quote(svg)}\");"
            "background-size:100% 100%; background-repeat:no-repeat;}")


def help_html() -> str:
    """What each control means, in plain words."""
    rows = "".join(f"<li><b>{escape(name)}</b> — {escape(text)}</li>" for name, text in HELP.items())
    return ("<div style='font-size:13px'><h3>What the controls mean</h3><p>Press <b>Reset</b> after changing "
            f"a control: the market is built anew from them.</p><ul>{rows}</ul></div>")


PAGE_CSS = """
.relsim-grid {display:grid; grid-template-columns:repeat(auto-fill, minmax(320px, 1fr)); gap:12px 18px;}
.relsim-tables {display:flex; flex-wrap:wrap; gap:12px 32px; font-size:13px; margin:6px 0;}
.relsim-table {border-collapse:collapse; margin-top:4px;}
.relsim-table th, .relsim-table td {padding:1px 8px; text-align:right; font-weight:normal;}
.relsim-table tr:first-child th {font-weight:600;}
.relsim-problem {background:#b3261e; color:#fff; padding:4px 8px; font-size:13px; margin-top:4px;}
.relsim-note {background:#eef5fb; border-left:4px solid #0072B2; padding:4px 8px; font-size:13px; margin-top:4px;}
.relsim-changed {background:#fff4ce; border-left:4px solid #e69f00; padding:4px 8px; font-size:13px;}
.relsim-control-label {display:flex; justify-content:space-between; font-size:13px; margin-top:6px;}
.relsim-control-label b.relsim-edited {color:#b35900;}
"""


# ----------------------------------------------------------------------
# The page: one market per browser session
# ----------------------------------------------------------------------
CONTROL_LABELS = {**OTHER_LABELS, **{k: v[0] for k, v in LEVER_SLIDERS.items()},
                  **{k: v[0] for k, v in RELATIONSHIP_SLIDERS.items()}}


def changed_controls(params: dict[str, Any], applied: dict[str, Any]) -> list[str]:
    """Labels of the controls whose value differs from the running market's."""
    return [CONTROL_LABELS.get(name, name) for name, value in params.items() if applied.get(name) != value]


def updated_params(params: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``params`` with one control changed; a new scenario or preset brings its own starting values."""
    new = {**params, name: value}
    if name == "scenario_name":
        new.update(scenario_controls(value))
        new.update(preset_levers(value, new["strategy"]))
    elif name == "strategy":
        new.update(preset_levers(new["scenario_name"], value))
    return new


def params_problem(params: dict[str, Any]) -> str:
    """What is wrong with the controls' values, in words (empty if nothing): the scenario's own checks
    on every field a control sets, for both markets, then the memory estimate. Builds no market."""
    try:
        levers = {name: params[name] for name in LEVER_SLIDERS}
        shared = {name: params[name] for name in RELATIONSHIP_SLIDERS}
        shared["responsiveness_weight"] = params["responsiveness_weight"]
        seed = params["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ScenarioError(f"Seed = {seed!r}: must be a whole number of at least 0")
        scenarios = [build_scenario(params["scenario_name"], params["customers"], params["strategy"],
                                    params["custom_levers"], levers, engine=params["engine"], **shared)]
        if params["compare_with"] != "none":
            scenarios.append(build_scenario(params["scenario_name"], params["customers"], params["compare_with"],
                                            False, levers, engine=params["engine"], **shared))
        check_size(scenarios)
    except RelsimError as exc:
        return control_error(exc)
    return ""


def run_to_problem(value: Any, view: View) -> str:
    """Why "Run to week" cannot go to ``value`` from ``view`` (empty if it can)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"Run to week = {value!r}: must be a whole number of weeks"
    if not view.week < value <= view.weeks:
        return (f"Run to week = {value}: must be after the current week ({view.week}) and at most "
                f"{view.weeks}, the scenario's last week")
    return ""


def _slider(name: str, label: str, low: float, high: float, step: float, params: solara.Reactive,
            applied: dict[str, Any], set_param, *, integer: bool = False, disabled: bool = False) -> None:
    value = params.value[name]
    edited = applied.get(name) != value
    shown = f"{value:,}" if integer else f"{value:g}"
    mark = " (changed)" if edited else ""
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"<div class='relsim-control-label relsim-label-{name}'><span>{escape(label)}</span>"
        f"<b class='relsim-value{' relsim-edited' if edited else ''}'>{shown}{mark}</b></div>"))
    with solara.Column(classes=[f"relsim-control-{name}"], style="padding:0 4px"):
        if integer:
            solara.SliderInt("", value=value, min=int(min(low, value)), max=int(max(high, value)), step=int(step),
                             on_value=partial(set_param, name), disabled=disabled)
        else:
            solara.SliderFloat("", value=value, min=min(low, value), max=max(high, value), step=step,
                               on_value=partial(set_param, name), disabled=disabled)


@solara.component
def Dashboard(view: solara.Reactive) -> None:
    """Everything drawn from the latest view: headline, tables, charts, network."""
    current: View = view.value
    solara.HTML(tag="div", unsafe_innerHTML=headline_html(current))
    solara.HTML(tag="div", unsafe_innerHTML=(f"<div class='relsim-tables'>{shares_html(current)}"
                                             f"{bridge_html(current)}</div>"))
    solara.HTML(tag="div", unsafe_innerHTML=legend_html(current))
    solara.HTML(tag="div", unsafe_innerHTML=f"<div class='relsim-grid'>{''.join(live_charts(current))}</div>")
    solara.Style(edges_css(current))
    solara.HTML(tag="div", unsafe_innerHTML=network_svg(current))


@solara.component
def Clock(session: Session, view: solara.Reactive, running: solara.Reactive, playing: solara.Reactive,
          target: solara.Reactive, error: solara.Reactive) -> None:
    """Step, play/pause, run to week N."""
    # the clock reads the view only in its handlers, never while drawing: it is not redrawn every week of
    # a play (its buttons stay put under the pointer); only ``running`` (the end reached) redraws it
    run_to = solara.use_reactive(52)

    def show(new: View) -> None:
        view.set(new)
        if running.value != new.running:
            running.set(new.running)

    def step() -> None:
        try:
            t0 = time.monotonic()
            new = session.advance(1)
            t1 = time.monotonic()
            show(new)
            if TIMING:
                print(f"relsim app timing: step {t1 - t0:.3f} s, draw {time.monotonic() - t1:.3f} s, "
                      f"week {new.week}", flush=True)
        except Exception as exc:  # shown on the page, not lost in a log
            traceback.print_exc()
            error.set(f"error in step: {exc}")

    def play() -> None:
        error.set("")
        session.play_token += 1
        target.set(0)
        playing.set(not playing.value)

    def run_to_week() -> None:
        problem = run_to_problem(run_to.value, view.value)
        if problem:
            error.set(problem)
            return
        error.set("")
        session.play_token += 1
        target.set(int(run_to.value))
        playing.set(True)

    with solara.Row(justify="space-between"):
        solara.Button(label="❚❚" if playing.value else "▶", color="primary", on_click=play,
                      disabled=not running.value)
        solara.Button(label="Step", color="primary", on_click=step, disabled=playing.value or not running.value)
    with solara.Row(style="align-items:center"):
        solara.InputInt("Run to week", value=run_to, classes=["relsim-run-to"], dense=True)
        solara.Button(label="Go", color="primary", on_click=run_to_week,
                      disabled=playing.value or not running.value, classes=["relsim-run-to-go"])
    if playing.value and target.value:
        solara.Text(f"playing to week {target.value}…")


def since_start() -> float:
    """Seconds since this process started (Linux; for the ``TIMING`` lines, 0 where unknown)."""
    try:
        with open("/proc/self/stat") as stat:
            started = int(stat.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return 0.0


def _timing(what: str) -> None:
    if TIMING:
        print(f"relsim app timing: {what} at {since_start():.2f} s after the process started "
              f"({time.process_time():.2f} s CPU)", flush=True)


class WarmUp:
    """The first page's market, built in a background thread as soon as the server has loaded the app.

    ``relsim app`` (``relsim.util.serve``) sets ``WARM_UP_ENV``; the app module then starts the thread
    (``start_warm_up``) while the server goes on starting and the browser loads Solara's front end.
    The thread builds ``Session(default_params())`` (building a market does not load numba: the
    engines load their compiled kernels at their first use) and hands it over (``built``); the first
    tab takes it (``take``; later tabs build their own): it is the market the tab would have built,
    from the same controls and seed, so nothing the page shows differs; only the waiting moves from
    the first page to the server's start. Once the first picture is drawn (``drawn``, or after
    ``DRAW_WAIT_S``), the thread steps a small throwaway market once, which loads numba and the
    compiled kernels of a *Step* while the student looks at the page; every step waits for that
    (``wait_for_kernels``), so no two threads load the same compiled code at once.
    """

    #: Longest wait for the first picture before the kernels are loaded anyway (no page opened).
    DRAW_WAIT_S = 10.0
    #: Pause after the first picture is drawn on the server, while its updates reach the browser
    #: (cut short by a step).
    AFTER_DRAW_S = 1.5

    def __init__(self) -> None:
        self.built = threading.Event()
        self.drawn = threading.Event()
        self.step_wanted = threading.Event()
        self.done = threading.Event()
        #: set when the thread starts loading (or compiling) the compiled kernels
        self.kernels_loading = threading.Event()
        self.lock = threading.Lock()
        self.params: dict[str, Any] | None = None
        self.session: Session | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        from relsim.util import serve

        with self.lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self._run, name="relsim-warm-up", daemon=True)
            # no page is rendered while the thread imports pandas (``serve.PAGE_GATE``): Solara's renderer
            # reads ``sys.modules["pandas"]`` and fails on a half-imported module
            serve.PAGE_GATE.clear()
        self.thread.start()

    def _run(self) -> None:
        from relsim.util import serve

        picture = None
        try:
            import pandas  # noqa: F401  (first, while no page renders; the model imports it anyway)
        except Exception:
            pass
        finally:
            serve.PAGE_GATE.set()
        try:
            params = default_params()
            # the picture kept by the previous start: the page draws it at once, the market is built below
            picture = read_picture(params)
            session = Session(params, picture)
            _timing("first picture read" if picture is not None else "first market built")
            with self.lock:
                self.params, self.session = params, session
            if picture is None:
                keep_picture(params, session.view, session.note)   # for the next start (a few ms)
        except Exception:  # the page builds its market itself and shows what went wrong
            params = None
        finally:
            self.built.set()
        try:
            # the first picture first: importing the model and loading numba compete with drawing and
            # sending it for the interpreter lock; the page's first render is done on the server when
            # ``drawn`` is set, but its updates still go out to the browser, so wait a little longer
            # unless a step is asked for
            self.drawn.wait(self.DRAW_WAIT_S)
            self.step_wanted.wait(self.AFTER_DRAW_S)
            if params is not None and picture is not None:
                try:
                    model = app_model_class()(**params, check_memory=True)
                except Exception as exc:  # e.g. memory fell short since: the first step says so
                    session.fail(f"cannot build the market: {exc}")
                    raise
                if not session.attach(model):
                    _timing("kept picture differed from the market: replaced")
                    with session.lock:
                        view, note, fresh = session.view, session.note, session.generation == 0
                    if fresh and view.week == 0:
                        keep_picture(params, view, note)   # the market's own, for the next start
                _timing("first market built")
            if params is not None:
                self.kernels_loading.set()
                # the compiled kernels of a Step (loaded from numba's cache at their first call), on a
                # market of its own: the first page's market is not touched
                app_model_class()(**{**params, "customers": 100, "compare_with": "none"}).step()
                _timing("compiled kernels loaded")
        except Exception:  # the first Step loads them instead
            pass
        finally:
            self.done.set()

    def take(self, params: dict[str, Any]) -> Session | None:
        """The market built for ``params``, once (waiting for the thread if it is building it)."""
        if self.thread is None:
            return None
        self.built.wait()
        with self.lock:
            session, self.session = self.session, None
        return session if session is not None and self.params == params else None

    def loading(self) -> bool:
        """True while the thread has yet to load the compiled kernels (False if it never ran)."""
        return self.thread is not None and not self.done.is_set()

    def wait_for_kernels(self) -> None:
        """Before a step: wait until the thread has loaded the compiled kernels (at once if it never
        ran or has finished): two threads loading the same compiled code for the first time could
        wait on each other's locks."""
        if self.thread is not None:
            self.drawn.set()          # a step before the first picture was drawn: load them now
            self.step_wanted.set()
            self.done.wait()


#: Environment variable set by ``relsim app``: build the first page's market as soon as the app is loaded.
WARM_UP_ENV = "RELSIM_APP_WARM_UP"
WARM_UP = WarmUp()


def start_warm_up() -> None:
    """Build the first page's market (and load the compiled kernels) in a background thread."""
    WARM_UP.start()


#: A still-loading compiled code is announced this long after the warm-up thread starts on it: from
#: numba's cache it loads in about a second; compiling it (the first start after installing
#: without ``scripts/setup.sh``, or after the code changed) takes tens of seconds.
KERNEL_NOTICE_AFTER_S = 5.0
#: The announcement, while the compiled code is compiled (Step and Play wait for it).
KERNEL_NOTICE = ("Compiling the simulation's code (numba), once after relsim is installed or updated: up to a "
                 "minute on two cores. Step and Play wait for it; <code>bash scripts/setup.sh</code> does it "
                 "ahead of time.")


@solara.component
def KernelNotice() -> None:
    """Says so when the first Step will have to wait for the compiled kernels to be compiled."""
    slow = solara.use_reactive(False)

    def watch(cancel: threading.Event) -> None:
        if not WARM_UP.loading():
            return
        # counted from when the thread starts on the kernels (after the first picture and the market)
        while not (WARM_UP.kernels_loading.wait(0.5) or WARM_UP.done.is_set()):
            if cancel.is_set():
                return
        if WARM_UP.done.wait(KERNEL_NOTICE_AFTER_S):
            return
        slow.set(True)
        while not WARM_UP.done.wait(0.5):
            if cancel.is_set():
                return
        slow.set(False)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    if slow.value:
        solara.HTML(tag="div", unsafe_innerHTML=f"<div class='relsim-note relsim-compiling'>{KERNEL_NOTICE}</div>")


def new_session() -> Session | str:
    """This tab's market from the starting controls, or what prevents it (a message, not a traceback)."""
    try:
        params = default_params()
        session = WARM_UP.take(params) or Session(params)
        _timing("first page's market ready")
        return session
    except RelsimError as exc:
        return control_error(exc)


@solara.component
def Page() -> None:
    """The app: the market of this tab, or the reason it cannot be built."""
    session = solara.use_memo(new_session, [])
    # after the first picture of the first page, the warm-up thread loads the compiled kernels
    solara.use_effect(WARM_UP.drawn.set, [])
    if isinstance(session, str):
        solara.Title("relsim")
        solara.Error(f"relsim cannot build the market: {session}")
        return
    Market(session)


@solara.component
def Market(session: Session) -> None:
    """Controls in the sidebar, the market's pictures in the main area (one market per tab)."""
    view = solara.use_reactive(session.view)
    running = solara.use_reactive(session.view.running)     # False once the last week is reached
    params = solara.use_reactive(dict(session.params))
    applied = solara.use_reactive(dict(session.params))
    playing = solara.use_reactive(False)
    target = solara.use_reactive(0)           # 0: play to the end
    every = solara.use_reactive(1)
    error = solara.use_reactive("")

    def play_loop(cancel: threading.Event) -> None:
        if not playing.value:
            return
        generation, token = session.generation, session.play_token
        while not cancel.is_set() and session.play_token == token and playing.value:
            started = time.monotonic()
            try:
                new = session.advance(every.value, until=target.value or None)
                stepped = time.monotonic()
            except Exception as exc:  # shown on the page, not lost in a log
                traceback.print_exc()
                error.set(f"error in step: {exc}")
                playing.set(False)
                return
            if cancel.is_set() or new.generation != generation or session.play_token != token:
                return                        # paused or reset meanwhile: that view is stale
            try:
                view.set(new)                 # renders the dashboard in this thread
            except Exception as exc:  # a panel that cannot draw stops the play with a message, never a hang
                traceback.print_exc()
                error.set(f"error in drawing week {new.week}: {exc}")
                playing.set(False)
                return
            if not new.running or (target.value and new.week >= target.value):
                running.set(new.running)
                playing.set(False)
                return
            drawn = time.monotonic()
            cancel.wait(max(PLAY_FRAME_S - (drawn - started), drawn - stepped, PLAY_GAP_S))

    solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)

    def set_param(name: str, value: Any) -> None:
        try:
            params.set(updated_params(params.value, name, value))
        except Exception as exc:  # e.g. a scenario file that does not load
            error.set(f"{CONTROL_LABELS.get(name, name)}: {exc}")

    def reset() -> None:
        session.play_token += 1
        playing.set(False)
        try:
            new = session.rebuild(params.value)
        except RelsimError as exc:  # a bad control value, or too large a market: say so, keep the old market
            error.set(f"cannot build the market: {control_error(exc)}")
            return
        except Exception as exc:  # not a user's mistake: shown all the same, and logged
            traceback.print_exc()
            error.set(f"cannot build the market: {exc}")
            return
        # the sidebar first (the "changed" cue goes), then the new market's pictures: once the page shows
        # the new market, the sidebar's buttons no longer move
        applied.set(dict(params.value))
        error.set("")
        running.set(new.running)
        view.set(new)

    solara.Style(PAGE_CSS)
    solara.Title("relsim")
    with solara.AppBar():
        solara.AppBarTitle("relsim — transactional vs relationship marketing")
    changed = changed_controls(params.value, applied.value)
    p = params.value
    # the controls are checked as they change, like a scenario file's fields: a bad value is named at once
    problem = solara.use_memo(lambda: params_problem(p) if changed else "", [p, bool(changed)])
    with solara.Sidebar(), solara.Column(style="gap:4px"):
        with solara.Card("Run", margin=0):
            solara.Button(label="Reset", color="warning" if changed else "primary", on_click=reset, block=True,
                          disabled=bool(problem))
            # the clock right under Reset: the notes below come and go (the "changed" cue goes when Reset is
            # pressed), and a button below them would jump under the pointer (a ▶ pressed just after Reset
            # then landed on the row below it)
            Clock(session, view, running, playing, target, error)
            if changed:
                solara.HTML(tag="div", unsafe_innerHTML=(
                    "<div class='relsim-changed'><b>Changed — press Reset</b> to build the market from: "
                    f"{escape(', '.join(changed))}</div>"))
            if problem:
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<div class='relsim-problem'>Cannot build this market: "
                    f"{escape(problem)}</div>"))
            if session.note:
                solara.HTML(tag="div", unsafe_innerHTML=f"<div class='relsim-note'>{escape(session.note)}</div>")
            KernelNotice()
            solara.Select("Draw every (weeks)", value=every, values=[1, 2, 4, 13])
            if error.value:
                solara.Error(error.value)
        with solara.Card("Market", margin=0):
            names, _ = _scenario_choices()
            if p["scenario_name"] not in names:
                names.append(p["scenario_name"])
            presets = ["current", *PRESETS]
            solara.Select("Scenario", value=p["scenario_name"], values=names,
                          on_value=lambda v: set_param("scenario_name", v))
            _slider("seed", "Seed", 0, 50, 1, params, applied.value, set_param, integer=True)
            _slider("customers", "Customers (at most the scenario's)", 100, 5000, 100, params, applied.value,
                    set_param, integer=True)
            solara.Select("Strategy of the focal firm", value=p["strategy"], values=presets,
                          on_value=lambda v: set_param("strategy", v))
            solara.Select("Side by side: second market, focal firm on", value=p["compare_with"],
                          values=["none", *presets], on_value=lambda v: set_param("compare_with", v))
            solara.Select("Engine", value=p["engine"], values=list(APP_ENGINES),
                          on_value=lambda v: set_param("engine", v))
            overrides = overrides_for(p["scenario_name"])
            if overrides:
                solara.HTML(tag="div", unsafe_innerHTML=(
                    "<div class='relsim-overrides' style='font-size:12px'>Set on the command line: "
                    f"{escape(', '.join(f'{k}={v!r}' for k, v in overrides.items()))}</div>"))
        with solara.Card("Levers of the focal firm", margin=0):
            solara.Checkbox(label="Use my lever settings", value=p["custom_levers"],
                            on_value=lambda v: set_param("custom_levers", v))
            for name, (label, low, high, step) in LEVER_SLIDERS.items():
                _slider(name, label, low, high, step, params, applied.value, set_param,
                        disabled=not p["custom_levers"])
        with solara.Card("Relationship parameters (both markets)", margin=0):
            for name, (label, low, high, step) in RELATIONSHIP_SLIDERS.items():
                _slider(name, label, low, high, step, params, applied.value, set_param)
    with solara.Column(style="width:100%;max-width:none"):
        Dashboard(view)
        solara.HTML(tag="div", unsafe_innerHTML=help_html())


_timing("app loaded")
if os.environ.get(WARM_UP_ENV, "") == "1":
    start_warm_up()
