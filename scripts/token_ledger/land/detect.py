"""Recognise a file's format from its content (`--format auto`)."""

from __future__ import annotations

import json
from pathlib import Path

from token_ledger.errors import LedgerError

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


def _first_line(path: Path) -> str:
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                return line
    return ""


def _csv_format(header: str, path: Path) -> str:
    columns = {c.strip().strip('"').lower() for c in header.split(",")}
    if {"email", "team_id", "valid_from"} <= columns:
        return "people"
    if {"key_type", "key_id"} <= columns:
        return "api-key-owners"
    if {"request_id", "occurred_at"} <= columns:
        return "canonical"
    if {"call_type", "spend"} <= columns or {"request_id", "starttime"} <= columns:
        return "litellm-spendlogs"
    raise LedgerError(f"{path}: CSV header matches no known format (line 1)")


def _json_format(doc: object, path: Path) -> str:
    if not isinstance(doc, dict):
        raise LedgerError(f"{path}: line 1 is JSON but not an object; format not recognised")
    if "resourceLogs" in doc:
        return "claude-code-otel"
    if "occurred_at" in doc and "request_id" in doc:
        return "canonical"
    transcript_types = ("summary", "user", "assistant")
    if "sessionId" in doc or ("message" in doc and "uuid" in doc) or doc.get("type") in transcript_types:
        return "claude-code-jsonl"
    if "call_type" in doc or "spend" in doc or "startTime" in doc:
        return "litellm-spendlogs"
    data = doc.get("data")
    if isinstance(data, list):
        text = json.dumps(data[:3])
        if "uncached_input_tokens" in text or "starting_at" in text:
            return "anthropic-usage-report"
        if "num_model_requests" in text or "start_time" in text:
            return "openai-usage"
    raise LedgerError(f"{path}: line 1 matches no known format; pass --format")


def detect(path: Path) -> str:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1" or path.suffix.lower() == ".parquet":
        return "canonical"
    line = _first_line(path)
    if not line:
        raise LedgerError(f"{path}: empty file")
    if line.startswith("{"):
        try:
            return _json_format(json.loads(line), path)
        except json.JSONDecodeError:
            pass
        if path.suffix.lower() == ".json":
            try:
                return _json_format(json.loads(path.read_text(encoding="utf-8")), path)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise LedgerError(f"{path}: not valid JSON ({exc})") from exc
        raise LedgerError(f"{path}: line 1 is not valid JSON; format not recognised")
    return _csv_format(line, path)
