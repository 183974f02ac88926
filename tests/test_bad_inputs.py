"""Bad tables refused at the boundary (issue 14): transaction logs (``relsim calibrate``) and
per-customer population files (``[population] file`` of a scenario, ``relsim run``).

Every case goes through ``relsim.cli.main`` in process and must end with exit 2,
one ``relsim: error:`` message that names the file and the line, field or value
and what is allowed, no traceback, and nothing written. The last cases re-run
the reproducers of the issue not kept elsewhere (``test_hardening*.py``,
``test_fuzz.py``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main

ROOT = Path(__file__).resolve().parent.parent

GOOD_LOG = "customer,date,amount\n" + "".join(
    f"C{i % 9},2024-{1 + i % 6:02d}-{1 + i % 27:02d},{10 + i % 13}.5\n" for i in range(60))


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = new
    return "".join(lines)


#: name → (file bytes, words the message must hold)
LOGS: dict[str, tuple[bytes, list[str]]] = {
    "latin-1": (_replace_line(GOOD_LOG, 5, "caf\xe9,2024-01-02,3\n").encode("latin-1"),
                ["not UTF-8", "line 5", "0xe9", "must be UTF-8"]),
    "utf-16": (GOOD_LOG.encode("utf-16"), ["UTF-16", "must be UTF-8"]),
    "utf-16 without mark": (GOOD_LOG.encode("utf-16-le"), ["NUL byte on line 1", "UTF-8 text"]),
    "binary": (bytes(range(256)) * 8, ["not a text file", "line 1"]),
    "nul in a row": (_replace_line(GOOD_LOG, 4, "C1,2024-01\0-02,3\n").encode(), ["NUL byte on line 4"]),
    "semicolons": (GOOD_LOG.replace(",", ";").encode(), ["'customer;date;amount'", "semicolons",
                                                         "comma-separated"]),
    "tabs": (GOOD_LOG.replace(",", "\t").encode(), ["tabs", "comma-separated"]),
    "spaces": (GOOD_LOG.replace(",", "  ").encode(), ["spaces", "comma-separated"]),
    "missing column": (GOOD_LOG.replace("amount", "value", 1).encode(),
                       ["missing column(s) 'amount'", "'value'", "--amount-column"]),
    "NaN amount": (_replace_line(GOOD_LOG, 7, "C1,2024-01-02,nan\n").encode(),
                   ["amount", "not a number", "line 7: 'nan'"]),
    "infinite amount": (_replace_line(GOOD_LOG, 3, "C1,2024-01-02,1e400\n").encode(),
                        ["amount", "not a finite number", "line 3: '1e400'"]),
    "negative amount": (_replace_line(GOOD_LOG, 9, "C1,2024-01-02,-4\n").encode(),
                        ["amount", "zero or negative", "line 9: '-4'"]),
    "empty amount": (_replace_line(GOOD_LOG, 9, "C1,2024-01-02,\n").encode(),
                     ["amount", "not a number", "line 9: empty"]),
    "unparsable date": (_replace_line(GOOD_LOG, 4, "C1,2024-13-45,3\n").encode(),
                        ["date", "not an ISO 8601 date", "line 4: '2024-13-45'", "--date-format"]),
    # a real date, but not a purchase: one such row moved the fitted parameters without a word
    "year 1200": (_replace_line(GOOD_LOG, 8, "C1,1200-01-02,3\n").encode(),
                  ["date", "before 1900-01-01 or after 2199-12-31", "line 8: '1200-01-02'"]),
    "placeholder date": (_replace_line(GOOD_LOG, 8, "C1,9999-12-31,3\n").encode(),
                         ["date", "a placeholder", "line 8: '9999-12-31'"]),
    "ragged row": (_replace_line(GOOD_LOG, 6, "C1,2024-01-02,3,4,5\n").encode(),
                   ["cannot read the log as CSV", "line 6", "saw 5"]),
    # pandas took the first column as row labels and blamed 'date' for the amounts (issue: s9-input)
    "trailing commas": (GOOD_LOG.replace("\n", ",\n").replace("amount,", "amount", 1).encode(),
                        ["line 2 has more fields than the header names", "'customer', 'date', 'amount'",
                         "a comma at the end of the lines"]),
    "extra field on the first row": (_replace_line(GOOD_LOG, 2, "C1,2024-01-02,3,4\n").encode(),
                                     ["line 2 has more fields than the header names"]),
    "empty file": (b"", ["empty", "name the columns"]),
    "header only": (b"customer,date,amount\n", ["no rows"]),
}


def calibrate(log: Path, out: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["calibrate", str(log), "--calibration-end", "2024-04-30", "--margin", "0.3",
                 "--out", str(out / "cal.toml"), *extra])
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, out: Path, *words: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    assert err.startswith("relsim: error: "), err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists(), f"{out} was written"


@pytest.mark.parametrize("case", list(LOGS))
def test_bad_transaction_log(case, tmp_path, capsys):
    data, words = LOGS[case]
    log = tmp_path / "log.csv"
    log.write_bytes(data)
    code, err = calibrate(log, tmp_path / "out", capsys)
    assert_refused(code, err, tmp_path / "out", str(log), *words)


def test_good_log_passes_the_same_gate(tmp_path):
    """The checks can pass: the log all the cases mutate is read whole."""
    from relsim.calibration.transactions import read_log
    log = tmp_path / "log.csv"
    log.write_text(GOOD_LOG)
    assert len(read_log(log)) == 60
    log.write_bytes(b"\xef\xbb\xbf" + GOOD_LOG.encode())   # a UTF-8 byte order mark is UTF-8
    assert len(read_log(log)) == 60


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_log_too_large(suffix, tmp_path, capsys, monkeypatch):
    from relsim.calibration import transactions
    log = tmp_path / f"log{suffix}"
    if suffix == ".csv":
        log.write_text(GOOD_LOG)
    else:
        pd.read_csv(io.StringIO(GOOD_LOG)).to_parquet(log)
    monkeypatch.setattr(transactions, "MAX_TABLE_BYTES", 1000)
    code, err = calibrate(log, tmp_path / "out", capsys)
    assert_refused(code, err, tmp_path / "out", str(log), "too large", "at most")


def test_log_that_is_a_folder_or_device(tmp_path, capsys):
    folder = tmp_path / "logs.csv"
    folder.mkdir()
    code, err = calibrate(folder, tmp_path / "out", capsys)
    assert_refused(code, err, tmp_path / "out", "logs.csv", "folder")
    code, err = calibrate(Path("/dev/zero"), tmp_path / "out", capsys)
    assert_refused(code, err, tmp_path / "out", "/dev/zero", "not a regular file")


# ----------------------------------------------------------------------- population files
SCENARIO = """name = "people"
[market]
customers = 3
weeks = 2
[[segments]]
name = "all"
share = 1.0
[[suppliers]]
name = "S"
[[firms]]
name = "F"
supplier = "S"
[population]
file = "people.csv"
"""
GOOD_PEOPLE = "need_rate,purchases,first_week,last_purchase_week\n0.1,1,-3,-1\n0.2,0,,\n0.3,2,-5,-2\n"

PEOPLE: dict[str, tuple[bytes, list[str]]] = {
    "latin-1": (GOOD_PEOPLE.replace("0.2,0,,", "0.2,0,,").encode() + "caf\xe9".encode("latin-1"),
                ["not UTF-8", "line 5", "population files must be UTF-8"]),
    "utf-16": (GOOD_PEOPLE.encode("utf-16"), ["UTF-16"]),
    "binary": (b"\x00\x01\x02" * 50, ["not a text file"]),
    "semicolons": (GOOD_PEOPLE.replace(",", ";").encode(), ["semicolons", "comma-separated"]),
    "missing need_rate": (GOOD_PEOPLE.replace("need_rate", "rate").encode(), ["unknown column(s) 'rate'"]),
    "no need_rate": (b"purchases\n0\n0\n0\n", ["required column 'need_rate'"]),
    "NaN need_rate": (GOOD_PEOPLE.replace("0.2,0", "nan,0").encode(), ["need_rate", "line 3: 'nan'", "> 0"]),
    "huge need_rate": (GOOD_PEOPLE.replace("0.2,0", "1e308,0").encode(), ["need_rate", "<= 50"]),
    "negative purchases": (GOOD_PEOPLE.replace("0.2,0", "0.2,-1").encode(), ["purchases", "line 3: '-1'"]),
    "infinite purchases": (GOOD_PEOPLE.replace("0.3,2", "0.3,inf").encode(), ["purchases", "line 4: 'inf'"]),
    "text week of a prospect": (GOOD_PEOPLE.replace("0.2,0,,", "0.2,0,soon,").encode(),
                                ["first_week", "not a number", "line 3: 'soon'"]),
    "infinite week": (GOOD_PEOPLE.replace("0.3,2,-5", "0.3,2,-inf").encode(),
                      ["first_week", "line 4: '-inf'", "from -100000 to 0"]),
    "ragged row": (GOOD_PEOPLE.replace("0.2,0,,", "0.2,0,,,,").encode(), ["cannot read", "line 3"]),
    "trailing commas": (GOOD_PEOPLE.replace("\n", ",\n").replace("last_purchase_week,", "last_purchase_week",
                                                                   1).encode(),
                        ["line 2 has more fields than the header names", "a comma at the end of the lines"]),
    "empty": (b"", ["empty"]),
}


@pytest.mark.parametrize("case", list(PEOPLE))
def test_bad_population_file(case, tmp_path, capsys):
    data, words = PEOPLE[case]
    (tmp_path / "people.csv").write_bytes(data)
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "s.toml"), "--out", str(out)])
    assert_refused(code, capsys.readouterr().err, out, "people.csv", *words)


def test_good_population_runs(tmp_path, capsys):
    (tmp_path / "people.csv").write_text(GOOD_PEOPLE)
    (tmp_path / "s.toml").write_text(SCENARIO)
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "summary.csv").exists()


def test_customers_flag_with_a_population_file(tmp_path, capsys):
    """``--customers`` cannot resize a market whose customers are a file's rows: the error says so
    and names the flag (it used to name only ``market.customers`` and the row count)."""
    (tmp_path / "people.csv").write_text(GOOD_PEOPLE)
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "s.toml"), "--customers", "5", "--out", str(out)])
    assert_refused(code, capsys.readouterr().err, out, "people.csv", "cannot resize to 5 customers",
                   "3 customers", "drop --customers")


def test_population_too_large(tmp_path, capsys, monkeypatch):
    from relsim.scenario import population
    (tmp_path / "people.csv").write_text(GOOD_PEOPLE)
    (tmp_path / "s.toml").write_text(SCENARIO)
    monkeypatch.setattr(population, "MAX_TABLE_BYTES", 20)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "s.toml"), "--out", str(out)])
    assert_refused(code, capsys.readouterr().err, out, "people.csv", "too large", "at most")


# ----------------------------------------------------------------------- the other reproducers
def test_distributor_reach_inf_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "b2b", "--set", "distributors.0.reach=inf", "--out", str(out)])
    assert_refused(code, capsys.readouterr().err, out, "b2b.toml", "distributors[0].reach", "finite")


def test_dense_network_of_a_million_is_refused_before_it_is_built(tmp_path, capsys, monkeypatch):
    """mean_degree = 200 at 10^6 customers used to die allocating; on a machine with 4 GiB
    available it is refused from the estimate, at once."""
    import time

    from relsim.util import resources
    monkeypatch.setattr(resources, "available_memory", lambda: 4 * 1024 ** 3)
    out = tmp_path / "out"
    started = time.monotonic()
    code = main(["run", "ecommerce", "--customers", "1000000", "--set", "market.network.mean_degree=200",
                 "--out", str(out)])
    assert time.monotonic() - started < 60
    assert_refused(code, capsys.readouterr().err, out, "memory", "mean_degree", "--yes")


def test_ten_million_customers_are_announced_before_the_run(tmp_path, capsys, monkeypatch):
    """10^7 customers fit in memory here but take long: the estimate is printed before the run
    starts (the run itself is replaced by a stop, to keep the test short)."""
    from relsim.market import runner
    from relsim.util import resources
    from relsim.util.errors import RelsimError
    monkeypatch.setattr(resources, "available_memory", lambda: 1024 ** 4)

    def stop(*_, **__):
        raise RelsimError("stopped by the test before the run")
    monkeypatch.setattr(runner, "simulate", stop)
    out = tmp_path / "out"
    code = main(["run", "ecommerce", "--customers", "10000000", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "will take about" in err and "of memory" in err, err
    assert err.index("will take about") < err.index("stopped by the test")
    assert not out.exists()


def test_calibrate_out_is_a_folder(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text(GOOD_LOG)
    folder = tmp_path / "existing.toml"
    folder.mkdir()
    code = main(["calibrate", str(log), "--calibration-end", "2024-04-30", "--margin", "0.3",
                 "--out", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "existing.toml" in err and "folder" in err, err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_csv_check_reads_in_chunks_without_splitting_characters(chunk, tmp_path, monkeypatch):
    """Chunks end at a line end, or inside a long line before a character's first byte: a
    character cut by a chunk is never taken for bad UTF-8, and the line of a bad byte is exact."""
    from relsim.util import inputs
    monkeypatch.setattr(inputs, "_CHUNK", chunk)
    path = tmp_path / "t.csv"
    text = "name,city\n" + "Zoë,Århus\n" * 3 + "€" * 40 + ",日本語\n"
    path.write_text(text, encoding="utf-8")
    assert inputs.check_csv_text(path, "test") == len(text.encode())
    path.write_bytes(text.encode() + "Zoë,Århus\n".encode() + b"caf\xe9,x\n")
    with pytest.raises(inputs.InputError, match=r"line 7: byte 0xe9"):
        inputs.check_csv_text(path, "test")
