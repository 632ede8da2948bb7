"""Recognise a file's format from its content (`--format auto`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from token_ledger.errors import LedgerError
from token_ledger.land.contents import ZSTD_MAGIC, compression, data_suffix, framed, is_framed, open_data
from token_ledger.land.formats import FORMATS
from token_ledger.land.readers import csv_delimiter


class EmptyFile(LedgerError):
    """A file with nothing in it yet (an exporter that has not written): skipped, not recorded."""


TEXT_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
# compressions a file's first bytes show; gzip and zstd are read, from a name ending .gz or .zst
COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", ZSTD_MAGIC: "zstd", b"PK\x03\x04": "zip",
              b"\xfd7zXZ\x00": "xz"}
PROTO = ("an OpenTelemetry Collector file exporter's file written with format: proto (each export after its "
         "length); land what it writes as JSON lines: format json")


def _length_prefixed(path: Path, magic: bytes) -> bool:
    """A file of messages each after its length (4 bytes, big-endian), from its first bytes
    `magic`: text never starts with a NUL byte, and the first length fits in the file."""
    return len(magic) >= 5 and magic[0] == 0 and 0 < int.from_bytes(magic[:4], "big") <= path.stat().st_size - 4


def unreadable(path: Path) -> str:
    """Why a compressed file that does not decompress cannot be used."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if framed(head):
        return f"{path}: not a readable OpenTelemetry Collector zstd file (corrupt, or cut short)"
    if _length_prefixed(path, head):  # named .gz, say, by whoever set up the Collector
        return f"{path}: {PROTO}"
    return f"{path}: not a readable {compression(path)} file (corrupt, or cut short)"


def _is_data(path: Path) -> bool:
    """A file a folder is searched for: a text format's file, as written, compressed or rotated, or Parquet."""
    return data_suffix(path) in TEXT_SUFFIXES or path.suffix.lower() == ".parquet"


def discover(paths: list[str]) -> tuple[list[Path], int]:
    """Files named, and data files found recursively in folders, in a stable order; and how
    many other files the folders hold (hidden ones not counted), which are not read."""
    found: list[Path] = []
    passed_over = 0
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            visible = [p for p in path.rglob("*") if p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(path).parts)]
            data = sorted(p for p in visible if _is_data(p))
            found += data
            passed_over += len(visible) - len(data)
        elif path.is_file():
            found.append(path)
        else:
            raise LedgerError(f"{path}: no such file or folder")
    return found, passed_over


def _first_lines(path: Path, limit: int = 50) -> list[str]:
    """The file's first non-blank lines (a byte-order mark removed)."""
    lines: list[str] = []
    with open_data(path) as handle:
        for raw in handle:
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
            if line:
                lines.append(line)
                if len(lines) == limit:
                    break
    return lines


# a value no header names a column with: a number, an email address, a date
DATA_VALUE = re.compile(r"[-+]?[0-9]+([.][0-9]+)?|[^@\s]+@[^@\s]+|[0-9]{4}-[0-9]{2}-[0-9]{2}.*")


def _csv_format(header: str, path: Path) -> str:
    columns = {c.strip().strip('"').lower() for c in header.split(csv_delimiter(header))}
    for name, spec in FORMATS.items():
        if any(required <= columns for required in spec.detect.csv_columns):
            return name
    if any(DATA_VALUE.fullmatch(column) for column in columns):
        raise LedgerError(f"{path}: line 1 is a record, not a header: a CSV is read by its header row "
                          "(Snowflake's unload writes one with HEADER = TRUE)")
    raise LedgerError(f"{path}: line 1: CSV header matches no known format; pass --format")


def _json_format(doc: object, path: Path, line: int) -> str:
    if isinstance(doc, list) and doc:  # an array of pages: the first decides
        doc = doc[0]
    if not isinstance(doc, dict):
        raise LedgerError(f"{path}: line {line} is JSON but not an object; format not recognised")
    for name, spec in FORMATS.items():
        if spec.detect.json and spec.detect.json(doc):
            return name
    raise LedgerError(f"{path}: line {line} matches no known format; pass --format")


def detect(path: Path) -> str:
    """The format of `path`, from its content: the first record that parses and matches a
    format decides (a bad first line does not hide the format of the rest)."""
    with open_data(path) as handle:
        magic = handle.read(8)
    packed = next((name for start, name in COMPRESSED.items() if magic.startswith(start)), None)
    if packed:
        named = "under a name ending .zst" if packed == "zstd" else "gzipped under a name ending .gz"
        raise LedgerError(f"{path}: {packed}-compressed; land it decompressed, or {named}")
    # protobuf exports, each after its length, compressed each (a Collector's framed zstd) or not
    if (not compression(path) and _length_prefixed(path, magic)) or (magic[:1] != b"{" and is_framed(path)):
        raise LedgerError(f"{path}: {PROTO}")
    if magic.startswith((b"\xff\xfe", b"\xfe\xff")):  # a UTF-16 byte-order mark: Excel's "Unicode Text"
        raise LedgerError(f"{path}: UTF-16 text; save it as UTF-8 (in Excel: CSV UTF-8)")
    if magic.startswith(b"PAR1") or data_suffix(path) == ".parquet":
        if compression(path):
            raise LedgerError(f"{path}: a {compression(path)}-compressed Parquet file; land it decompressed (Parquet "
                              "compresses itself)")
        return next(name for name, spec in FORMATS.items() if spec.detect.parquet)
    lines = _first_lines(path)
    if not lines:
        raise EmptyFile(f"{path}: empty file")
    looks_json = data_suffix(path) in {".json", ".jsonl", ".ndjson"} or any(
        line.startswith(("{", "[")) for line in lines)
    if not looks_json:
        return _csv_format(lines[0], path)
    unmatched: LedgerError | None = None
    for number, line in enumerate(lines, start=1):
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        # a line that is a string, a number or an object of no format may be a value inside a
        # pretty-printed document (a record's tags, one per line): the next lines, or the
        # document as a whole, decide
        if isinstance(doc, dict) or (isinstance(doc, list) and doc and isinstance(doc[0], dict)):
            try:
                return _json_format(doc, path, number)
            except LedgerError as exc:
                unmatched = unmatched or exc
    if data_suffix(path) == ".json":
        try:
            with open_data(path) as handle:
                doc = json.loads(handle.read().decode("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LedgerError(f"{path}: not valid JSON (line {getattr(exc, 'lineno', 1)})") from exc
        return _json_format(doc, path, 1)
    if unmatched:
        raise unmatched
    raise LedgerError(f"{path}: none of the first {len(lines)} lines is a JSON object; format not recognised")
