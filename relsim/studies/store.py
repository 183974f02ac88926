"""The results store of a sweep: Parquet files on disk, one per finished run and table.

Layout::

    STORE/manifest.json            the design: experiment hash, code version, and per run
                                   its id, design point, replicate, seed and scenario hash;
                                   ``environment`` (package versions, machine) at creation,
                                   ``sessions`` (each sweep: when, versions, machine, workers),
                                   ``run_seconds`` (compute seconds per run; Store.runs(); a
                                   run of a batch of replicates gets the batch's seconds split
                                   evenly, the session's ``batch`` says how many),
                                   ``extensions`` (each --extend-replicates)
    STORE/experiment.toml          the experiment file as it was
    STORE/design.parquet           one row per design point with the factors' values
    STORE/summary/<run_id>.parquet end-of-run summary per firm (written last: marks the run done)
    STORE/steps/<run_id>.parquet   per-week aggregates (if the experiment keeps them)
    STORE/cohorts/<run_id>.parquet cohort retention (if kept)
    STORE/failures/<run_id>.json   a failed run: error and traceback
    STORE/quarantine/<table>/      damaged or foreign files moved aside (never deleted) by a
                                   resume or ``relsim store check STORE --repair``; their runs
                                   run again

Every file is written under a temporary name starting with ``.relsim-tmp-``
and renamed into place (``os.replace`` is atomic), so a sweep killed at any
moment leaves only whole files, and readers (pandas, pyarrow, DuckDB) skip the
temporaries; a resume removes those temporaries and nothing else (a
``.gitignore`` or README of yours stays). A sweep holds ``STORE/.relsim-lock``
(its PID and host) while it runs, so one store has one experiment and one
sweep at a time; the store's subfolders must be real folders, not symlinks.
Query with either::

    pd.read_parquet("STORE/summary")
    duckdb.execute("select * from read_parquet('STORE/summary/*.parquet')").df()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.studies.experiment import TABLES, Plan
from relsim.util.errors import RelsimError
from relsim.util.inputs import read_json
from relsim.util.outputs import (
    TEMP_PREFIX,
    FolderLock,
    atomic_write_table,
    atomic_write_text,
    check_no_links,
    ensure_folder,
    exclusive_write_text,
    quarantine_entry,
    remove_entry,
    remove_temporaries,
)
from relsim.util.version import __version__

#: The subfolders a store writes (each a real folder, never a link).
SUBFOLDERS = (*TABLES, "failures")


class StoreError(RelsimError):
    """A results store cannot be used for this sweep. The message is meant for users."""


def code_version(package: Path | None = None) -> str:
    """The version of relsim that runs: ``__version__`` (relsim/util/version.py), plus
    the commit (``+g<commit>``, ``.dirty`` if relsim/ is modified) only when relsim
    runs from a git checkout of relsim itself.

    An installed relsim inside a user's own git repository (a virtual environment
    in a project folder) records its version alone, never the user's commit.
    ``package`` is relsim's package folder (default: the one running).
    """
    commit = _checkout_commit(package or Path(__file__).resolve().parent.parent)
    return f"{__version__}+{commit}" if commit else __version__


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=5,
                          check=True).stdout.strip()


def _checkout_commit(package: Path) -> str | None:
    """``g<commit>[.dirty]`` if ``package`` is the relsim/ folder of a git checkout of relsim, else None."""
    try:
        top = Path(_git(package, "rev-parse", "--show-toplevel"))
        # the checkout must be relsim's own: its relsim/ is this package and its pyproject names relsim
        if (top / "relsim").resolve() != package.resolve():
            return None
        project = tomllib.loads((top / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
        if project.get("name") != "relsim":
            return None
        commit = _git(top, "rev-parse", "--short=12", "HEAD")
        dirty = _git(top, "status", "--porcelain", "--", "relsim")
    except (OSError, ValueError, subprocess.SubprocessError):   # no git, not a checkout, bad TOML
        return None
    return f"g{commit}{'.dirty' if dirty else ''}"


#: Packages whose versions a store records (with Python's).
RECORDED_PACKAGES = ("numpy", "pandas", "mesa", "simpy", "pyarrow")


def environment() -> dict[str, Any]:
    """What a store records about the process that runs a sweep: package versions
    (relsim's as :func:`code_version`, Python, numpy, pandas, Mesa, SimPy, PyArrow)
    and the machine (platform, architecture, CPU count). Read from the installed
    packages' metadata, so nothing is imported."""
    from importlib import metadata
    versions: dict[str, str | None] = {"relsim": code_version(), "python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"versions": versions, "platform": platform.platform(), "machine": platform.machine(),
            "cpu_count": os.cpu_count()}


class Store:
    """A results store folder (see the module docstring for its layout).

    Parameters
    ----------
    root : str or Path
        The folder; created by :meth:`prepare`.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / "manifest.json"
        self._lock: FolderLock | None = None

    @contextlib.contextmanager
    def lock(self, doing: str = "a sweep", wait: float = 0.0) -> Iterator[Store]:
        """Hold the store's lock (``STORE/.relsim-lock``) for the block; re-entrant.

        Raises
        ------
        relsim.util.outputs.LockedError
            If another process holds it (the message names its PID and host).
        """
        if self._lock is not None:
            yield self
            return
        if os.path.lexists(self.root) and not self.root.is_dir():
            raise StoreError(f"{self.root}: is a file, not a results store folder; give a folder to --out")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{self.root}: cannot create the store folder ({error.strerror})") from None
        lock = FolderLock(self.root, doing)
        try:
            lock.acquire(wait)
        except OSError as error:
            raise StoreError(f"{self.root}: cannot take the store's lock ({error.strerror}); "
                             "is the folder writable?") from None
        self._lock = lock
        try:
            yield self
        finally:
            self._lock = None
            lock.release()

    def check_folders(self) -> None:
        """Refuse (OutputError) if a subfolder of the store is a symlink or not a folder."""
        for name in SUBFOLDERS:
            check_no_links(self.root, self.root / name)

    # ------------------------------------------------------------------
    def require_folder(self) -> None:
        """:class:`StoreError` unless the store's folder exists (a file given instead is named as such)."""
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: " + ("a file, not a results store folder" if self.root.exists()
                                                 else "no such results store folder"))

    def manifest(self) -> dict:
        """The manifest, or raise :class:`StoreError` if the folder is not a store or the
        manifest is damaged (not UTF-8 JSON, not an object, a key missing or of the wrong type)."""
        if not os.path.lexists(self.manifest_path):
            raise StoreError(f"{self.root}: not a results store (no manifest.json); "
                             "create one with relsim sweep EXPERIMENT --out STORE")
        data = read_json(self.manifest_path, "results store manifest", StoreError, max_bytes=MAX_MANIFEST_BYTES)
        problem = manifest_problem(data)
        if problem:
            raise StoreError(f"{self.manifest_path}: damaged manifest ({problem}); resume the sweep "
                             "(relsim sweep EXPERIMENT --out STORE) to rebuild it from the experiment")
        return data

    def prepare(self, plan: Plan) -> tuple[dict, str | None]:
        """Create the store for ``plan``, or check that an existing one belongs to it.

        Returns
        -------
        manifest : dict
        warning : str or None
            Set when the store was started by another code version.

        Raises
        ------
        StoreError
            If the folder holds another experiment's store, or files but no manifest.
        relsim.util.outputs.OutputError
            If another sweep holds the store, or a subfolder is a symlink.
        """
        with self.lock(f"experiment {plan.experiment.name!r}"):
            self.check_folders()
            return self._prepare(plan)

    def _prepare(self, plan: Plan, rebuild: bool = False) -> tuple[dict, str | None]:
        version = code_version()
        notes = []
        if os.path.lexists(self.manifest_path):
            try:
                manifest = self.manifest()
            except StoreError as error:
                if not self._same_experiment_file(plan):
                    raise StoreError(f"{error}; the store's experiment.toml is missing or differs from "
                                     f"{plan.source}, so relsim cannot rebuild it") from None
                moved = quarantine_entry(self.root, "manifest.json", self.root / QUARANTINE)
                print(f"relsim: note: {self.manifest_path} was damaged; moved to {moved} and rebuilt "
                      "from the experiment", file=sys.stderr)
                return self._prepare(plan, rebuild=True)
            if manifest.get("experiment_hash") != plan.experiment_hash:
                raise StoreError(
                    f"{self.root}: this store holds experiment {manifest.get('experiment')!r} with hash "
                    f"{manifest.get('experiment_hash')}, but {plan.source} has hash {plan.experiment_hash} "
                    "(its factors, design, seeds, replicates or scenarios differ); "
                    "use a new --out folder to run it")
            self._clean_temporaries()
            if design_problem(self.root / "design.parquet"):
                self._write_design(plan)
                notes.append(f"{self.root / 'design.parquet'} was missing or damaged; rewritten from the experiment")
            moved = self.quarantine(self.verify_runs(manifest))
            if moved:
                notes.append(f"{len(moved)} damaged or foreign run files moved to {self.root / QUARANTINE} "
                             f"(their runs run again): {', '.join(moved[:5])}{' ...' if len(moved) > 5 else ''}")
            if manifest.get("code_version") != version:
                notes.append(f"the store was started with relsim {manifest.get('code_version')}, this is "
                             f"{version}; finished runs are kept, new ones record the new version")
            return manifest, "; ".join(notes) or None
        # a sweep killed while creating the store leaves only these: start again
        ours = {"design.parquet", "experiment.toml"}
        if not rebuild and any(p.name not in ours and not p.name.startswith(".") for p in self.root.iterdir()):
            raise StoreError(f"{self.root}: folder exists, is not empty and has no manifest.json; "
                             "give a new or empty --out folder")
        if not rebuild and os.path.lexists(self.root / "experiment.toml") and not self._same_experiment_file(plan):
            # left by a sweep of this experiment killed while creating the store, it is replaced; anything
            # else there (the user's own experiment file, another experiment's) is not relsim's to overwrite
            raise StoreError(f"{self.root / 'experiment.toml'}: not the text of {plan.source}, and the folder has "
                             "no manifest.json, so it is not this experiment's store; relsim does not overwrite it "
                             "(give a new or empty --out folder)")
        experiment = plan.experiment
        manifest = {
            "experiment": experiment.name,
            "description": experiment.description,
            "source": plan.source,
            "experiment_hash": plan.experiment_hash,
            "code_version": version,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "environment": environment(),
            "root_seed": experiment.seed,
            "design": experiment.design.model_dump(mode="json"),
            "factors": [f.model_dump(mode="json") for f in experiment.factors],
            "outputs": experiment.outputs.model_dump(mode="json"),
            "analysis": experiment.analysis.model_dump(mode="json"),
            "replicates": experiment.replicates,
            "points": len(plan.points),
            "runs": [{"run_id": r.run_id, "point": r.point, "replicate": r.replicate, "seed": r.seed,
                      "scenario_hash": r.scenario_hash, "code_version": version} for r in plan.runs],
        }
        self._write_design(plan)
        atomic_write_text(plan.text, self.root / "experiment.toml")
        # the manifest last: a store with a manifest is complete as a design. It is linked into
        # place, which fails if one exists: exactly one experiment ever owns the store.
        if not exclusive_write_text(json.dumps(manifest, indent=1, default=str), self.manifest_path):
            return self._prepare(plan)       # another experiment's, or the same: checked there
        return manifest, None

    def _write_design(self, plan: Plan) -> None:
        design = pd.DataFrame(plan.points)
        design.insert(0, "point", range(len(plan.points)))
        design["scenario_hash"] = [s.digest() for s in plan.scenarios]
        design["scenario"] = [s.name for s in plan.scenarios]
        design["focal_firm"] = [s.firms[0].name for s in plan.scenarios]
        atomic_write_table(_plain_columns(design), self.root / "design.parquet", "parquet")

    def _same_experiment_file(self, plan: Plan) -> bool:
        try:
            return (self.root / "experiment.toml").read_text(encoding="utf-8") == plan.text != ""
        except (OSError, ValueError):
            return False

    # ------------------------------------------------------------------
    def verify_runs(self, manifest: dict) -> dict[str, str]:
        """Damaged or foreign per-run files, as ``table/name`` → what is wrong.

        A run file must be ``<run_id>.parquet`` of a run of the manifest, a readable
        Parquet file with the key columns, holding that run's rows only.
        """
        runs = {entry["run_id"] for entry in manifest["runs"]}
        problems: dict[str, str] = {}
        for table in TABLES:
            folder = self.root / table
            if not folder.is_dir() or folder.is_symlink():
                continue
            for name in sorted(os.listdir(folder)):
                if name.startswith(".") or not name.endswith(".parquet"):
                    continue
                run = name[:-len(".parquet")]
                problem = "not a run of this store" if run not in runs else run_file_problem(
                    folder / name, run, SUMMARY_COLUMNS if table == "summary" else ())
                if problem:
                    problems[f"{table}/{name}"] = problem
        # a finished run (its summary is there) must have every table the experiment keeps
        finished = self.finished() & runs
        for table in manifest.get("outputs", {}).get("tables", []):
            if table in TABLES and table != "summary":
                present = _stems(self.root / table, ".parquet")
                for run in sorted(finished - present):
                    problems[f"{table}/{run}.parquet"] = "missing, but the run's summary is there"
        return problems

    def quarantine(self, problems: dict[str, str]) -> list[str]:
        """Move the files named in ``problems`` (``table/name``) to ``STORE/quarantine/<table>/``.

        A run with a damaged or missing ``steps``/``cohorts`` file has its summary
        moved too: the summary marks a run done, so the resumed sweep runs it again.
        """
        moved = []
        for where in problems:
            table, name = where.split("/", 1)
            if quarantine_entry(self.root / table, name, self.root / QUARANTINE / table) is not None:
                moved.append(where)
        incomplete = sorted({where.split("/", 1)[1] for where in problems if not where.startswith("summary/")})
        for name in incomplete:
            if f"summary/{name}" not in problems and \
                    quarantine_entry(self.root / "summary", name, self.root / QUARANTINE / "summary") is not None:
                moved.append(f"summary/{name}")
        return moved

    def check(self) -> list[str]:
        """Every problem of the store, one line each (empty: the store is sound)."""
        lines = []
        try:
            manifest = self.manifest()
        except StoreError as error:
            return [str(error)]
        problem = design_problem(self.root / "design.parquet")
        if problem:
            lines.append(f"{self.root / 'design.parquet'}: {problem}; resume the sweep to rewrite it")
        for where, problem in self.verify_runs(manifest).items():
            lines.append(f"{self.root / where}: {problem}")
        for folder in (self.root, *(self.root / t for t in SUBFOLDERS)):
            if folder.is_dir() and not folder.is_symlink():
                lines += [f"{folder / n}: temporary file of an interrupted sweep" for n in sorted(os.listdir(folder))
                          if n.startswith(TEMP_PREFIX)]
        return lines

    def record_versions(self, run_ids: set[str], version: str) -> None:
        """Note in the manifest the code version that (re)runs ``run_ids`` (a resumed store
        may mix versions; the summary's ``code_version`` column has it per run too)."""
        manifest = self.manifest()
        changed = False
        for entry in manifest["runs"]:
            if entry["run_id"] in run_ids and entry.get("code_version") != version:
                entry["code_version"] = version
                changed = True
        if changed:
            atomic_write_text(json.dumps(manifest, indent=1, default=str), self.manifest_path)

    def extend(self, manifest: dict, plan: Plan, version: str) -> None:
        """Grow the manifest to ``plan``'s replicates (the same experiment with more seeds):
        the new runs are added, the runs already there keep their entries, and the
        manifest says when and from how many replicates it was extended."""
        known = {entry["run_id"] for entry in manifest["runs"]}
        manifest["runs"] = sorted(
            [*manifest["runs"], *({"run_id": r.run_id, "point": r.point, "replicate": r.replicate, "seed": r.seed,
                                   "scenario_hash": r.scenario_hash, "code_version": version}
                                  for r in plan.runs if r.run_id not in known)],
            key=lambda entry: entry["run_id"])
        manifest.setdefault("extensions", []).append({
            "from_replicates": manifest["replicates"], "to_replicates": plan.experiment.replicates,
            "from_hash": manifest["experiment_hash"], "code_version": version,
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        manifest["replicates"] = plan.experiment.replicates
        manifest["experiment_hash"] = plan.experiment_hash
        # one atomic rename: a sweep killed here leaves the old store or the extended one
        atomic_write_text(json.dumps(manifest, indent=1, default=str), self.manifest_path)

    def record_session(self, session: dict[str, Any], seconds: dict[str, float]) -> None:
        """Add to the manifest the compute seconds of runs (``run_seconds``: run id → seconds
        in the worker) and this sweep's session (``sessions``: when, code version,
        environment, workers, replicates per worker task ``batch``, runs done and failed; updated in
        place by its ``id``)."""
        manifest = self.manifest()
        manifest.setdefault("run_seconds", {}).update(seconds)
        sessions = manifest.setdefault("sessions", [])
        kept = [s for s in sessions if not (isinstance(s, dict) and s.get("id") == session["id"])]
        manifest["sessions"] = [*kept, session]
        atomic_write_text(json.dumps(manifest, indent=1, default=str), self.manifest_path)

    def runs(self) -> pd.DataFrame:
        """The runs table: one row per run of the manifest (run id, point, replicate, seed,
        scenario hash, code version), whether it is finished or failed, and its compute
        ``seconds`` (missing for runs not run yet, or whose sweep was killed before it
        recorded them; a run advanced in a batch of replicates gets the batch's seconds divided
        by its runs)."""
        manifest = self.manifest()
        runs = pd.DataFrame(manifest["runs"])
        timings = manifest.get("run_seconds") or {}
        finished, failed = self.finished(), set(self.failed())
        runs["status"] = ["finished" if r in finished else "failed" if r in failed else "pending"
                          for r in runs["run_id"]]
        runs["seconds"] = pd.to_numeric(runs["run_id"].map(timings), errors="coerce")
        return runs

    def finished(self) -> set[str]:
        """Run ids whose summary is on disk (the summary is each run's last file)."""
        return _stems(self.root / "summary", ".parquet")

    def failed(self) -> dict[str, dict]:
        """Failure records of runs that are not finished, by run id."""
        done = self.finished()
        records = {}
        for run in sorted(_stems(self.root / "failures", ".json") - done):
            try:
                records[run] = json.loads((self.root / "failures" / f"{run}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                records[run] = {"run_id": run, "error": "unreadable failure record"}
        return records

    def write_run(self, run_id: str, tables: dict[str, pd.DataFrame]) -> None:
        """Write a finished run's tables, the summary last; forget an earlier failure."""
        for name in sorted(tables, key=lambda n: n == "summary"):
            folder = ensure_folder(self.root, name)
            atomic_write_table(tables[name], folder / f"{run_id}.parquet", "parquet")
        if (self.root / "failures").is_dir():
            failures = ensure_folder(self.root, "failures")
            remove_entry(failures, f"{run_id}.json", {f"{run_id}.json"})

    def write_failure(self, run_id: str, record: dict[str, Any]) -> None:
        """Record a failed run with its traceback."""
        folder = ensure_folder(self.root, "failures")
        atomic_write_text(json.dumps(record, indent=1, default=str), folder / f"{run_id}.json")

    def table(self, name: str) -> pd.DataFrame:
        """All finished runs' rows of table ``name`` (``summary``, ``steps``, ``cohorts``), by run id."""
        if name not in TABLES:
            raise StoreError(f"unknown table {name!r}; allowed: {', '.join(TABLES)}")
        done = self.finished()
        files = sorted(p for p in (self.root / name).glob("*.parquet") if p.stem in done) \
            if (self.root / name).is_dir() else []
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)

    def design(self) -> pd.DataFrame:
        """One row per design point with the factors' values (StoreError if missing or damaged)."""
        problem = design_problem(self.root / "design.parquet")
        if problem:
            raise StoreError(f"{self.root / 'design.parquet'}: {problem}; resume the sweep "
                             "(relsim sweep EXPERIMENT --out STORE) to rewrite it")
        return pd.read_parquet(self.root / "design.parquet")

    def _clean_temporaries(self) -> None:
        """Remove half-written temporaries a killed sweep left behind (``.relsim-tmp-*``),
        nothing else: hidden files of yours stay."""
        self.check_folders()
        for folder in (self.root, *(self.root / t for t in (*TABLES, "failures"))):
            if folder.is_dir():
                remove_temporaries(folder)


#: Folder of a store where damaged or foreign files are moved.
QUARANTINE = "quarantine"
#: Largest manifest read (200,000 runs of about 200 bytes each, with room).
MAX_MANIFEST_BYTES = 200 * 1024 * 1024
#: Keys of a manifest and their types.
MANIFEST_KEYS = {"experiment": str, "experiment_hash": str, "runs": list, "factors": list, "design": dict,
                 "outputs": dict, "analysis": dict, "replicates": int, "points": int, "root_seed": int}
#: Columns every per-run table has.
KEY_COLUMNS = ("run_id", "point", "replicate", "seed")
#: Further columns of every summary file.
SUMMARY_COLUMNS = ("firm", "focal")


def manifest_problem(data: Any) -> str | None:
    """What is wrong with a manifest's data, or None."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    for key, kind in MANIFEST_KEYS.items():
        if key not in data:
            return f"key {key!r} is missing"
        if not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
            return f"{key!r} is not a JSON {'number' if kind is int else kind.__name__}"
    for i, entry in enumerate(data["runs"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("run_id"), str):
            return f"runs[{i}] has no run_id"
    if not isinstance(data["outputs"].get("metrics"), list):
        return "outputs.metrics is missing"
    for i, factor in enumerate(data["factors"]):
        if not isinstance(factor, dict) or not isinstance(factor.get("path"), str):
            return f"factors[{i}] has no path"
    return None


def _parquet_columns(path: Path) -> tuple[list[str] | None, str | None]:
    import pyarrow.parquet as pq
    try:
        if not path.is_file() or path.is_symlink():
            return None, "missing" if not os.path.lexists(path) else "not a regular file"
        return list(pq.read_schema(path).names), None
    except Exception as error:   # pyarrow raises several types for a damaged file
        return None, f"not a readable Parquet file ({type(error).__name__}: {str(error).splitlines()[0][:120]})"


def design_problem(path: Path) -> str | None:
    """What is wrong with ``design.parquet``, or None."""
    columns, problem = _parquet_columns(path)
    if problem or columns is None:
        return problem or "not a readable Parquet file"
    return None if "point" in columns else "not a design table (no 'point' column)"


def run_file_problem(path: Path, run: str, required: tuple[str, ...] = ()) -> str | None:
    """What is wrong with a run's table file ``path``, or None."""
    import pyarrow.parquet as pq
    columns, problem = _parquet_columns(path)
    if problem or columns is None:
        return problem or "not a readable Parquet file"
    missing = [c for c in (*KEY_COLUMNS, *required) if c not in columns]
    if missing:
        return f"not a run's table (no column {', '.join(map(repr, missing))})"
    try:
        ids = set(pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist())
    except Exception as error:   # pyarrow raises several types for a damaged file
        return f"not a readable Parquet file ({type(error).__name__})"
    if ids != {run}:
        return f"holds rows of run(s) {', '.join(sorted(map(str, ids)))[:80] or 'none'}, not {run}"
    return None


def command_store(args) -> int:
    """``relsim store check STORE [--repair]``: list (and repair) a store's problems.

    Returns 0 if the store is sound (or was repaired), 1 if problems remain.
    """
    store = Store(args.store)
    store.require_folder()
    problems = store.check()
    if not problems:
        print(f"{store.root}: no problems found")
        return 0
    for line in problems:
        print(line)
    if not args.repair:
        print(f"{len(problems)} problem(s); relsim store check {store.root} --repair moves damaged run files to "
              f"{store.root / QUARANTINE} and removes temporaries (then resume the sweep to run them again)")
        return 1
    with store.lock("a store check"):
        store.check_folders()
        store._clean_temporaries()
        try:
            moved = store.quarantine(store.verify_runs(store.manifest()))
        except StoreError:
            moved = []
    left = store.check()
    print(f"repaired: {len(moved)} file(s) moved to {store.root / QUARANTINE}, temporaries removed")
    for line in left:
        print(f"left: {line}")
    return 1 if left else 0


def _stems(folder: Path, suffix: str) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.name[:-len(suffix)] for p in folder.iterdir()
            if p.name.endswith(suffix) and not p.name.startswith(".")}


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing types (e.g. a factor with levels 1 and "a") as text, so Parquet accepts them."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object and len({type(v) for v in frame[column]}) > 1:
            frame[column] = frame[column].astype(str)
    return frame
