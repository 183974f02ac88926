"""Calibration from a firm's transaction log: reading and checking logs, BG/NBD and Gamma-Gamma fits,
and the scenario built from them.

``import relsim.calibration`` is light (no Mesa, SimPy or model); :func:`calibrate`
and the rest of :mod:`relsim.calibration.fromlog` load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_FROM_LOG = ("calibrate", "Calibration", "CalibrationError")

__all__ = list(_FROM_LOG)


def __getattr__(name: str) -> Any:
    if name in _FROM_LOG:
        return getattr(importlib.import_module("relsim.calibration.fromlog"), name)
    raise AttributeError(f"module 'relsim.calibration' has no attribute {name!r}")
