"""The validation suite (``relsim validate``): analytic limits against the published formulas,
docking of the engines and corner cases, with a self-contained report.

A floor above ``calibration`` (the BG/NBD round trip refits with relsim's own fitter); see
docs/architecture.md and docs/validation.md.
"""
