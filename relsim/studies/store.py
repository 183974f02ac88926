"""The results store of a sweep: Parquet files on disk, one per finished run and table.

Layout::

    STORE/manifest.json            the design: experiment hash, code version, and per run
                                   its id, design point, replicate, seed and scenario hash
    STORE/experiment.toml          the experiment file as it was
    STORE/design.parquet           one row per design point with the factors' values
    STORE/summary/<run_id>.parquet end-of-run summary per firm (written last: marks the run done)
    STORE/steps/<run_id>.parquet   per-week aggregates (if the experiment keeps them)
    STORE/cohorts/<run_id>.parquet cohort retention (if kept)
    STORE/failures/<run_id>.json   a failed run: error and traceback

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
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.studies.experiment import TABLES, Plan
from relsim.util.errors import RelsimError
from relsim.util.outputs import (
    FolderLock,
    atomic_write_table,
    atomic_write_text,
    check_no_links,
    ensure_folder,
    exclusive_write_text,
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
    def lock(self, doing: str = "a sweep") -> Iterator[Store]:
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
        lock.acquire()
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
    def manifest(self) -> dict:
        """The manifest, or raise :class:`StoreError` if the folder is not a store."""
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"{self.root}: not a results store (no manifest.json); "
                             "create one with relsim sweep EXPERIMENT --out STORE") from None
        except (OSError, json.JSONDecodeError) as error:
            raise StoreError(f"{self.manifest_path}: unreadable manifest ({error})") from None

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

    def _prepare(self, plan: Plan) -> tuple[dict, str | None]:
        version = code_version()
        if os.path.lexists(self.manifest_path):
            manifest = self.manifest()
            if manifest.get("experiment_hash") != plan.experiment_hash:
                raise StoreError(
                    f"{self.root}: this store holds experiment {manifest.get('experiment')!r} with hash "
                    f"{manifest.get('experiment_hash')}, but {plan.source} has hash {plan.experiment_hash} "
                    "(its factors, design, seeds, replicates or scenarios differ); "
                    "use a new --out folder to run it")
            self._clean_temporaries()
            warning = None
            if manifest.get("code_version") != version:
                warning = (f"the store was started with relsim {manifest.get('code_version')}, this is "
                           f"{version}; finished runs are kept, new ones record the new version")
            return manifest, warning
        # a sweep killed while creating the store leaves only these: start again
        ours = {"design.parquet", "experiment.toml"}
        if any(p.name not in ours and not p.name.startswith(".") for p in self.root.iterdir()):
            raise StoreError(f"{self.root}: folder exists, is not empty and has no manifest.json; "
                             "give a new or empty --out folder")
        experiment = plan.experiment
        manifest = {
            "experiment": experiment.name,
            "description": experiment.description,
            "source": plan.source,
            "experiment_hash": plan.experiment_hash,
            "code_version": version,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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
        design = pd.DataFrame(plan.points)
        design.insert(0, "point", range(len(plan.points)))
        design["scenario_hash"] = [s.digest() for s in plan.scenarios]
        design["scenario"] = [s.name for s in plan.scenarios]
        design["focal_firm"] = [s.firms[0].name for s in plan.scenarios]
        atomic_write_table(_plain_columns(design), self.root / "design.parquet", "parquet")
        atomic_write_text(plan.text, self.root / "experiment.toml")
        # the manifest last: a store with a manifest is complete as a design. It is linked into
        # place, which fails if one exists: exactly one experiment ever owns the store.
        if not exclusive_write_text(json.dumps(manifest, indent=1, default=str), self.manifest_path):
            return self._prepare(plan)       # another experiment's, or the same: checked there
        return manifest, None

    # ------------------------------------------------------------------
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
            except (OSError, json.JSONDecodeError):
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
        """One row per design point with the factors' values."""
        return pd.read_parquet(self.root / "design.parquet")

    def _clean_temporaries(self) -> None:
        """Remove half-written temporaries a killed sweep left behind (``.relsim-tmp-*``),
        nothing else: hidden files of yours stay."""
        self.check_folders()
        for folder in (self.root, *(self.root / t for t in (*TABLES, "failures"))):
            if folder.is_dir():
                remove_temporaries(folder)


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
