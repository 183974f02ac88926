"""Small helpers the report writers share: compact currency, money axes, saving a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from relsim.studies.labels import money  # one compact-currency format for every report


def _money_axis(axis) -> None:
    """Currency tick labels in k/M instead of matplotlib's detached '1e6' offset."""
    from matplotlib.ticker import FuncFormatter
    axis.set_major_formatter(FuncFormatter(lambda value, _: money(value)))


def _finish(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
