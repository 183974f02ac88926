"""The market's vocabulary: names used by agents, engines, metrics and reports.

Defined once here so that a table column, a book line or a churn reason is
spelled the same everywhere.
"""

#: How a customer first learned of a firm; also the acquisition source.
SOURCES = ("paid", "wom", "organic", "partner", "initial")

#: Acquisition sources of a customer spell: a later spell with the same firm is "returning".
SPELL_SOURCES = (*SOURCES, "returning")

#: Why a customer spell ends.
CHURN_REASONS = ("lapsed", "switched", "failure", "pruned")

#: Those who leave for these reasons may still warn their contacts for a while
#: (``word_of_mouth.leaver_warning_weeks``).
WARNING_REASONS = ("failure", "pruned")

#: A firm's books: revenue and every cost line, per week.
BOOK_LINES = ("revenue", "cogs", "acquisition", "relationship", "service_desk",
              "partner_fees", "rewards", "adaptation")

#: The relationship level from which a firm calls after each delivery (Kotler's "accountable").
FOLLOW_UP_LEVEL = 3

#: Desk priorities of a ticket: key accounts are served first (lower is first).
KEY_ACCOUNT_PRIORITY = 0
STANDARD_PRIORITY = 1
