"""Small helpers the report writers share: compact currency, money axes, saving a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def money(value: float, signed: bool = False) -> str:
    """Compact currency: ``1.07 M``, ``385 k``, ``950`` (with a sign when ``signed``)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = ("+" if value >= 0 else "−") if signed else ("−" if value < 0 else "")
    size = abs(value)
    if size >= 1e6:
        return f"{sign}{size / 1e6:,.2f} M"
    if size >= 1e4:
        return f"{sign}{size / 1e3:,.0f} k"
    return f"{sign}{size:,.0f}"


def _money_axis(axis) -> None:
    """Currency tick labels in k/M instead of matplotlib's detached '1e6' offset."""
    from matplotlib.ticker import FuncFormatter
    axis.set_major_formatter(FuncFormatter(lambda value, _: money(value)))


def _finish(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
