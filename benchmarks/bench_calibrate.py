"""Time the calibration of a large transaction log: read + validate + RFM + BG/NBD + Gamma-Gamma.

    .venv/bin/python benchmarks/bench_calibrate.py [--transactions 1000000] [--seed S]

Draws a synthetic log of about ``--transactions`` rows from known BG/NBD and
Gamma-Gamma parameters, writes it as CSV, then times ``relsim.calibration.fromlog.calibrate``
on the file (reading, checking every row, the RFM summary and both
maximum-likelihood fits with standard errors) and ``Calibration.write`` of a
per-customer scenario. Prints a Markdown row for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from relsim.calibration import btyd
from relsim.calibration.fromlog import calibrate

BGNBD = {"r": 0.6, "alpha": 6.0, "a": 0.9, "b": 3.0}
GAMMA_GAMMA = {"p": 5.0, "q": 4.0, "gamma": 30.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(np.random.SeedSequence(args.seed))
    # about 4.1 transactions per customer over 78 weeks with these parameters
    customers = int(args.transactions / 4.1)
    log = btyd.simulate_log(customers, BGNBD, GAMMA_GAMMA, rng, start="2020-01-01",
                            entry_weeks=12, horizon_weeks=78)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        log.assign(date=log["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        started = time.perf_counter()
        calibration = calibrate(path, "2020-07-01", margin=0.3)
        fitted = time.perf_counter() - started
        calibration.per_customer = True
        calibration.write(Path(folder) / "cal.toml")
        written = time.perf_counter() - started
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}")
    print(f"| {len(log):,} | {len(calibration.summary):,} | {fitted:.1f} s | {written:.1f} s | {machine} |")
    print("BG/NBD:", {k: round(v, 3) for k, v in calibration.bgnbd.params.items()}, "true:", BGNBD)
    print("Gamma-Gamma:", {k: round(v, 3) for k, v in calibration.gamma_gamma.params.items()}, "true:", GAMMA_GAMMA)


if __name__ == "__main__":
    main()
