"""The table reader every perfmodel command uses: formats detected by content, user errors named."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.sources import parse_selector, resolve_source
from edgebench.perfmodel.table import read_config_file, table_from_frame

ROWS = [(1, 0, 10.5), (2, 0, 6.25), (4, 1, 3.5)]


def _write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


@pytest.mark.parametrize("text, newline, encoding", [
    ("threads,mask,latency_ms\n1,0,10.5\n2,0,6.25\n4,1,3.5\n", "\n", "utf-8"),
    ("threads,mask,latency_ms\n1,0,10.5\n2,0,6.25\n4,1,3.5\n", "\r\n", "utf-8-sig"),  # Excel on Windows
    ("threads;mask;latency_ms\n1;0;10.5\n2;0;6.25\n4;1;3.5\n", "\n", "utf-8"),
    ("threads;mask;latency_ms\n1;0;10,5\n2;0;6,25\n4;1;3,5\n", "\r\n", "utf-8"),  # a comma-decimal locale
    ("threads\tmask\tlatency_ms\n1\t0\t10,5\n2\t0\t6,25\n4\t1\t3,5\n", "\n", "utf-8"),  # tabs, decimal commas
    ("threads\tmask\tlatency_ms\n1\t0\t10.5\n2\t0\t6.25\n4\t1\t3.5\n", "\n", "utf-8"),
    ("# measured on a TX2\nthreads  mask   latency_ms\n 1 0  10.5\n2 0 6.25\n\n4    1 3.5\n", "\n", "utf-8"),
])
def test_csv_semicolon_tab_and_whitespace_tables_read_the_same(tmp_path: Path, text: str, newline: str,
                                                                 encoding: str):
    frame = read_config_file(_write(tmp_path / "t.txt", text, encoding, newline))
    assert list(frame.columns) == ["threads", "mask", "latency_ms"]
    assert [tuple(r) for r in frame.itertuples(index=False)] == ROWS


def test_parquet_is_known_by_its_bytes_not_its_name(tmp_path: Path):
    pd.DataFrame(ROWS, columns=["threads", "mask", "latency_ms"]).to_parquet(tmp_path / "t.csv")
    assert [tuple(r) for r in read_config_file(tmp_path / "t.csv").itertuples(index=False)] == ROWS


@pytest.mark.parametrize("content, message", [
    (None, "no file is there"),
    (b"threads,latency_ms\n", "a header line and at least one row"),
    (b"\xff\xfe\x00t\x00h", "not UTF-8 text and not Parquet"),
])
def test_unreadable_files_say_what_was_expected(tmp_path: Path, content: bytes | None, message: str):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        read_config_file(path)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"threads": [1, 2, 4], "abi": ["x86_64", "arm64", "arm64"], "ms": [3.0, 2.0, 1.5]})


@pytest.mark.parametrize("options, measure, frame_change, message", [
    (["threads", "cores"], "ms", None, r"no column 'cores'; the columns are: threads, abi, ms"),
    (["threads", "abi"], "ms", None, r"row 1, option 'abi': 'x86_64' is not a finite number"),
    (["threads"], "ms", ("threads", 1, None), r"row 2, option 'threads': an empty cell"),
    (["threads"], "ms", ("ms", 2, 0.0), r"row 3, measure 'ms'.*> 0"),
    (["threads"], "ms", ("ms", slice(None), 2.0), r"constant \(2 in all 3 rows\)"),
    (["threads"], "threads", None, "both as an option and as the measure"),
    ([" "], "ms", None, "name at least one option column"),
])
def test_bad_tables_name_the_column_row_and_value(options, measure, frame_change, message):
    frame = _frame().astype(object)
    if frame_change is not None:
        column, row, value = frame_change
        frame.loc[row, column] = value
    with pytest.raises(UsageError, match=message):
        table_from_frame(frame, options=options, measure=measure, source="t.csv")


def test_a_good_table_is_float_with_rows_named_from_one():
    table = table_from_frame(_frame(), options=["threads"], measure="ms", source="t.csv")
    assert table.x().tolist() == [[1.0], [2.0], [4.0]] and table.y().tolist() == [3.0, 2.0, 1.5]
    assert table.ids == ("1", "2", "3") and table.subset([2, 0]).ids == ("3", "1")


def test_selectors_and_files_are_told_apart(tmp_path: Path):
    assert parse_selector("session=abc, device=d1") == {"session": "abc", "device": "d1"}
    assert parse_selector("results.csv") is None and parse_selector("threads=1,size=3") is None
    with pytest.raises(UsageError, match="device= has no value"):
        parse_selector("session=abc,device=")
    with pytest.raises(UsageError, match="needs --options"):
        resolve_source(str(_write(tmp_path / "t.csv", "a,b\n1,2\n")), options=None, measure="b")
    with pytest.raises(UsageError, match="neither a file nor a store selector"):
        resolve_source("session=abc,colour=red", options=["a"], measure="b")
