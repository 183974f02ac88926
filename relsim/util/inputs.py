"""Every file relsim reads from a user goes through one gate, with one message style.

A file must be a regular file (not ``/dev/zero``, a pipe or a folder), no
larger than a sane limit, and — for text — UTF-8. Structured data read from
it (TOML, JSON) must not nest deeper than :data:`MAX_DEPTH`. Each refusal
raises the caller's error class (a :class:`relsim.util.errors.RelsimError`)
with a one-line message that starts with the file's path::

    bad.toml: not UTF-8 text (byte 0xff at position 12); scenario files must be UTF-8
    /dev/zero: not a regular file; give a scenario file

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.toml"
>>> _ = path.write_bytes(b"name = '\\xe9'")
>>> read_text(path, "scenario")
Traceback (most recent call last):
...
relsim.util.inputs.InputError: ...a.toml: not UTF-8 text (byte 0xe9 at position 8); scenario files must be UTF-8
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from relsim.util.errors import RelsimError

#: Largest text file (scenario, experiment) relsim reads.
MAX_TEXT_BYTES = 10 * 1024 * 1024
#: Deepest nesting of tables and arrays accepted in a TOML or JSON file.
MAX_DEPTH = 32
#: Largest table (transaction log, population file; CSV or Parquet) relsim reads.
MAX_TABLE_BYTES = 2 * 1024 ** 3
#: Bytes read at a time when a CSV file is checked (whole lines are checked together).
_CHUNK = 1 << 20
#: Separators other than the comma a CSV header may reveal, with their names.
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars", " ": "spaces"}


class InputError(RelsimError):
    """An input file cannot be read (the default error class of this module)."""


def _a(what: str) -> str:
    """``what`` with its article: "a scenario", "an experiment"."""
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def check_regular_file(path: str | Path, what: str, error: type[RelsimError] = InputError,
                       max_bytes: int | None = None) -> int:
    """Refuse ``path`` unless it is an existing regular file of at most ``max_bytes``; its size.

    A device (``/dev/zero``), a pipe, a socket or a folder is refused before
    anything is read from it, so relsim never reads without end.
    """
    try:
        info = os.stat(path)
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a folder; give {_a(what)} file") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or socket); give {_a(what)} file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise error(f"{path}: {info.st_size / 1e6:.1f} MB is too large for a {what} file "
                    f"(at most {max_bytes / 1e6:.0f} MB)")
    return info.st_size


def read_text(path: str | Path, what: str, error: type[RelsimError] = InputError,
              max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` (``error`` otherwise), without the
    byte-order mark some editors put first."""
    check_regular_file(path, what, error, max_bytes)
    try:
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem.strerror})") from None
    if len(data) > max_bytes:       # grew since the check
        raise error(f"{path}: too large for a {what} file (at most {max_bytes / 1e6:.0f} MB)")
    try:
        text = data.decode("utf-8-sig")    # a byte-order mark (Notepad's UTF-8) is not part of the text
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not UTF-8 text (byte 0x{data[problem.start]:02x} at position {problem.start}); "
                    f"{what} files must be UTF-8") from None
    if "\0" in text:
        raise error(f"{path}: not a text file (it holds NUL bytes); {what} files are UTF-8 text")
    return text


def check_csv_text(path: str | Path, what: str, error: type[RelsimError] = InputError,
                   max_bytes: int = MAX_TABLE_BYTES) -> int:
    """Refuse a CSV file unless it is a regular file of at most ``max_bytes`` of UTF-8 text; its size.

    The file is read in chunks of whole lines (a large log is not held twice);
    the message names the line of the first byte that is not UTF-8 or is NUL
    (a binary file, or UTF-16 text)::

        log.csv: not UTF-8 text (line 3: byte 0xe9); transaction log files must be UTF-8 ...

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = path.write_bytes(b"customer,date,amount\\nbob,2024-01-02,3\\n\\xff\\xfe,x,1\\n")
    >>> check_csv_text(path, "transaction log")
    Traceback (most recent call last):
    ...
    relsim.util.inputs.InputError: ...log.csv: not UTF-8 text (line 3: byte 0xff); transaction log files ...
    """
    size = check_regular_file(path, what, error, max_bytes)
    try:
        with open(path, "rb") as stream:
            head = stream.read(2)
            if head in (b"\xff\xfe", b"\xfe\xff"):
                raise error(f"{path}: UTF-16 text; {what} files must be UTF-8 (save it as UTF-8 CSV)")
            stream.seek(0)
            line, rest = 1, b""
            while True:
                chunk = stream.read(_CHUNK)
                data = rest + chunk
                cut = len(data) if not chunk else data.rfind(b"\n") + 1
                if cut == 0:   # a line longer than a chunk: cut before its last, maybe partial, character
                    cut = next((i for i in range(len(data) - 1, max(len(data) - 5, -1), -1)
                                if not 0x80 <= data[i] < 0xC0), len(data))
                whole, rest = data[:cut], data[cut:]
                zero = whole.find(b"\0")
                if zero >= 0:
                    at = line + whole.count(b"\n", 0, zero)
                    raise error(f"{path}: not a text file (a NUL byte on line {at}; binary data or UTF-16?); "
                                f"{what} files are UTF-8 text")
                try:
                    whole.decode("utf-8")
                except UnicodeDecodeError as problem:
                    at = line + whole.count(b"\n", 0, problem.start)
                    raise error(f"{path}: not UTF-8 text (line {at}: byte 0x{whole[problem.start]:02x}); {what} "
                                "files must be UTF-8 (convert it, e.g. iconv -f latin1 -t utf-8)") from None
                line += whole.count(b"\n")
                if not chunk:
                    return size
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem.strerror})") from None


def check_csv_header(path: str | Path, columns: Any, what: str, error: type[RelsimError] = InputError) -> None:
    """Refuse a CSV file whose header is one column holding another separator (``;``, tab, ``|``, space)."""
    names = [str(name) for name in columns]
    if len(names) != 1:
        return
    for separator, name in _SEPARATORS.items():
        if separator in names[0]:
            raise error(f"{path}: the header {names[0]!r} is one column separated by {name}; {what} files "
                        "are comma-separated CSV (save it with commas as separators)")


def check_csv_fields(path: str | Path, table: Any, what: str, error: type[RelsimError] = InputError) -> None:
    """Refuse a CSV table read by pandas whose first row has more fields than its header names.

    pandas then takes the first column as the rows' labels and shifts every value one column to the left
    (``customer`` holds the dates, ``date`` the amounts), so the checks that follow would blame the wrong
    column; the usual cause is a comma at the end of every line.
    """
    import pandas as pd

    if isinstance(table.index, pd.RangeIndex):
        return
    names = ", ".join(repr(str(name)) for name in table.columns)
    raise error(f"{path}: line 2 has more fields than the header names ({len(table.columns)}: {names}); a comma "
                f"at the end of the lines, or an unquoted comma inside a value? {what} files have one field per "
                "column on every line")


def depth(value: Any) -> int:
    """Nesting depth of dicts and lists in ``value`` (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH + 1:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_depth(value: Any, path: str | Path, what: str, error: type[RelsimError] = InputError) -> None:
    """Refuse data nested deeper than :data:`MAX_DEPTH` tables/arrays."""
    if depth(value) > MAX_DEPTH:
        raise error(f"{path}: tables or arrays nested more than {MAX_DEPTH} deep; not a {what} file")


def read_toml(path: str | Path, what: str, error: type[RelsimError] = InputError) -> tuple[dict, str]:
    """A TOML file's data and text, through every check above (``error`` names the file)."""
    import tomllib

    text = read_text(path, what, error)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None
    except RecursionError:
        raise error(f"{path}: tables or arrays nested too deep (at most {MAX_DEPTH}); "
                    f"not a {what} file") from None
    check_depth(data, path, what, error)
    return data, text


def read_json(path: str | Path, what: str, error: type[RelsimError] = InputError,
              max_bytes: int = MAX_TEXT_BYTES) -> Any:
    """A JSON file's data through the same checks (regular, size, UTF-8, depth)."""
    import json

    text = read_text(path, what, error, max_bytes)
    try:
        data = json.loads(text)
    except RecursionError:
        raise error(f"{path}: nested too deep (at most {MAX_DEPTH}); not a {what} file") from None
    except ValueError as problem:
        raise error(f"{path}: not valid JSON ({problem}); not a {what} file") from None
    check_depth(data, path, what, error)
    return data
