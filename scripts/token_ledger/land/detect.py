"""Recognise a file's format from its content (`--format auto`)."""

from __future__ import annotations

import json
from pathlib import Path

from token_ledger.errors import LedgerError
from token_ledger.land.formats import FORMATS


class EmptyFile(LedgerError):
    """A file with nothing in it yet (an exporter that has not written): skipped, not recorded."""


DATA_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".parquet"}


def discover(paths: list[str]) -> list[Path]:
    """Files named, and data files found recursively in folders, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise LedgerError(f"{path}: no such file or folder")
    return found


def _first_lines(path: Path, limit: int = 50) -> list[str]:
    """The file's first non-blank lines (a byte-order mark removed)."""
    lines: list[str] = []
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
            if line:
                lines.append(line)
                if len(lines) == limit:
                    break
    return lines


def _csv_format(header: str, path: Path) -> str:
    columns = {c.strip().strip('"').lower() for c in header.split(",")}
    for name, spec in FORMATS.items():
        if any(required <= columns for required in spec.detect.csv_columns):
            return name
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
    """The format of `path`, from its content: the first record that parses decides (a bad
    first line does not hide the format of the rest)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1" or path.suffix.lower() == ".parquet":
        return next(name for name, spec in FORMATS.items() if spec.detect.parquet)
    lines = _first_lines(path)
    if not lines:
        raise EmptyFile(f"{path}: empty file")
    looks_json = path.suffix.lower() in {".json", ".jsonl", ".ndjson"} or any(
        line.startswith(("{", "[")) for line in lines)
    if not looks_json:
        return _csv_format(lines[0], path)
    for number, line in enumerate(lines, start=1):
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        return _json_format(doc, path, number)
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LedgerError(f"{path}: not valid JSON (line {getattr(exc, 'lineno', 1)})") from exc
        return _json_format(doc, path, 1)
    raise LedgerError(f"{path}: none of the first {len(lines)} lines is valid JSON; format not recognised")
