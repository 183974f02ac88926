"""Figure style shared by reports and the app."""

#: Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), one colour per firm or strategy.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
