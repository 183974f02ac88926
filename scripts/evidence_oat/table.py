# ruff: noqa: E501  (the source table reads best one row per line)
"""Write docs/evidence.md's table "Every constant and cost default" from SOURCES and
NOTES (below), ``relsim.scenario.ranges.PLAUSIBLE`` and the one-at-a-time
sensitivity results in oat.csv (written by oat.py).

    python scripts/evidence_oat/table.py > /tmp/table.md

One row per ``PLAUSIBLE`` path, in SOURCES' order (``tests/test_evidence.py``
fails when SOURCES, PLAUSIBLE, oat.csv and docs/evidence.md's table do not
name the same fields). Each row gives: meaning, schema default (and the
ecommerce value where it differs; for a list field the mean over ecommerce's
items), source, the plausible range (``PLAUSIBLE``), and the output it moves
most: the one of (retention gap, profit gap, relationship share) whose change
from the low to the high end of the range is largest relative to that
output's spread over the whole OAT run, with the change itself; "no change"
where no output moved. A row measured before the newest run says when.
NOTES adds hand-written text after the measurement. Reichheld's ladder
(``oat.LADDER``) is off in ecommerce: its five rows give what ladder.py
measured on services (ladder.csv).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from oat import LADDER  # noqa: E402

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
    "behaviour.commitment_trust_weight": ("trust's part in the commitment target", "Trust is the main antecedent of commitment (Morgan & Hunt 1994, JM 58(3), commitment–trust theory); lowered for the tenure bond below (Gustafsson et al. 2005). Size: assumption. Default until 2026-11-29: 0.7."),
    "behaviour.commitment_reciprocity_weight": ("goodwill's part in the commitment target", "Relationship benefits → commitment (Morgan & Hunt 1994). Size: assumption."),
    "behaviour.commitment_tenure_weight": ("tenure's part in the commitment target", "Calculative commitment (switching costs built with time) predicts retention consistently, affective commitment does not beside satisfaction (Gustafsson, Johnson & Roos 2005, JM 69(4)). Size: assumption. Default until 2026-11-29: 0.2."),
    "behaviour.tenure_scale_weeks": ("tenure at which the tenure bond reaches 63 %", "Assumption."),
    "behaviour.reciprocity_decay": ("weekly decay of goodwill received", "Assumption (half-life ≈ 23 weeks)."),
    "behaviour.responsiveness_rate": ("weight of the newest support experience", "Assumption."),
    "behaviour.unresolved_response_weight": ("share of a resolved answer's responsiveness signal an unresolved answer of the same speed earns (`rules.answer_responsiveness`: ρ·(r + (1 − r)·u))", "MODEL.md step 5: response time and resolution shape perceived responsiveness; SERVQUAL's responsiveness is prompt service and willingness to help (Parasuraman, Zeithaml & Berry 1988, J. Retailing 64(1)). In the meta-analysis of 60 complaint-handling studies by Orsingher, Valentini & de Angelis (2010, JAMS 38(2), abstract) satisfaction with complaint handling depends most on distributive justice (the outcome), then interactional, and only weakly on procedural justice (which includes timeliness): the direction, u < 1/2. Size: assumption; wide range. Before 2026-11-30 resolution did not enter Q (u = 1)."),
    "behaviour.knowledge_rate": ("CRM knowledge gained per interaction", "Assumption."),
    "behaviour.w_trust": ("utility of trust", "Trust, commitment and relationship quality drive loyalty; commitment affects objective performance least (Palmatier, Dant, Grewal & Evans 2006, JM 70(4), meta-analysis of 94 studies). Size: assumption."),
    "behaviour.w_commitment": ("utility of commitment", "As w_trust; affective commitment's effect on retention is positive but 'rather small' (Verhoef 2003, JM 67(4)). Size: assumption."),
    "behaviour.w_reciprocity": ("utility of goodwill received", "Reciprocity norms in RM (Palmatier et al. 2006). Size: assumption."),
    "behaviour.w_responsiveness": ("utility of perceived responsiveness", "Assumption."),
    "behaviour.reward_value_multiplier": ("how customers value a unit of loyalty rewards against a unit of money (a programme is worth reward_rate · `costs.reward_redemption` · this of the price, in each segment's own price sensitivity)", "Assumption: a programme is valued as the money it gives back (the price cut of the same money); loyalty programmes with economic incentives raise retention modestly (Verhoef 2003, JM 67(4)). No premium (or discount) of points over cash is assumed: in an airline's payment data customers who earn many points mostly with the firm value points more than money, those who earn few or mostly through a co-branded card value money more, those in between treat points like money (Lim, Chun & Satopää 2024, M&SOM 26(5), abstract; no size given), so the range spans both sides of 1. Replaces `w_reward` (10 utility per unit of reward rate, the same for every segment) on 2026-11-30."),
    "behaviour.w_wom": ("utility of word of mouth heard", "Assumption (see word_of_mouth.strength)."),
    "behaviour.inertia": ("utility bonus of the current firm (switching cost)", "Structural state dependence / switching costs in brand choice (Guadagni & Little 1983, Marketing Science 2(3); Dubé, Hitsch & Rossi 2010, RAND J. Econ. 41(3)). Size: assumption."),
    "behaviour.inertia_commitment": ("extra inertia per unit of commitment", "As inertia; relational customers only (Section 3.2.5). Size: assumption."),
    "behaviour.offer_discount": ("share of the list price a personalised offer built on full CRM knowledge gives off the next order (the firm's revenue loses it when used)", "Assumption: the old `offer_value` (0.5 utility) at the reference price sensitivity β = 3 is 0.5/3 = 1/6 of the price, rounded down. Replaces `offer_value` on 2026-11-30."),
    "behaviour.offer_decay": ("weekly decay of an unused personalised offer's discount", "Assumption (half-life ≈ 3 weeks: an offer expires; MODEL.md: every appeal decays without upkeep)."),
    "behaviour.purchase_intensity": ("contact intensity of a purchase (commitment growth)", "Assumption (the unit)."),
    "behaviour.follow_up_intensity": ("contact intensity of a follow-up call", "Assumption."),
    "behaviour.offer_intensity": ("contact intensity of an offer", "Assumption."),
    "behaviour.key_account_intensity": ("contact intensity of a key-account week", "Assumption."),
    "behaviour.reward_goodwill": ("ceiling of goodwill per purchase under a programme", "Programme effects are modest and depend on the value offered (Dowling & Uncles 1997, Sloan Mgmt Rev. 38(4); Verhoef 2003). Size: assumption; shape concave by design (issue 11)."),
    "behaviour.reward_goodwill_scale": ("reward rate giving 63 % of that ceiling", "Typical retail programmes return 1–3 % of spend (industry practice); assumption."),
    "behaviour.recovery_goodwill_per_satisfaction": ("goodwill from a resolved complaint per unit of satisfaction the recovery restored (`rules.recovery_goodwill`: clip(γ·ΔS, 0, 1))", "Goodwill scales with the value received (MODEL.md, no free lunch); a good recovery raises satisfaction, not repurchase intention (de Matos, Henrique & Rossi 2007, J. Service Research 10(1), meta-analysis); the outcome of a complaint weighs most in satisfaction with its handling (Orsingher, Valentini & de Angelis 2010, JAMS 38(2)). Size: assumption: 0.4 = the old `recovery_goodwill` (0.2 per unit of response quality) / `recovery_bonus` (0.5), so the two agree wherever the recovery is not capped by what the failure cost. Replaces `recovery_goodwill` on 2026-11-30."),
    "behaviour.supplier_priority_goodwill": ("goodwill a firm's supplier dyad gains in a shortage week in which the firm is served first", "Assumption (the value `recovery_goodwill` gave it until 2026-11-30)."),
    "behaviour.key_account_goodwill_per_value": ("goodwill per key-account week per unit of the manager's weekly cost per account relative to the customer's expected weekly spend (`rules.key_account_goodwill`: clip(γ·c_a/s, 0, 1))", "Goodwill scales with the value received (MODEL.md, no free lunch), valued like a personalised offer's (the value given as a share of the spend; `offer_goodwill_per_discount`), the manager's time at what it costs the firm. Size: assumption: 0.2 gives the flat 0.05 a week of before 2026-11-30 at the median ecommerce key account (c_a = 150/25 = 6 a week, expected spend ≈ 24 a week, ratio ≈ 0.25; relationship preset, week 60, 5,000 customers). Replaces `key_account_goodwill` on 2026-11-30."),
    "behaviour.offer_goodwill_per_discount": ("goodwill from a personalised offer per unit of the price share it gives off", "Assumption: goodwill scales with the value received (MODEL.md); 0.3 · 0.15 = 0.045 at full knowledge, close to the flat 0.05 (`offer_goodwill`) every offer bought before 2026-11-30."),
    "behaviour.voice_base": ("chance of complaining after a failure, uncommitted", "Most dissatisfied customers do not complain (TARP studies for the US Office of Consumer Affairs, 1979/1986; Goodman 1999): 4–50 % complain, more for costly problems. Range 0.1–0.3."),
    "behaviour.voice_commitment": ("extra chance of complaining per unit of commitment", "Loyalty turns exit into voice (Hirschman 1970, Exit, Voice, and Loyalty). Size: assumption."),
    "behaviour.exit_after_failure": ("chance a silent customer leaves after one failure of full magnitude (a defect); a late delivery counts 1 − `late_experience` = 0.7 of it (Smith, Bolton & Wagner 1999, JMR 36(3): larger failures hurt more)", "32 % of consumers would leave a brand they love after one bad experience, 17 % in the US (PwC 2018, Experience is everything, n = 15,000). The model's total for a new customer is 28 % (tests/test_stylized.py)."),
    "behaviour.recovery_bonus": ("satisfaction given back by a fast, resolved complaint, at most what the failure cost", "de Matos et al. 2007: the recovery paradox is significant on satisfaction, not on repurchase intentions or word of mouth; satisfaction drives churn and talk in the model, so recovery is capped at the failure-free satisfaction (`rules.service_recovery`; tests/test_service_recovery.py). Size: assumption."),
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
    "behaviour.habit_base": ("chance of a repeat without choice at S = C = 0", "Online shoppers visit 1.2 book, 1.3 CD, 1.8 travel sites in an active month (Johnson, Moe, Fader, Bellman & Lohse 2004, Management Science 50(3)): most active months see one store, so even a neutral, uncommitted customer repeats on about half its occasions; a typical customer reaches the cap (0.9). Default until 2026-11-29: 0.3."),
    "behaviour.habit_satisfaction": ("habit per unit of satisfaction", "State dependence rises with satisfaction (Guadagni & Little 1983 loyalty term). Size: assumption."),
    "behaviour.habit_commitment": ("habit per unit of commitment", "As habit_satisfaction."),
    "behaviour.habit_max": ("ceiling of the habit probability", "Even loyal buyers buy other brands (Ehrenberg's duplication of purchase; bound by design). Range 0.8–0.97."),
    "churn.base_hazard": ("weekly lapse hazard at S = C = 0, on time", "Annual retention of 70–95 % across the firms in Gupta, Lehmann & Stuart 2004 (JMR 41(1)); h₀ = 0.01 gives 59 % a year for a neutral customer, which satisfaction and commitment raise. Range 0.005–0.015."),
    "churn.w_satisfaction": ("satisfaction's pull on the hazard", "Satisfaction lengthens relationships (Bolton 1998); for transactional customers it is the driver (Garbarino & Johnson 1999, JM 63(2)). Size: assumption."),
    "churn.w_commitment": ("commitment's pull on the hazard", "Affective commitment does not predict churn once satisfaction is in the model (Gustafsson, Johnson & Roos 2005, JM 69(4), telecom panel); its effect on retention is positive but small (Verhoef 2003): below satisfaction's weight. Size: assumption. Default until 2026-11-29: 3."),
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
    "word_of_mouth.max_influence": ("largest word-of-mouth influence a customer holds about a firm, either way: the absolute value of W stays at or below this (`rules.update_wom_influence`), so word of mouth adds at most `w_wom` × this to a firm's utility", "Assumption (session 12; before, the influence had no bound and reached 1.5 in a 52-week run): two recommendations' worth at the default `strength`, one warning's at the default `negativity_weight`; no published figure for the ceiling of one person's word-of-mouth influence was found. Range half to one and a half times that."),
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
    "costs.retention_offer_weeks": ("weeks a win-back discount stays valid after it is sent (`rules.win_back_expired`; unused, it expires, also after the spell has ended, and the firm may send and pay for a new one)", "Coupons carry expiry dates that bound the firm's liability, and redemptions bunch just before expiry (Inman & McAlister 1994, J. Marketing Research 31(3), abstract); durations differ across brands (Krishna & Zhang 1999, Management Science 45(8), abstract). No figure maps to an e-mailed win-back offer: assumption. Before 2026-11-30 a win-back discount never expired."),
    "operations.promise_weeks": ("promised delivery time", "Scenario fact (ecommerce 0.6 weeks ≈ 4 days)."),
    "operations.service_time_weeks": ("mean desk handling time of a ticket", "Contact-centre average handle time is 4–10 minutes (retail 4–7, phone median ≈ 7.5: ICMI benchmarking, industry reports): 0.02 weeks of a 10 h/week seat is 12 minutes with follow-up work. b2b: 0.2, specialist tickets of about a day. Default for ecommerce, alliance and classroom until 2026-11-29: 0.1."),
    "operations.question_rate": ("chance an order raises a question", "Assumption."),
    "operations.resolution_probability": ("chance a complaint is resolved", "Assumption: contact centres resolve most contacts at first contact (industry benchmarks ≈ 70–75 %)."),
    "operations.response_target_weeks": ("response time customers find reasonable", "Assumption."),
    "operations.patience_weeks": ("time before an unanswered ticket is abandoned", "Assumption."),
    "behaviour.initial_customer_trust_bonus": ("extra trust of a customer who already buys from a firm at week 0, over `initial_trust`", "Assumption (the value both engines hard-coded before it became a field): a customer with a purchase history trusts more than a stranger (Morgan & Hunt 1994, JM 58(3), trust from past experience). Size: assumption."),
    "behaviour.win_back_overdue_cycles": ("purchase cycles (1/λ) without a purchase before a win-back offer", "Assumption (the value hard-coded before); win-back timing by expected purchase cycle follows RFM practice (Blattberg, Kim & Neslin 2008, Database Marketing, ch. 23)."),
    "behaviour.pruning_min_tenure_weeks": ("youngest relationship pruning may end", "Assumption (the value hard-coded before): a year of margin before judging an account, as in customer-profitability reviews (Reinartz & Kumar 2000, JM 64(4))."),
    "churn.period_weeks": ("renewal period of the `beta_geometric` churn model", "Annual contracts, as in Fader & Hardie 2007 (J. Interactive Marketing 21(1)). Used only with `churn.model = \"beta_geometric\"`."),
    "costs.acquisition_per_customer": ("cost of opening an account, per customer won during the run (new, switched in, returning), on top of the campaign; services: 51", "Reichheld & Sasser 1990 (HBR 68(5)): a credit-card customer cost 51 $ to acquire against 30 $ of first-year profit; checked through a newspaper report of the same figures adjusted for inflation (Sun-Sentinel, 11 July 1994: about 60 $); card accounts cost about 80 $ (A. M. Hughes, Database Marketing Institute) to 95 $ (CU Insight 2016). 0 where the campaign is the whole acquisition cost (retail)."),
    "behaviour.basket_growth": ("relative growth of a customer's orders with tenure, approached with time (docs/model.md §3.3.4); services: 0.5", "Repeat customers spent 23 % (online grocers) to 67 % (online apparel) more in months 31–36 than in months 1–6 (Bain & Company and Mainspring 2000; Reichheld & Schefter 2000, HBR 78(4)); insurance premiums grow ≈ 8 % a year (Reichheld 1996); no reliable growth in a noncontractual catalogue retailer (Reinartz & Kumar 2000, JM 64(4)). Size: assumption within that range."),
    "behaviour.basket_growth_weeks": ("tenure at which orders reach 63 % of basket_growth", "As basket_growth (growth measured over 2.5 years); assumption."),
    "costs.serve_cost_saving": ("share of the unit cost a long-standing customer no longer costs to serve; services: 0.1", "Assumption: Reichheld (1996) and Reichheld & Sasser (1990) report operating costs falling with tenure (first-year set-up and help calls), with no share that could be checked."),
    "costs.serve_cost_saving_weeks": ("tenure at which 63 % of serve_cost_saving is reached", "As serve_cost_saving (costs cluster in the first year, Reichheld 1996); assumption."),
    "behaviour.supporter_trust": ("trust a customer needs, beside `supporter_commitment`, to be a supporter on the loyalty ladder (and so an advocate or partner: co-creation counts partners)", "Loyalty ladder (Christopher, Payne & Ballantyne 1991, Relationship Marketing); trust and commitment together mark a relationship (Morgan & Hunt 1994, JM 58(3), commitment–trust theory). The value is an assumption (fixed in code before it became a field): the neutral prior `initial_trust`, so a supporter trusts the firm at least as much as a stranger does; range ×0.5–×1.5."),
    "behaviour.unenrolled_reward_share": ("share of a loyalty programme's value (the reward rate in the utility) that a customer not yet enrolled sees; enrolled customers see all of it (`rules.reward_value`)", "Assumption (the value fixed in code before it became a field): a prospect has no points yet and joins only by buying, so it counts the programme for less than a member does; half is the midpoint between ignoring it (0) and valuing it fully (1), the range the middle half of that scale. Loyalty programmes' effects are modest and depend on the value offered (Dowling & Uncles 1997, Sloan Mgmt Rev. 38(4)); no figure for this share was found."),
    "behaviour.partner_review_intensity": ("contact intensity of a distributor's or alliance partner's weekly review: how strongly the firm–partner dyad's commitment moves toward its target each week (`partners._review_partner`, κ·i_pr·(C* − C))", "Assumption (the value fixed in code before it became a field): a weekly business review counts as half a purchase's contact, like a follow-up call (`follow_up_intensity` 0.5, the same range). Commitment in business relationships grows with interaction and performance (Morgan & Hunt 1994, JM 58(3)); no figure for the intensity of one review was found. Affects only the partner dyads' own state (docs/model.md §3.17)."),
    "behaviour.initial_customer_commitment_max": ("a firm's initial customers (and those of a population file) start with commitment U(0, this)", "Assumption (the value fixed in code before it became a field): a customer base with some history but no relationship yet; the ceiling equals `supporter_commitment` (0.4), so no initial customer starts on the supporter rung or above; range ×0.5–×1.5 (at 0.6 some start as supporters)."),
    "behaviour.follow_up_responsiveness": ("response quality a follow-up call counts as in perceived responsiveness: Q' = Q + α_Q·i_fu·(this − Q) (`kernels.deliver`)", "Assumption (session 12; the value fixed in code before it became a field): the firm calls the customer, so the \"response\" is immediate, ρ = e^0 = 1 on the desk's scale (docs/model.md §3.7); a call that does not solve anything may be worth less (range down to 0.5, a response taking 0.07 weeks at the 0.1-week target). No published figure found."),
    "behaviour.unresolved_complaint_magnitude": ("failure magnitude μ of an unresolved complaint in the exit probability e_f·μ·(1 − φ·C) (`kernels.answer`)", "Assumption (session 12; the value fixed in code before it became a field): an unresolved complaint is a second failure (double deviation) and counts as a full one, like a defective product, whatever was complained of; larger failures drive more customers away (Smith, Bolton & Wagner 1999, JMR 36(3)). Range down to a late delivery's 1 − `late_experience` = 0.7."),
    "behaviour.supplier_review_intensity": ("contact intensity of a firm's weekly review of its supplier: how far the firm–supplier dyad's commitment (which decides priority in a shortage) moves toward its target each week, κ·i_s·(C* − C) (`partners.Supplier.review`)", "Assumption (session 12; the value fixed in code before it became a field): the firm buys from its supplier every week, so the review counts as a purchase's contact (`purchase_intensity` 1), twice a distributor's or alliance partner's (`partner_review_intensity` 0.5), whose weekly contact is a business review rather than a flow of goods. No published figure found."),
    "word_of_mouth.leaver_warning_weeks": ("weeks during which a customer who left its firm after a failure (or was pruned) may still talk about it, with its dyad's talk probabilities, while it is a customer of nobody", "Assumption (the value fixed in code before it became a field): dissatisfied customers tell others about a bad experience (as widely quoted from the TARP studies for the US Office of Consumer Affairs, 1979/1986), but no figure was found for how long they keep doing so after leaving; two months is a plausible span for a grievance to stay a topic (range one to three months). 0 switches leavers' warnings off."),
    "market.initial_tenure_max_weeks": ("firms' initial customers have bought from them for U(0, this) weeks before week 0 (spell start, purchases = 1 + Poisson(λ·τ), commitment's tenure bond)", "Assumption (the value fixed in code before it became a field): an established customer base of up to two years, one year on average; the shipped scenarios state no history of their markets (range one to three years)."),
    "market.max_reach_share": ("share of unaware customers a saturated campaign reaches a week", "Assumption (b2b 0.01: a long sales cycle, its file says; its range moves with it)."),
    "market.half_saturation": ("weekly spend that reaches half the saturated reach (`rules.paid_reach`, 1 − 2^(−spend/this))", "Diminishing returns to advertising: sales respond far less than proportionally to spend (mean short-term advertising elasticity 0.12, long-term 0.24, over 751 and 402 estimates: Sethuraman, Tellis & Briesch 2011, JMR 48(3)). At the reference budget the campaign's reach has elasticity ln 2 ≈ 0.69 with respect to spend (0.46–0.79 over this range); its effect on sales is far smaller and, with advertising goodwill off (the default), falls to 0 once customers know the firm (measured: 0.054 in the first quarter at launch, 0.000 two years on; section \"Advertising elasticity\"). Size: assumption. The shipped scenarios set it to their reference budget, so the range moves with their money scale."),
    "market.organic_awareness": ("weekly chance an unaware customer learns of a firm by itself", "Assumption (about 10 % a year). For scale: the Bass coefficient of innovation, adoption without word of mouth, is about 0.03 a year (Sultan, Farley & Lehmann 1990, JMR 27(1)), 0.0006 a week; awareness comes before adoption, so it is at least that."),
    "market.network.mean_degree": ("average number of contacts", "Assumption (range 5–15 contacts one talks to about purchases; the integer is rounded)."),
    "market.network.rewiring": ("small-world rewiring probability", "A small world (short paths, high clustering) holds over a wide middle range of rewiring between a lattice and a random graph (Watts & Strogatz 1998, Nature 393). Size: assumption."),
    "market.review_weeks": ("weeks between competitors' strategy reviews", "Assumption: a quarter; range from two months to half a year. Strategic actions and actions that need much implementation effort draw later responses (Chen, Smith & Grimm 1992, Management Science 38(3)); no lag that could be read from a retrievable text (section \"Competitive reaction\")."),
    "market.adaptation_step": ("share of the gap to the imitated rival's levers closed in one move", "Assumption (imitation of successful rivals: Lieberman & Asaba 2006, AMR 31(2); how far one move goes is not measured). Competitors match 15 % of a price cut in the long run (Pauwels 2007, J. Retailing 83(3)): a cumulative figure, now the default of `market.price_match`; imitation alone matched −0.01 of a cut at the defaults and 0.87 at the responsive end (section \"Competitive reaction\")."),
    "market.adaptation_inertia": ("chance a competitor that should move does not (at one review)", "Competitive response is predominantly passive: over 400 consumer product categories most price-promotion and advertising attacks met no reaction, and reactions had few long-run consequences (Steenkamp, Nijs, Hanssens & Dekimpe 2005, Marketing Science 24(1)); organisational inertia (Hannan & Freeman 1984, ASR 49(2)). Entrants most often meet no reaction or a single one (115 entrants, Robinson 1988, Marketing Science 7(4)). Size: assumption (the shares are not in a retrievable text); the evidence favours the upper half of the range."),
    "market.adaptation_threshold": ("profit gap to the best firm, as a share of its profit, that makes a competitor move", "Assumption."),
    "market.adaptation_cost": ("one-off cost of a strategy move, in weeks of `reference_budget`", "Assumption."),
    "market.price_match": ("share of a rival's list-price cut (the largest since the last review) a competitor that does not imitate matches at its review, down to its unit cost (`rules.price_reaction`)", "Competitors match 15 % of a wholesale price cut in the long run, over 75 brands in 25 consumer-goods categories, more in concentrated categories (Pauwels 2007, J. Retailing 83(3), abstract); reaction is predominantly passive and mostly in the same instrument (Steenkamp et al. 2005, Marketing Science 24(1)), so rises and promotions are not answered. Range: partly assumed — the published range across cases is \"very wide\" with no bounds in the abstract; 0 (no firm answers, the passive majority) to 0.45 (three times the mean). That the defaults then give a long-run match near 15 % is a consistency check of the mechanism, not a validation (section \"Competitive reaction\")."),
    "segments[].price_sensitivity": ("weight of the price index in utility (β); the range is for the mean over segments, and a draw scales every segment by the same factor", "Own-price elasticities of brands: mean −2.62 over 1,851 estimates, most between about −1 and −5 (Bijmolt, van Heerde & Pieters 2005, JMR 42(2)); the model's elasticity on ecommerce is −3.2 (anchors above), and ×0.5–×1.5 of β spans most of the published range. Size and the segments' values (ecommerce 6, 3, 1.5): assumption."),
    "segments[].service_sensitivity": ("scales the trust lost on a failure and the weight of responsiveness; mean over segments, one factor for all", "Assumption per segment (ecommerce 0.8, 1, 1.2)."),
    "segments[].expectation": ("experience a customer expects; mean over segments, one factor for all", "Satisfaction as the confirmation or disconfirmation of expectations (Oliver 1980, JMR 17(4)); expectations form on experience, so they stay near the firms' qualities (ecommerce 0.75–0.85). Size: assumption, ×0.75–×1.25 (wider would make most experiences disappoint or delight)."),
    "segments[].relational": ("relational orientation o (weights trust and commitment by 2·o, satisfaction by 2·(1 − o)); mean over segments, one factor for all (each segment capped at 1)", "Assumption per segment (ecommerce 0.2, 0.4, 0.8); what it means: Garbarino & Johnson 1999 (JM 63(2))."),
    "suppliers[].spot_persistence": ("AR(1) coefficient φ of the weekly log spot price: the share of its deviation from the mean that survives a step (D' = φ·D + v·Z); the spot cost's mean correction uses the stationary variance v²/(1 − φ²)", "Spot prices of traded goods revert to their mean (Schwartz 1997, \"The stochastic behavior of commodity prices\", Journal of Finance 52(3)); the weekly rate is an assumption (the value fixed in code before it became a field): 0.5 is a half-life of one week, a price that forgets a shock within a month, with a stationary SD of v/√(1 − φ²) ≈ 1.15·v."),
    "suppliers[].shortage_markup": ("factor on the spot price while the supplier is in a shortage", "Assumption (the value fixed in code before): scarce supply raises spot prices; +30 % is plausible for a few weeks' shortage of ordinary goods (range +10 % to +60 %), not measured. Long-contract prices do not move."),
    "suppliers[].priority_commitment": ("supplier-dyad commitment a long-contract firm needs to be served first in a shortage (no extra delay)", "Committed buyer–seller relationships are the last phase of their development, with preferential treatment between the parties (Dwyer, Schurr & Oh 1987, \"Developing buyer-seller relationships\", JM 51(2)); the threshold is an assumption (the value fixed in code before: the midpoint of commitment's scale)."),
    "suppliers[].spot_discount": ("spot price discount against the contract (mean over suppliers, one factor for all)", "Assumption (b2b 0.08; its range moves with it)."),
    "suppliers[].spot_volatility": ("weekly log volatility of the spot price", "Assumption."),
    "suppliers[].defect_rate": ("chance an order is defective", "Assumption."),
    "suppliers[].lead_time_weeks": ("mean lead time on contract", "Assumption (b2b 1 week; its range moves with it)."),
    "suppliers[].lead_time_cv": ("CV of the contract lead time", "Assumption."),
    "suppliers[].spot_lead_time_cv": ("CV of the spot lead time (spot deliveries are less predictable)", "Assumption."),
    "suppliers[].shortage_probability": ("weekly chance a shortage starts", "Assumption."),
    "suppliers[].shortage_weeks": ("length of a shortage (items rounded to whole weeks)", "Assumption."),
    "suppliers[].shortage_delay_weeks": ("extra lead time in a shortage for firms without priority", "Assumption (b2b 2 weeks; its range moves with it)."),
    "market.discount_rate": ("annual discount rate of profit", "Assumption: a cost of capital of 10 % a year (5–15 %); not sourced. A 1 % change in the discount rate moves firm value about a fifth as much as a 1 % change in retention (Gupta, Lehmann & Stuart 2004, JMR 41(1))."),
    "behaviour.advertising_weight": ("utility a firm's advertising goodwill stock adds at most for every customer who knows it (`rules.advertising_appeal`, w·G/(G + 1/δ): w/2 at the reference budget's steady stock); 0 = off, advertising then only makes customers aware (docs/model.md §3.1.1)", "Calibrated (a calibration, not a validation): w = 2.2 gives the mean long-term advertising elasticity of a brand's sales, 0.24 (Sethuraman, Tellis & Briesch 2011, JMR 48(3), 402 estimates), in a mature ecommerce market at δ = 0.068 (measured 0.250 ± 0.018, 12 seeds; the short-term elasticity then 0.017 against the published 0.12); at the default decay δ = 1 the same weight gives 0.279 ± 0.035 long-term and 0.067 ± 0.010 short-term (6 seeds), both within a factor of two of the published means (section \"Advertising elasticity\"). Off by default: it would change the main comparison, and the model's carry-over of advertising's effect is three to five times Leone's (1995) published interval at any δ. Range: off to twice the calibrated weight."),
    "behaviour.advertising_decay": ("share of a firm's advertising goodwill stock lost each week (`rules.advertising_goodwill`, G' = (1 − δ)·G + b; steady state b/δ)", "Default 1: no stock, the appeal follows the current budget, and the customers' own habit, commitment and inertia carry advertising's effect over. The duration interval of advertising's effect on sales is typically six to nine months (Leone 1995, Marketing Science 14(3), G141–G150, abstract); taking the stock's decay from it (δ = 1 − 0.1^(1/T), T = 26–39 weeks: 0.057–0.085) counts the customers' carry-over twice: measured, the model's interval is 120–136 weeks at every δ, and δ = 1 or 0.25 give both published elasticity means within a factor of two where 0.068 misses the short-term one seven-fold (section \"Carry-over\"). Range: a stock lasting about two months (0.25) to none. The stock itself: Nerlove & Arrow 1962, Economica 29(114)."),
}

#: Hand-written text after a row's measurement; "{ends}" gives all three outputs at both ends.
NOTES: dict[str, str] = {
    "behaviour.partner_review_intensity": "ecommerce has no distributors or alliances, whose dyads it moves",
    "behaviour.pruning_min_tenure_weeks": "no ecommerce preset prunes",
    "churn.period_weeks": "used only by the `beta_geometric` churn model; ecommerce runs the behavioural one",
    "market.price_match": "{ends}",
    "market.discount_rate": "discounting only: the retention gap and share do not change",
    "behaviour.advertising_decay": "advertising goodwill is off in ecommerce (`advertising_weight` 0), so the decay moves nothing",
    "behaviour.advertising_weight": "{ends}",
}

#: Rows of a mechanism ecommerce has off (advertising goodwill, ``behaviour.advertising_weight`` 0): measured by
#: oat.py like the others, but left out of the spread that decides which output a row "moves most".
OFF_BY_DEFAULT = {"behaviour.advertising_weight", "behaviour.advertising_decay"}

OUTPUTS = {"retention_gap": "retention gap (pts)", "profit_gap": "profit gap", "relationship_share": "relationship share"}


def fmt(value):
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer() and abs(value) >= 10):
        return f"{value:g}"
    return f"{value:.3g}"


def shown(name, value, sign=True):
    text = f"{value:+.1f}" if name == "retention_gap" else f"{value:+,.0f}" if name == "profit_gap" else f"{value:+.3f}"
    return text if sign else text.lstrip("+").replace("-", "−")


def default_cell(path, ecommerce):
    """The schema's default, and ecommerce's value (the mean over its items for a list field) where it differs."""
    from relsim.scenario.ranges import _field
    items, info, is_list = _field(ecommerce, path)
    default = info.default if info.default_factory is None else info.default_factory()
    shipped = float(np.mean(items)) if is_list else items[0]
    return fmt(default) + (f" ({fmt(shipped)})" if not np.isclose(shipped, default) else "")


def moved_cell(path, oat, spread, newest):
    rows = oat[oat["field"] == path].set_index("end")
    if not {"low", "high"} <= set(rows.index):
        return "not measured"
    low, high = rows.loc["low"], rows.loc["high"]
    changes = {name: high[name] - low[name] for name in OUTPUTS}
    if all(abs(change) < 1e-9 for change in changes.values()):
        moved = "no change"
    else:
        top = max(changes, key=lambda n: abs(changes[n]) / spread[n])
        moved = f"{OUTPUTS[top]} {shown(top, changes[top])}"
    notes = []
    measured = low.get("measured")
    if newest and not isinstance(measured, str):
        notes.append(f"measured before {newest}")
    elif newest and measured != newest:
        notes.append(f"measured {measured}")
    note = NOTES.get(path, "")
    if "{ends}" in note:
        ends = ", ".join(f"the {OUTPUTS[n].removesuffix(' (pts)')} {shown(n, low[n], False)} → {shown(n, high[n], False)}"
                         for n in OUTPUTS)
        note = note.replace("{ends}", f"{fmt(low['value'])} → {fmt(high['value'])} moves {ends}")
    if note:
        notes.append(note)
    return moved + (f" ({'; '.join(notes)})" if notes else "")


def ladder_cell(path, ladder):
    """Reichheld's counterfactual on services at both ends of the range (ladder.py): what the cut adds to
    the focal firm's discounted profit, and as a share of the base where the base is positive."""
    rows = ladder[ladder["field"] == path].set_index("end")
    if not {"low", "high"} <= set(rows.index):
        return "not measured"

    def end(row):
        gain = row["cut_profit"] - row["baseline_profit"]
        share = f"{row['change_pct']:+.0f} %" if row["baseline_profit"] > 0 else "base ≤ 0"
        return f"{gain:+,.0f} ({share})"
    low, high = rows.loc["low"], rows.loc["high"]
    return (f"services, Reichheld counterfactual (lapse hazard ×0.2) adds {end(low)} → {end(high)}; "
            f"base {low['baseline_profit']:,.0f} → {high['baseline_profit']:,.0f} (measured {low['measured']})")


def table_rows():
    """The table's rows, each a list of its six cells."""
    from relsim.scenario.ranges import PLAUSIBLE
    from relsim.scenario.schema import load_scenario
    oat = pd.read_csv(HERE / "oat.csv")
    # the spread that ranks the outputs is the shipped model's: a mechanism off by default (advertising
    # goodwill, whose weight's high end rewrites the comparison) does not rescale every other row
    shipped = oat[~oat["field"].isin(OFF_BY_DEFAULT)]
    spread = {name: shipped[name].std() for name in OUTPUTS}
    newest = oat["measured"].dropna().max() if "measured" in oat else ""
    ladder = pd.read_csv(HERE / "ladder.csv")
    ecommerce = load_scenario("ecommerce")
    ranges = {row.path: row for row in PLAUSIBLE}
    rows = []
    for path, (meaning, source) in SOURCES.items():
        row = ranges[path]
        moved = ladder_cell(path, ladder) if path in LADDER else moved_cell(path, oat, spread, newest)
        rows.append([f"`{path}`", meaning, default_cell(path, ecommerce), source, f"{fmt(row.low)}–{fmt(row.high)}", moved])
    return rows


def main():
    print("| Field | Meaning | Default (ecommerce) | Source | Range (OAT) | Moves most (low → high) |")
    print("|---|---|---|---|---|---|")
    for cells in table_rows():
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
