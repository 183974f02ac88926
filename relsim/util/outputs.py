"""Output folders: every file relsim writes lands here, whole or not at all."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from relsim.util.errors import RelsimError


class OutputError(RelsimError):
    """The output folder cannot be used (a user mistake: exit 2)."""


OUTPUT_LIST = ".relsim-outputs"


def check_output_folder(target: Path) -> None:
    """Fail early, before any work, if ``target`` cannot be an output folder."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out = {str(target)!r} is a file; give a folder")


@contextlib.contextmanager
def staged_output(target: Path, replace_previous: bool = True) -> Iterator[Path]:
    """A temporary folder inside ``target`` whose files move into ``target`` only if
    the block succeeds.

    With ``replace_previous`` the files an earlier relsim command wrote into
    ``target`` (listed in ``.relsim-outputs``) and this one did not write are
    removed, so the folder never mixes two runs' outputs; files relsim did not
    write are never touched. A failed block leaves ``target`` as it was (and
    removes it if it did not exist before).
    """
    check_output_folder(target)
    existed = target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target))
    except OSError as error:
        raise OutputError(f"cannot write to {str(target)!r}: {error.strerror}") from None
    try:
        yield staging
        written = sorted(item.name for item in staging.iterdir())
        listing = target / OUTPUT_LIST
        if replace_previous and listing.exists():
            for name in listing.read_text().split("\n"):
                stale = target / name
                if name and name not in written and stale.exists() and stale.parent == target:
                    shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        for name in written:
            destination = target / name
            if destination.is_dir():
                shutil.rmtree(destination)
            (staging / name).replace(destination)
        if replace_previous:
            listing.write_text("\n".join(written) + "\n")
    except BaseException:
        if not existed:
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
