"""The analysis report in plain words: labels, percentages, a heat map for a two-factor grid, the best point."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from relsim.studies.analysis import StoreView, analyze, best_point, heatmap_factors
from relsim.studies.experiment import load_experiment
from relsim.studies.labels import factor_label, format_value, metric_label
from relsim.studies.sweep import sweep
from tests.test_sweep import write_experiment


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("grid")
    path = write_experiment(folder, replicates=2, weeks=10, prices="[0.9, 1.0, 1.1]")
    assert sweep(load_experiment(path), folder / "store", workers=1).done == 12
    return folder / "store"


def test_report_in_plain_words_with_a_heat_map_and_the_best_point(grid, tmp_path):
    written = analyze(grid, tmp_path / "analysis")
    for number in (0, 1):
        assert written[f"heatmap_{number}.png"].read_bytes()[:4] == b"\x89PNG"
    page = written["report.html"].read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 6 and "Heat map: annual retention" in page
    headers = re.findall(r"<th>(.*?)</th>", page)
    assert headers and not [h for h in headers if "_" in h or h in ("ci_low", "metric", "mean")], headers
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert "annual_retention" not in cells and "Annual retention" in cells
    assert "Focal firm&#x27;s price" in headers and "Focal firm&#x27;s strategy" in headers
    # shares as percentages: every retention mean of the point means table
    view = StoreView(grid)
    retention = view.runs.groupby("point")["annual_retention"].mean()
    for value in retention:
        assert format_value(value, "annual_retention") in cells
    assert re.fullmatch(r"\d{1,3}\.\d %", format_value(retention.iloc[0], "annual_retention"))
    # the plain-language summary names the best design point, checked by hand
    best = best_point(view).set_index("metric")
    profit = view.runs.groupby("point")["cumulative_discounted_profit"].mean()
    assert best.loc["cumulative_discounted_profit", "point"] == profit.idxmax()
    assert best.loc["cumulative_discounted_profit", "runner_up"] == profit.drop(profit.idxmax()).idxmax()
    assert f"<strong>Highest discounted profit (cumulative)</strong>: design point {profit.idxmax()}" in page
    assert "moves most with" in page and "Compute:" in page and "numpy" in page
    assert pd.read_csv(written["best_point.csv"])["metric"].tolist() == view.metrics


def test_heat_map_only_for_a_two_factor_grid(grid, tmp_path):
    assert heatmap_factors(StoreView(grid)) == ("focal_strategy", "firms.0.levers.price")
    path = tmp_path / "lhs.toml"
    path.write_text("""name = "lhs"\nscenario = "ecommerce"\nseed = 2\nreplicates = 1
[overrides]\n"market.customers" = 200\n"market.weeks" = 6
[design]\nkind = "lhs"\nsamples = 4
[[factors]]\npath = "firms.0.levers.price"\nlow = 0.8\nhigh = 1.2
[[factors]]\npath = "firms.0.levers.acquisition_budget"\nlow = 0.5\nhigh = 2.0
""")
    sweep(load_experiment(path), tmp_path / "store", workers=1)
    assert heatmap_factors(StoreView(tmp_path / "store")) is None
    assert not [name for name in analyze(tmp_path / "store") if name.startswith("heatmap")]


def test_labels():
    assert metric_label("wom_share_of_new") == "Share of new customers from word of mouth"
    assert factor_label("segments.1.price_sensitivity") == "Segment 2: price sensitivity"
    assert factor_label("firms.2.levers.reward_rate") == "Firm 3's reward rate"
    assert format_value(0.0184, "market_share") == "1.8 %"
    assert format_value(-0.012, "annual_retention", difference=True) == "−1.2 pts"
    assert format_value(-12_345.0, "profit", difference=True) == "−12 k"


def test_the_analysis_never_goes_into_the_stores_own_folders(grid, tmp_path, capsys):
    """``analyze STORE --out STORE/summary`` (or the store itself, or inside a table folder, or
    ``failures``) exits 2 and leaves the store's files as they were; a new folder inside the store
    is allowed, as the default ``STORE/analysis`` is."""
    from relsim.cli import main

    def files() -> dict[str, bytes]:
        return {str(p.relative_to(grid)): p.read_bytes() for p in sorted(grid.rglob("*"))
                if p.is_file() and "analysis" not in p.parts and ".lock" not in p.name}

    before = files()
    for out in (grid, grid / "summary", grid / "steps" / "report", grid / "failures"):
        assert main(["analyze", str(grid), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}" in err and "a folder of its own" in err, err
        assert "Traceback" not in err
    assert files() == before
    assert "report.html" in analyze(grid, grid / "my-analysis")
