"""Public face of strategy comparisons (the code lives in :mod:`relsim.studies.compare`).

>>> from relsim.compare import compare   # doctest: +SKIP
"""

from relsim.studies.compare import Comparison, compare

__all__ = ["Comparison", "compare"]
