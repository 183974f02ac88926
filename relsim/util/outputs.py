"""Every deletion and replacement of relsim's outputs goes through this module.

The rules, whatever the command:

* relsim removes only *plain* entries (a regular file, or a folder it wrote),
  by a *single* name (no separator, not ``.``, ``..`` or empty), that it
  recorded writing, inside the folder the user chose. Every check uses
  ``lstat`` and folder file descriptors: a symlink is never followed, and is
  unlinked (as a link) only if relsim wrote it.
* What relsim wrote into an output folder is recorded in ``.relsim-outputs``
  with each entry's identity (inode, size, modification time). A name whose
  entry no longer matches (a user file, a copied or cloned folder, a crafted
  listing) stays; everything left is named in a one-line note on stderr.
* A folder below the path the user gave (a store's ``steps/``, the default
  ``analysis/``) that is a symlink is refused with :class:`OutputError`; so is
  an existing folder where a file is expected, and the reverse; and so is,
  in a staged output, an existing entry with an output's name that relsim did
  not write (a user's own ``summary.csv`` is never overwritten; a file relsim
  wrote there is refreshed by a rerun, edited or not).
* Files are written under a temporary name starting with ``.relsim-tmp-``
  and renamed into place (atomic), with the mode the user's umask gives
  (``0o666 & ~umask``), like any file a program creates.
* :class:`FolderLock` gives one process at a time a folder (a results store),
  with an ``O_EXCL`` lock file naming the owner's PID and host; a lock left by
  a dead process on this host is taken over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path

from relsim.util.errors import RelsimError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

#: The listing of what relsim wrote into an output folder.
OUTPUT_LIST = ".relsim-outputs"
#: Prefix of every temporary file or folder relsim creates (and may remove).
TEMP_PREFIX = ".relsim-tmp-"
#: Lock file of a folder owned by one process at a time (a results store).
LOCK_NAME = ".relsim-lock"
_LISTING_HEADER = "# relsim outputs v2: name<TAB>identity; only matching entries are replaced"
#: At most this many names in a note about what was left in place.
_NOTE_NAMES = 8


class OutputError(RelsimError):
    """An output path cannot be used (a user mistake: exit 2). The message names the path."""


class LockedError(OutputError):
    """The folder is in use by another relsim process."""


# ----------------------------------------------------------------------
# names and paths
# ----------------------------------------------------------------------
def single_name(name: object) -> bool:
    """True if ``name`` names one entry of a folder: not empty, ``.``, ``..``, no separator."""
    if not isinstance(name, str) or name in ("", ".", ".."):
        return False
    separators = {"/", "\0", os.sep} | ({os.altsep} if os.altsep else set())
    return not any(s in name for s in separators)


def slug(name: str, default: str = "scenario") -> str:
    """A folder name made from ``name``: lowercase letters, digits, ``-``, ``_`` and ``.``
    (not leading); ``default`` if nothing is left.

    >>> slug("../../Etc/My Shop"), slug("/abs/x"), slug(".."), slug("ecommerce")
    ('etc-my-shop', 'abs-x', 'scenario', 'ecommerce')
    """
    text = re.sub(r"[^a-z0-9_.-]+", "-", str(name).lower())
    text = re.sub(r"-*\.\.+-*", "-", text)          # no '..' anywhere
    text = text.lstrip(".-").rstrip("-")[:100].rstrip("-.")
    return text or default


def check_output_folder(target: Path) -> None:
    """Fail early, before any work, if ``target`` cannot be an output folder: a file, a broken link, below
    a file, or in a place where nothing can be created (a read-only folder or file system, ``/proc``)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out = {str(target)!r} is a file; give a folder")
    if not target.exists() and os.path.lexists(target):
        raise OutputError(f"--out = {str(target)!r} is a broken symbolic link; give a folder")
    here = target                       # the folder itself, or the nearest folder above it that exists
    while not os.path.lexists(here) and here.parent != here:
        here = here.parent
    if not here.is_dir():
        raise OutputError(f"--out = {str(target)!r}: {str(here)!r} is a file, not a folder")
    try:                                # can relsim create anything there? (a probe, removed at once)
        os.rmdir(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}probe-", dir=here))
    except OSError as error:
        raise OutputError(f"--out = {str(target)!r}: cannot write in {str(here)!r} ({error.strerror}); "
                          "give a folder you can write to") from None


def check_output_file(target: Path) -> None:
    """Fail early, before any work, if ``target`` is an existing folder (a file is expected)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"--out = {str(target)!r} is a folder; give a file name (nothing was changed)")


def _may_replace(recorded: Mapping[str, str], name: str, old: os.stat_result, new_is_folder: bool = False) -> bool:
    """Whether relsim may replace the existing entry ``name`` (``old``) with an output of that name: a file
    only if ``.relsim-outputs`` names it (relsim wrote it; a rerun refreshes it, edited or not), anything
    where a folder is involved only if it is still exactly what relsim wrote."""
    if name not in recorded:
        return False
    if stat.S_ISDIR(old.st_mode) or new_is_folder:
        return recorded[name] == _identity(old)
    return True


def _not_relsims(path: Path, old: os.stat_result, new_is_folder: bool) -> OutputError:
    what = "a folder" if stat.S_ISDIR(old.st_mode) else "a file"
    changed = " (or that changed since)" if stat.S_ISDIR(old.st_mode) or new_is_folder else ""
    instead = "a folder" if new_is_folder else "a file"
    return OutputError(f"{str(path)!r} is {what} relsim did not write{changed}; relsim would replace it with "
                       f"{instead} of the same name (move it away or choose another --out; nothing was changed)")


def check_replaceable(target: Path, folder: bool = False) -> None:
    """Fail early, before any work, if ``target`` exists and relsim may not replace it with its output (a
    ``folder`` or a file; see :func:`staged_output`, which checks again when it moves the output in)."""
    target = Path(target)
    info = _lstat(target)
    if info is not None and not _may_replace(read_listing(target.parent), target.name, info, folder):
        raise _not_relsims(target, info, folder)


def check_no_links(base: Path, target: Path) -> None:
    """Refuse if a path component of ``target`` below ``base`` (the path the user gave)
    is a symlink, or is not a folder. ``base`` itself may be a link: the user asked for it."""
    base, target = Path(base), Path(target)
    try:
        parts = target.relative_to(base).parts
    except ValueError:
        raise OutputError(f"{str(target)!r} is not inside {str(base)!r}") from None
    here = base
    for part in parts:
        if not single_name(part):
            raise OutputError(f"{str(target)!r}: {part!r} is not a plain folder name")
        here = here / part
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            return                                   # created later, by relsim
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{str(here)!r} is a symbolic link; relsim does not write through links it "
                              f"was not given (remove the link, or give the folder it points to)")
        if not stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{str(here)!r} is not a folder")


def ensure_folder(base: Path, *names: str) -> Path:
    """``base/names...``, created if missing, every component below ``base`` a real folder."""
    target = Path(base).joinpath(*names)
    check_no_links(base, target)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{str(target)!r} is not a folder") from None
    check_no_links(base, target)                     # a link made meanwhile
    return target


# ----------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def file_mode() -> int:
    """The mode of a new file: ``0o666`` less the user's umask (what ``open`` gives)."""
    return 0o666 & ~_umask()


def atomic_write(target: Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, then rename the file onto ``target`` (atomic).

    The temporary sits next to ``target`` as ``.relsim-tmp-<name>.*`` and gets
    the mode of :func:`file_mode`; on any error it is removed and ``target``
    is unchanged.
    """
    target = Path(target)
    handle, temporary = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent)
    try:
        os.fchmod(handle, file_mode())
        os.close(handle)
        handle = -1
        write(temporary)
        if target.is_dir() and not target.is_symlink():
            raise OutputError(f"{str(target)!r} is a folder; relsim would replace it with a file")
        os.replace(temporary, target)
    except BaseException:
        if handle >= 0:
            os.close(handle)
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(text: str, target: Path) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically (see :func:`atomic_write`)."""
    return atomic_write(Path(target), lambda path: Path(path).write_text(text, encoding="utf-8"))


def exclusive_write_text(text: str, target: Path) -> bool:
    """Create ``target`` with ``text`` atomically, only if it does not exist yet.

    The text goes to a temporary file that is then hard-linked to ``target``
    (atomic, and failing if ``target`` exists): of several processes racing,
    exactly one creates it, and nobody ever sees a partial file.

    Returns
    -------
    bool
        True if this call created ``target``, False if it existed.
    """
    target = Path(target)
    handle, temporary = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent)
    try:
        os.fchmod(handle, file_mode())
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


#: Formats :func:`atomic_write_table` writes (xlsx needs openpyxl).
TABLE_FORMATS = ("parquet", "csv", "json", "xlsx")


def atomic_write_table(table, target: Path, fmt: str) -> Path:
    """Write the DataFrame ``table`` as ``fmt`` to ``target`` atomically: ``parquet``,
    ``csv``, ``json`` (an array of records, missing values as null, dates ISO) or
    ``xlsx`` (one sheet; needs openpyxl)."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"unknown table format {fmt!r}; allowed: {', '.join(TABLE_FORMATS)}")

    def write(path: str) -> None:
        if fmt == "parquet":
            table.to_parquet(path, index=False)
        elif fmt == "csv":
            table.to_csv(path, index=False)
        elif fmt == "json":
            table.to_json(path, orient="records", date_format="iso", indent=1)
        else:
            table.to_excel(path, index=False, engine="openpyxl")
    return atomic_write(Path(target), write)


# ----------------------------------------------------------------------
# removing
# ----------------------------------------------------------------------
def _identity(info: os.stat_result) -> str:
    """What identifies an entry relsim wrote: kind, inode and, for files, size and time."""
    if stat.S_ISDIR(info.st_mode):
        return f"d:{info.st_dev}:{info.st_ino}"
    kind = "l" if stat.S_ISLNK(info.st_mode) else "f"
    return f"{kind}:{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


@contextlib.contextmanager
def _folder_fd(folder: Path) -> Iterator[int]:
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield handle
    finally:
        os.close(handle)


def remove_entry(folder: Path, name: str,
                 recorded: Mapping[str, str] | Collection[str] | None = None) -> bool:
    """Remove the entry ``name`` of ``folder`` if, and only if, relsim wrote it.

    Parameters
    ----------
    folder : Path
        The folder (already checked by the caller; never a path component below it).
    name : str
        One entry name (no separator, not ``.``/``..``/empty).
    recorded : mapping or collection, optional
        What relsim recorded writing: name → identity (the entry must still
        match it), or a collection of names the caller itself wrote (run
        files of a store). Default: the folder's ``.relsim-outputs`` listing.
        Temporaries (``.relsim-tmp-*``) always count as relsim's.

    Returns
    -------
    bool
        True if the entry is gone (removed, or absent), False if it was left.
    """
    if not single_name(name) or name == OUTPUT_LIST or name == LOCK_NAME:
        return False
    if recorded is None:
        recorded = read_listing(folder)
    with _folder_fd(Path(folder)) as handle:
        try:
            info = os.stat(name, dir_fd=handle, follow_symlinks=False)
        except FileNotFoundError:
            return True
        if not name.startswith(TEMP_PREFIX):
            if isinstance(recorded, Mapping):
                if recorded.get(name) != _identity(info):
                    return False
            elif name not in recorded:
                return False
        try:
            if stat.S_ISLNK(info.st_mode) or stat.S_ISREG(info.st_mode):
                os.unlink(name, dir_fd=handle)
            elif stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, dir_fd=handle)     # fd-based: never follows a link inside
            else:
                return False                           # a device, socket or pipe: never relsim's
        except FileNotFoundError:
            pass
    return True


def remove_temporaries(folder: Path) -> list[str]:
    """Remove relsim's own temporaries (``.relsim-tmp-*``) from ``folder``; nothing else."""
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for name in names:
        if name.startswith(TEMP_PREFIX) and remove_entry(folder, name, ()):
            removed.append(name)
    return removed


def note_left(folder: Path, names: list[str], why: str) -> None:
    """One line on stderr naming what relsim left in place in ``folder``, and why."""
    if not names:
        return
    shown = ", ".join(repr(n) for n in names[:_NOTE_NAMES])
    more = f" and {len(names) - _NOTE_NAMES} more" if len(names) > _NOTE_NAMES else ""
    print(f"relsim: note: left in place in {str(folder)!r} ({why}): {shown}{more}", file=sys.stderr)


# ----------------------------------------------------------------------
# the listing of an output folder, and staged outputs
# ----------------------------------------------------------------------
def read_listing(folder: Path) -> dict[str, str]:
    """Names relsim recorded writing into ``folder``, with their identities.

    Lines of an older listing (names without identity) map to ``""``, which
    matches no entry: relsim cannot tell they are still its own.
    """
    path = Path(folder) / OUTPUT_LIST
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return {}
        with os.fdopen(handle, "r", encoding="utf-8", errors="replace") as stream:
            handle = -1
            text = stream.read(1_000_000)
    finally:
        if handle >= 0:
            os.close(handle)
    entries: dict[str, str] = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        name, _, identity = line.partition("\t")
        entries[name] = identity.strip()
    return entries


def write_listing(folder: Path, entries: Mapping[str, str]) -> None:
    """Record ``entries`` (name → identity) as what relsim wrote into ``folder``."""
    lines = [_LISTING_HEADER] + [f"{name}\t{identity}" for name, identity in sorted(entries.items())
                                 if single_name(name) and "\n" not in name and "\t" not in name]
    atomic_write_text("\n".join(lines) + "\n", Path(folder) / OUTPUT_LIST)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def staged_output(target: Path, replace_previous: bool = True) -> Iterator[Path]:
    """A temporary folder inside ``target`` whose entries move into ``target`` only if
    the block succeeds.

    With ``replace_previous`` the entries an earlier relsim command wrote into
    ``target`` (recorded in ``.relsim-outputs``, and unchanged since) and this
    one did not write are removed, so the folder never mixes two runs'
    outputs. Entries relsim did not write, or that changed since, are never
    removed; they are named in a note. An entry of ``target`` with the name
    of an output is replaced only if relsim wrote it (a file listed in
    ``.relsim-outputs``; where a folder is involved, either way round, it must
    also be unchanged since); otherwise :class:`OutputError`, and nothing moves. A failed
    block leaves ``target`` as it was (and removes it if it did not exist).
    """
    target = Path(target)
    check_output_folder(target)
    existed = os.path.lexists(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}staging-", dir=target))
    except OSError as error:
        raise OutputError(f"cannot write to {str(target)!r}: {error.strerror}") from None
    try:
        yield staging
        written = sorted(os.listdir(staging))
        recorded = read_listing(target)
        # first every conflict, so that nothing moves if one entry cannot be placed
        # (an entry of the same name that relsim did not write is never replaced: a user's summary.csv in
        # --out is the user's data)
        for name in written:
            old, new = _lstat(target / name), os.lstat(staging / name)
            if old is not None and not _may_replace(recorded, name, old, stat.S_ISDIR(new.st_mode)):
                raise _not_relsims(target / name, old, stat.S_ISDIR(new.st_mode))
        left = []
        if replace_previous:
            for name in recorded:
                if name in written or name == OUTPUT_LIST:
                    continue
                if not single_name(name):
                    left.append(name)
                elif not remove_entry(target, name, recorded):
                    left.append(name)
        for name in written:
            old = _lstat(target / name)
            if old is not None and (stat.S_ISDIR(old.st_mode) or stat.S_ISDIR(os.lstat(staging / name).st_mode)):
                remove_entry(target, name, recorded)
            os.replace(staging / name, target / name)
        entries = {} if replace_previous else {
            name: identity for name, identity in recorded.items()
            if name not in written and single_name(name) and (info := _lstat(target / name)) is not None
            and _identity(info) == identity}
        for name in written:
            entries[name] = _identity(os.lstat(target / name))
        write_listing(target, entries)
        note_left(target, left, "listed in .relsim-outputs but not written by relsim here, or changed since")
    except BaseException:
        if not existed:
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def quarantine_entry(folder: Path, name: str, quarantine: Path) -> Path | None:
    """Move the regular file ``folder/name`` into the folder ``quarantine`` (created; a
    real folder), under a free name; never a link, folder or device. Returns the new path,
    or None if the entry is gone or not a regular file."""
    if not single_name(name):
        return None
    try:
        info = os.lstat(Path(folder) / name)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    quarantine = Path(quarantine)
    quarantine.mkdir(parents=True, exist_ok=True)
    if quarantine.is_symlink() or not quarantine.is_dir():
        raise OutputError(f"{str(quarantine)!r} is not a folder; relsim puts damaged files there")
    target = quarantine / name
    number = 1
    while os.path.lexists(target):
        target = quarantine / f"{name}.{number}"
        number += 1
    os.rename(Path(folder) / name, target)
    return target


# ----------------------------------------------------------------------
# one owner at a time
# ----------------------------------------------------------------------
@contextlib.contextmanager
def _guard(folder: Path) -> Iterator[None]:
    """Serialise the lock's own bookkeeping between processes (``flock`` on the folder;
    released by the kernel even if the process dies)."""
    with _folder_fd(folder) as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:       # a zombie (dead, not yet reaped by its parent) holds nothing
        with open(f"/proc/{pid}/stat", encoding="ascii") as status:
            return status.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class FolderLock:
    """An exclusive lock on ``folder``: the file ``.relsim-lock``, created with ``O_EXCL``,
    holding the owner's PID, host and what it does.

    A second process refuses with :class:`LockedError` naming the owner; a
    lock left by a dead process on this host (or a half-written one) is taken
    over. A lock from another host is never taken over: its owner cannot be
    checked (delete the file if no sweep runs there).
    """

    def __init__(self, folder: Path, doing: str = "") -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.doing = doing
        self.token: str | None = None

    def _owner(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as stream:
                owner = json.loads(stream.read(100_000))
            return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None
        except (OSError, ValueError):
            return None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock; if another process holds it, wait up to ``wait`` seconds (a note on
        stderr names the owner), then refuse with :class:`LockedError`."""
        deadline = time.monotonic() + max(wait, 0.0)
        noted = False
        while True:
            try:
                return self._acquire_once()
            except LockedError as error:
                if time.monotonic() >= deadline:
                    if noted:
                        raise LockedError(f"{error} (waited {wait:g} s)") from None
                    raise
                if not noted:
                    print(f"relsim: note: waiting up to {wait:g} s for the lock: {error}", file=sys.stderr,
                          flush=True)
                    noted = True
                time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))

    def _acquire_once(self) -> None:
        host = socket.gethostname()
        with _guard(self.folder):
            for _ in range(2):
                try:
                    handle = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                     | getattr(os, "O_NOFOLLOW", 0), file_mode())
                except FileExistsError:
                    owner = self._owner()
                    if owner is None or (owner.get("host") == host and not _alive(owner["pid"])):
                        os.unlink(self.path)            # stale: its process is gone (under the guard)
                        continue
                    raise LockedError(
                        f"{str(self.folder)!r} is in use by relsim process {owner['pid']} on {owner.get('host')!r}"
                        f" since {owner.get('started', '?')} ({owner.get('doing') or 'a sweep'}); wait for it "
                        f"to finish, or, if it is no longer running, delete {str(self.path)!r}") from None
                token = secrets.token_hex(8)
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump({"pid": os.getpid(), "host": host, "token": token, "doing": self.doing,
                               "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}, stream)
                    stream.flush()
                    os.fsync(stream.fileno())
                self.token = token
                return
            raise LockedError(f"cannot take the lock {str(self.path)!r}")

    def release(self) -> None:
        if self.token is None:
            return
        with _guard(self.folder):
            owner = self._owner()
            if owner is not None and owner.get("token") == self.token:
                os.unlink(self.path)
        self.token = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *_) -> None:
        self.release()
