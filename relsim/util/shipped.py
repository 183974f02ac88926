"""Where the shipped scenarios and experiments are: the one place that finds them.

They are package data (``relsim/scenario/shipped/*.toml`` and
``relsim/studies/shipped_experiments/NAME/experiment.toml``), found through
:mod:`importlib.resources`, so they are there after a plain ``pip install``
as well as in a checkout (where the top-level ``scenarios/`` and
``experiments/`` folders are symbolic links to these package folders; see
docs/architecture.md).

>>> shipped_path("scenario", "ecommerce").name
'ecommerce.toml'
>>> "ecommerce" in shipped_names("scenario")
True
>>> shipped_path("experiment", "wom_seeding").relative_to(shipped_folder("experiment")).as_posix()
'wom_seeding/experiment.toml'
>>> shipped_path("scenario", "no_such_market") is None
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

Kind = Literal["scenario", "experiment"]

#: kind → (folder inside the relsim package, file of NAME inside that folder)
_LAYOUT: dict[str, tuple[tuple[str, ...], str]] = {
    "scenario": (("scenario", "shipped"), "{name}.toml"),
    "experiment": (("studies", "shipped_experiments"), "{name}/experiment.toml"),
}


def shipped_folder(kind: Kind) -> Path:
    """The folder holding the shipped files of ``kind`` ("scenario" or "experiment")."""
    parts, _ = _LAYOUT[kind]
    # pip installs relsim as plain files, so the resource is a real folder;
    # only relsim itself is named here, so no other package is imported
    return Path(str(files("relsim").joinpath(*parts)))


def shipped_path(kind: Kind, name: str) -> Path | None:
    """The file of the shipped ``kind`` called ``name``, or None if there is none."""
    _, pattern = _LAYOUT[kind]
    if not name or any(sep in name for sep in ("/", "\\")) or name.startswith("."):
        return None
    path = shipped_folder(kind) / pattern.format(name=name)
    return path if path.is_file() else None


def shipped_names(kind: Kind) -> list[str]:
    """Names of the shipped files of ``kind``, sorted."""
    folder = shipped_folder(kind)
    if kind == "scenario":
        return sorted(path.stem for path in folder.glob("*.toml"))
    return sorted(path.parent.name for path in folder.glob("*/experiment.toml"))
