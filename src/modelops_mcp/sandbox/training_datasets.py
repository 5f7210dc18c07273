"""Reading the dataset files uploaded to the emulated Training Module: CSV, JSON Lines or a JSON array.

The real server loads them with the ``datasets`` library; the emulator only needs to tell a usable table
from an unusable file and count its rows, with a reason a user can act on when it refuses one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass

__all__ = ["Dataset", "DatasetError", "DatasetFile", "load_dataset_file"]


class DatasetError(ValueError):
    """A file that is not a usable table; the message names the file and says why."""


@dataclass(frozen=True)
class DatasetFile:
    name: str
    rows: int
    size: int  # bytes as uploaded
    sha256: str  # hex digest of the bytes as uploaded, so tests can check nothing was altered in transit


@dataclass(frozen=True)
class Dataset:
    train: DatasetFile
    test: DatasetFile

    def to_json(self) -> dict[str, str | int]:
        return {
            "train_file": self.train.name,
            "train_rows": self.train.rows,
            "test_file": self.test.name,
            "test_rows": self.test.rows,
        }


def _json_array_rows(text: str) -> int:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(rows, list) or not rows:
        raise DatasetError("a JSON array of objects needs at least one object")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DatasetError(f"item {index} of the JSON array is not an object")
    return len(rows)


def _json_lines_rows(text: str) -> int:
    rows = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"line {number} is not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DatasetError(f"line {number} is not a JSON object")
        rows += 1
    return rows


def _csv_rows(text: str) -> int:
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise DatasetError(f"malformed CSV ({exc})") from None
    if len(rows) < 2:
        raise DatasetError("a CSV file needs a header row and at least one data row")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise DatasetError(f"CSV row {number} has {len(row)} fields, the header has {width}")
    return len(rows) - 1


def _count_rows(data: bytes) -> int:
    if not data.strip():
        raise DatasetError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError("the file is not UTF-8 text") from None
    # Valid UTF-8 can still be binary (zip headers, images); a NUL byte never occurs in a text table.
    if "\x00" in text:
        raise DatasetError("the file is binary, not a text table")
    start = text.lstrip()[0]
    if start == "[":
        return _json_array_rows(text)
    if start == "{":
        return _json_lines_rows(text)
    return _csv_rows(text)


def load_dataset_file(name: str, data: bytes) -> DatasetFile:
    """The uploaded file ``name`` as a table; raises ``DatasetError`` saying why when it is not one."""
    try:
        rows = _count_rows(data)
    except DatasetError as exc:
        raise DatasetError(f"{name}: {exc}") from None
    return DatasetFile(name=name, rows=rows, size=len(data), sha256=hashlib.sha256(data).hexdigest())
