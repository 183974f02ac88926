"""Studies built on runs: strategy comparisons and reports, experiments, sweeps, stores and their analysis."""
