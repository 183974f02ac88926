# ruff: noqa: E501  (the source table reads best one row per line)
"""Write docs/evidence.md's parameter table from SOURCES (below) and the one-at-a-time
sensitivity results in oat.csv (written by oat.py).

    python scripts/evidence_oat/table.py > /tmp/table.md

Each field gets: meaning, schema default (and the ecommerce value where it
differs), source, the plausible range used in the OAT run, and the output it
moves most: the one of (retention gap, profit gap, relationship share) whose
change from the low to the high end of the range is largest relative to that
output's spread over the whole OAT run, with the change itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from oat import fields  # noqa: E402

# field: (meaning, source). "Assumption" where no published figure fits; the range then is wide.
SOURCES: dict[str, tuple[str, str]] = {
    "behaviour.initial_trust": ("trust in a firm one has just heard of", "Assumption: a neutral prior (0.5 on [0, 1])."),
    "behaviour.initial_responsiveness": ("perceived responsiveness before any ticket", "Assumption: neutral prior."),
    "behaviour.trust_gain": ("trust gained per kept promise", "Negativity bias: losses weigh more than gains (Baumeister et al. 2001, Rev. Gen. Psychol. 5(4)); negative attribute performance moves satisfaction more than positive (Mittal, Ross & Baldasare 1998, JM 62(1)). Size: assumption."),
    "behaviour.trust_loss": ("trust lost per failure", "As trust_gain; the 5:1 loss/gain ratio is an assumption (range 2.5–7.5:1)."),
    "behaviour.forgiveness": ("how much commitment softens a minor failure", "Relationship strength lowers the impact of a failure (Hess, Ganesan & Klein 2003, JAMS 31(2)). Size: assumption."),
    "behaviour.satisfaction_rate": ("weight of the newest experience in satisfaction", "Cumulative satisfaction updated with new experience, prior weighted heavily (Bolton 1998, Marketing Science 17(1)). Size: assumption."),
    "behaviour.commitment_rate": ("speed at which commitment approaches its target per contact", "Assumption."),
    "behaviour.commitment_decay": ("weekly decay of commitment without contact", "Assumption (half-life ≈ 69 weeks)."),
    "behaviour.commitment_trust_weight": ("trust's part in the commitment target", "Trust is the main antecedent of commitment (Morgan & Hunt 1994, JM 58(3), commitment–trust theory). Size: assumption."),
    "behaviour.commitment_reciprocity_weight": ("goodwill's part in the commitment target", "Relationship benefits → commitment (Morgan & Hunt 1994). Size: assumption."),
    "behaviour.commitment_tenure_weight": ("tenure's part in the commitment target", "Assumption."),
    "behaviour.tenure_scale_weeks": ("tenure at which the tenure bond reaches 63 %", "Assumption."),
    "behaviour.reciprocity_decay": ("weekly decay of goodwill received", "Assumption (half-life ≈ 23 weeks)."),
    "behaviour.responsiveness_rate": ("weight of the newest support experience", "Assumption."),
    "behaviour.unresolved_response_weight": ("share of the responsiveness signal an unresolved answer earns", "Orsingher, Valentini & de Angelis 2010 (outcome weighs most). Size: assumption."),
    "behaviour.knowledge_rate": ("CRM knowledge gained per interaction", "Assumption."),
    "behaviour.w_trust": ("utility of trust", "Trust, commitment and relationship quality drive loyalty; commitment affects objective performance least (Palmatier, Dant, Grewal & Evans 2006, JM 70(4), meta-analysis of 94 studies). Size: assumption."),
    "behaviour.w_commitment": ("utility of commitment", "As w_trust; affective commitment's effect on retention is positive but 'rather small' (Verhoef 2003, JM 67(4)). Size: assumption."),
    "behaviour.w_reciprocity": ("utility of goodwill received", "Reciprocity norms in RM (Palmatier et al. 2006). Size: assumption."),
    "behaviour.w_responsiveness": ("utility of perceived responsiveness", "Assumption."),
    "behaviour.w_reward": ("utility of a loyalty programme per unit of reward rate", "Loyalty programmes with economic incentives raise retention modestly (Verhoef 2003); a 3 % programme is worth 0.3 utility, like a 10 % price cut at β = 3: assumption."),
    "behaviour.w_wom": ("utility of word of mouth heard", "Assumption (see word_of_mouth.strength)."),
    "behaviour.inertia": ("utility bonus of the current firm (switching cost)", "Structural state dependence / switching costs in brand choice (Guadagni & Little 1983, Marketing Science 2(3); Dubé, Hitsch & Rossi 2010, RAND J. Econ. 41(3)). Size: assumption."),
    "behaviour.inertia_commitment": ("extra inertia per unit of commitment", "As inertia; relational customers only (Section 3.2.5). Size: assumption."),
    "behaviour.offer_value": ("utility of a personalised offer at full CRM knowledge", "Assumption."),
    "behaviour.purchase_intensity": ("contact intensity of a purchase (commitment growth)", "Assumption (the unit)."),
    "behaviour.follow_up_intensity": ("contact intensity of a follow-up call", "Assumption."),
    "behaviour.offer_intensity": ("contact intensity of an offer", "Assumption."),
    "behaviour.key_account_intensity": ("contact intensity of a key-account week", "Assumption."),
    "behaviour.reward_goodwill": ("ceiling of goodwill per purchase under a programme", "Programme effects are modest and depend on the value offered (Dowling & Uncles 1997, Sloan Mgmt Rev. 38(4); Verhoef 2003). Size: assumption; shape concave by design (issue 11)."),
    "behaviour.reward_goodwill_scale": ("reward rate giving 63 % of that ceiling", "Typical retail programmes return 1–3 % of spend (industry practice); assumption."),
    "behaviour.recovery_goodwill_per_satisfaction": ("goodwill from a resolved complaint per unit of satisfaction restored", "Goodwill scales with the value received (MODEL.md); recovery raises satisfaction (de Matos, Henrique & Rossi 2007); outcome weighs most (Orsingher, Valentini & de Angelis 2010). Size: assumption."),
    "behaviour.supplier_priority_goodwill": ("goodwill of a supplier dyad served first in a shortage", "Assumption."),
    "behaviour.offer_goodwill": ("goodwill from a personalised offer", "Assumption."),
    "behaviour.key_account_goodwill_per_value": ("goodwill per key-account week per unit of manager cost relative to spend", "Assumption."),
    "behaviour.voice_base": ("chance of complaining after a failure, uncommitted", "Most dissatisfied customers do not complain (TARP studies for the US Office of Consumer Affairs, 1979/1986; Goodman 1999): 4–50 % complain, more for costly problems. Range 0.1–0.3."),
    "behaviour.voice_commitment": ("extra chance of complaining per unit of commitment", "Loyalty turns exit into voice (Hirschman 1970, Exit, Voice, and Loyalty). Size: assumption."),
    "behaviour.exit_after_failure": ("chance a silent customer leaves after one failure", "32 % of consumers would leave a brand they love after one bad experience, 17 % in the US (PwC 2018, Experience is everything, n = 15,000). The model's total for a new customer is 28 % (tests/test_stylized.py)."),
    "behaviour.recovery_bonus": ("satisfaction added by a fast, resolved complaint", "de Matos et al. 2007 (recovery paradox on satisfaction). Size: assumption."),
    "behaviour.expectation_price_weight": ("how much a higher price raises expectations", "Price is a cue to expected service (Zeithaml, Berry & Parasuraman 1993, JAMS 21(1)). Size: assumption."),
    "behaviour.late_experience": ("experience of a late delivery", "Assumption."),
    "behaviour.defect_experience": ("experience of a defective product", "Assumption (the worst)."),
    "behaviour.supporter_commitment": ("commitment of a supporter (ladder)", "Loyalty ladder (Christopher, Payne & Ballantyne 1991, Relationship Marketing). Thresholds: assumption."),
    "behaviour.advocate_commitment": ("commitment of an advocate", "As supporter_commitment."),
    "behaviour.partner_commitment": ("commitment of a partner (co-creates)", "As supporter_commitment."),
    "behaviour.co_creation_rate": ("share of the quality gap co-creation closes per week", "Customer participation in new-product development pays at some stages and hurts at others (Chang & Taylor 2016, JM 80(1), meta-analysis). Size: assumption; bounded by design."),
    "behaviour.co_creation_half_share": ("partner value share at half strength", "Assumption (diminishing returns by design)."),
    "behaviour.co_creation_decay": ("weekly decay of co-created quality", "Assumption (half-life ≈ 34 weeks)."),
    "behaviour.max_quality": ("cap of product quality", "Assumption."),
    "behaviour.habit_base": ("chance of a repeat without choice at S = C = 0", "Online shoppers visit 1.2 book, 1.3 CD, 1.8 travel sites in an active month (Johnson, Moe, Fader, Bellman & Lohse 2004, Management Science 50(3)); a typical customer here repeats by habit on ≈ 70 % of occasions."),
    "behaviour.habit_satisfaction": ("habit per unit of satisfaction", "State dependence rises with satisfaction (Guadagni & Little 1983 loyalty term). Size: assumption."),
    "behaviour.habit_commitment": ("habit per unit of commitment", "As habit_satisfaction."),
    "behaviour.habit_max": ("ceiling of the habit probability", "Even loyal buyers buy other brands (Ehrenberg's duplication of purchase; bound by design). Range 0.8–0.97."),
    "churn.base_hazard": ("weekly lapse hazard at S = C = 0, on time", "Annual retention of 70–95 % across the firms in Gupta, Lehmann & Stuart 2004 (JMR 41(1)); h₀ = 0.01 gives 59 % a year for a neutral customer, which satisfaction and commitment raise. Range 0.005–0.015."),
    "churn.w_satisfaction": ("satisfaction's pull on the hazard", "Satisfaction lengthens relationships (Bolton 1998); for transactional customers it is the driver (Garbarino & Johnson 1999, JM 63(2)). Size: assumption."),
    "churn.w_commitment": ("commitment's pull on the hazard", "Affective commitment lowers churn, modestly (Verhoef 2003; Gustafsson, Johnson & Roos 2005, JM 69(4)). Size: assumption."),
    "churn.w_recency": ("recency's push on the hazard (RFM)", "Recency is the key predictor of being alive (Fader, Hardie & Lee 2005, Marketing Science 24(2)). Size: assumption."),
    "churn.w_competitor": ("best rival's advantage's push on the hazard", "Assumption."),
    "churn.dormancy_weeks": ("weeks a lapsed customer stays out of the market", "Assumption (range 13–52)."),
    "word_of_mouth.talk_base": ("weekly chance a customer talks about its firm", "Assumption; positive word of mouth is about three times as common as negative (East, Hammond & Wright 2007, IJRM 24(2))."),
    "word_of_mouth.talk_satisfaction": ("talk per unit of satisfaction", "As talk_base."),
    "word_of_mouth.talk_commitment": ("talk per unit of commitment", "Assumption."),
    "word_of_mouth.talk_negative": ("negative talk per unit of dissatisfaction", "As talk_base."),
    "word_of_mouth.promoter_threshold": ("satisfaction of a promoter", "NPS convention (Reichheld 2003, HBR 81(12)); threshold: assumption."),
    "word_of_mouth.detractor_threshold": ("satisfaction of a detractor", "As promoter_threshold."),
    "word_of_mouth.strength": ("utility a recommendation adds", "Word-of-mouth referrals have a long-run elasticity of sign-ups about 20 times that of marketing events (Trusov, Bucklin & Pauwels 2009, JM 73(5)). Size: assumption."),
    "word_of_mouth.negativity_weight": ("how much more negative WOM weighs", "Contested: negative WOM is usually held to weigh more, but East, Hammond & Lomax 2008 (IJRM 25(3)) find its impact on purchase probability mostly smaller than positive WOM's. Range 1–3."),
    "word_of_mouth.decay": ("weekly decay of WOM heard", "Carry-over of WOM effects on acquisition lasts weeks (Trusov et al. 2009). Size: assumption."),
    "word_of_mouth.referral_trial": ("chance a referred prospect gets an extra occasion", "Referred customers are more valuable and more loyal (Schmitt, Skiera & Van den Bulte 2011, JM 75(1)). Size: assumption."),
    "costs.desk_agent_per_week": ("a full-time desk seat a week", "US median customer-service wage 15.53 $/h (BLS Occupational Outlook Handbook, May 2016) × 40 h + ~30 % employer costs (BLS Employer Costs for Employee Compensation) ≈ 800. ecommerce: a 10 h/week seat at that rate (200), its file says why."),
    "costs.follow_up": ("one follow-up contact", "A 1.5-minute call at ≈ 20 $/h ≈ 0.5; an e-mail 0.1 (ecommerce). Assumption from the same hourly rate."),
    "costs.offer": ("one personalised offer", "As follow_up."),
    "costs.programme_per_customer_week": ("CRM and programme overhead per active customer", "Assumption: CRM software and data of ≈ 1–3 per customer a year."),
    "costs.manager_per_week": ("a key-account manager a week", "Account/sales manager ≈ 60 k$ a year median (BLS OOH, sales representatives) + employer costs ≈ 78 k$ ≈ 1,500 a week. ecommerce: ~4 h/week (150)."),
    "costs.accounts_per_manager": ("key accounts one manager serves", "Assumption (key-account practice: 5–30 accounts; range 10–50)."),
    "costs.co_creation_per_partner_week": ("cost per co-creating customer a week", "Assumption: panel/community incentive ≈ 10 a year per participant."),
    "costs.reward_redemption": ("share of reward points redeemed", "Industry 'breakage' of 20–30 % of points never redeemed; assumption (range 0.5–0.9)."),
    "costs.retention_offer_discount": ("discount of a win-back offer", "Assumption."),
    "costs.retention_offer_weeks": ("weeks a win-back discount stays valid", "Coupon expiry (Inman & McAlister 1994). Size: assumption."),
    "operations.promise_weeks": ("promised delivery time", "Scenario fact (ecommerce 0.6 weeks ≈ 4 days)."),
    "operations.service_time_weeks": ("mean desk handling time of a ticket", "Assumption (ecommerce 0.1 weeks: a ticket ties a seat for hours including follow-ups)."),
    "operations.question_rate": ("chance an order raises a question", "Assumption."),
    "operations.resolution_probability": ("chance a complaint is resolved", "Assumption: contact centres resolve most contacts at first contact (industry benchmarks ≈ 70–75 %)."),
    "operations.response_target_weeks": ("response time customers find reasonable", "Assumption."),
    "operations.patience_weeks": ("time before an unanswered ticket is abandoned", "Assumption."),
}

OUTPUTS = {"retention_gap": "retention gap (pts)", "profit_gap": "profit gap", "relationship_share": "relationship share"}


def fmt(value):
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer() and abs(value) >= 10):
        return f"{value:g}"
    return f"{value:.3g}"


def main():
    oat = pd.concat([pd.read_csv(path) for path in sorted(HERE.glob("oat*.csv"))], ignore_index=True)
    oat = oat.drop_duplicates(subset=["field", "end"], keep="last")
    spread = {name: oat[name].std() for name in OUTPUTS}
    from relsim.scenario.schema import load_scenario
    ecommerce = load_scenario("ecommerce").model_dump()
    print("| Field | Meaning | Default (ecommerce) | Source | Range (OAT) | Moves most (low → high) |")
    print("|---|---|---|---|---|---|")
    for key, info in fields():
        section, name = key.split(".")
        meaning, source = SOURCES.get(key, ("", "**missing**"))
        default = info.default
        shipped = ecommerce[section][name]
        value = fmt(default) + (f" ({fmt(shipped)})" if shipped != default else "")
        rows = oat[oat["field"] == key].set_index("end")
        failed = "error" in rows and rows["error"].notna().any()
        if {"low", "high"} <= set(rows.index) and not failed:
            low, high = rows.loc["low"], rows.loc["high"]
            effects = {name: (high[name] - low[name]) / spread[name] for name in OUTPUTS}
            top = max(effects, key=lambda n: abs(effects[n]))
            change = high[top] - low[top]
            shown = f"{change:+.1f}" if top == "retention_gap" else f"{change:+,.0f}" if top == "profit_gap" \
                else f"{change:+.3f}"
            moved = f"{OUTPUTS[top]} {shown}"
            rng = f"{fmt(low['value'])}–{fmt(high['value'])}"
        else:
            moved, rng = "not measured", ""
        print(f"| `{key}` | {meaning} | {value} | {source} | {rng} | {moved} |")


if __name__ == "__main__":
    main()
