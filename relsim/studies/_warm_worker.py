"""Imported by the studies' forkserver (:mod:`relsim.studies.pool`) before it forks workers.

It loads what every worker needs — the studies' run functions with pandas,
Mesa and SimPy, and numba's compiled kernels — by one tiny run on the array
engine (200 customers, 4 weeks: the kernels are loaded from numba's cache,
or compiled once here rather than in every worker) — and then freezes all of
it for Python's garbage collector, so that no worker scans it again at each
run (:func:`relsim.market.model.freeze_process_baseline`). An error here must not stop the
forkserver: a failure only means the workers load the same things themselves; a Ctrl-C
stops it quietly (the command says it was interrupted).
"""

from __future__ import annotations

try:
    import relsim.studies.compare
    import relsim.studies.evaluate
    import relsim.studies.sweep  # noqa: F401
    from relsim.market.model import freeze_process_baseline
    from relsim.market.runner import simulate
    from relsim.scenario.schema import load_scenario

    simulate(load_scenario("ecommerce", **{"market.weeks": 4, "market.engine": "arrays"}).resized(200), seed=0)
    # what the server holds now (imports, loaded kernels) is never garbage: frozen, every worker forked
    # from it skips it in the collection each run starts with (relsim.market.model.freeze_process_baseline)
    freeze_process_baseline()
except Exception:  # the workers then import and load what they need, as without the forkserver's help
    pass
except KeyboardInterrupt:
    # Ctrl-C reaches the whole process group, this forkserver too while it warms up: the command reports
    # the interruption itself (exit 130, nothing written); the forkserver stops without a traceback
    raise SystemExit(130) from None
