"""Independent readers of each source format: the totals a file holds, computed in Python."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

KINDS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def otel_totals(paths: list[Path]) -> Counter:
    seen, totals = set(), Counter()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            for resource in json.loads(line)["resourceLogs"]:
                for scope in resource["scopeLogs"]:
                    for record in scope["logRecords"]:
                        if record["body"]["stringValue"] != "claude_code.api_request":
                            continue
                        attrs = {a["key"]: next(iter(a["value"].values())) for a in record["attributes"]}
                        if attrs["request_id"] in seen:
                            continue
                        seen.add(attrs["request_id"])
                        totals["requests"] += 1
                        totals["input_tokens"] += int(attrs["input_tokens"])
                        totals["output_tokens"] += int(attrs["output_tokens"])
                        totals["cache_read_tokens"] += int(attrs["cache_read_tokens"])
                        totals["cache_write_tokens"] += int(attrs["cache_creation_tokens"])
    return totals


def transcript_totals(paths: list[Path]) -> Counter:
    """Each message (message id + request id) once, at its largest usage (as ccusage counts a
    streamed message, whose earlier lines carry part of its output)."""
    largest: dict[tuple, dict] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            message = entry.get("message") or {}
            usage = message.get("usage")
            if not usage or message.get("model") == "<synthetic>":
                continue
            counts = {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"],
                      "cache_read_tokens": usage.get("cache_read_input_tokens", 0),
                      "cache_write_tokens": usage.get("cache_creation_input_tokens", 0)}
            key = (message.get("id"), entry.get("requestId"))
            if key not in largest or sum(counts.values()) > sum(largest[key].values()):
                largest[key] = counts
    totals = Counter(requests=len(largest))
    for counts in largest.values():
        totals.update(counts)
    return totals


def litellm_totals(paths: list[Path]) -> Counter:
    seen, totals = set(), Counter()
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["status"] == "failure" or row["request_id"] in seen:
                    continue
                seen.add(row["request_id"])
                usage = json.loads(row["metadata"] or "{}").get("usage_object", {})
                cached = usage.get("prompt_tokens_details", {}).get("cached_tokens") or usage.get(
                    "cache_read_input_tokens", 0)
                created = usage.get("cache_creation_input_tokens", 0)
                totals["requests"] += 1
                totals["input_tokens"] += int(row["prompt_tokens"]) - cached - created
                totals["output_tokens"] += int(row["completion_tokens"])
                totals["cache_read_tokens"] += cached
                totals["cache_write_tokens"] += created
    return totals


def _results(paths: list[Path]) -> list[dict]:
    results = []
    for path in paths:
        for bucket in json.loads(path.read_text(encoding="utf-8"))["data"]:
            results += bucket["results"]
    return results


def anthropic_report_totals(paths: list[Path]) -> Counter:
    totals = Counter()
    for result in _results(paths):
        totals["input_tokens"] += result["uncached_input_tokens"]
        totals["output_tokens"] += result["output_tokens"]
        totals["cache_read_tokens"] += result.get("cache_read_input_tokens", 0)
        cache = result.get("cache_creation", {})
        totals["cache_write_tokens"] += cache.get("ephemeral_5m_input_tokens", 0) + cache.get(
            "ephemeral_1h_input_tokens", 0)
    return totals


def openai_usage_totals(paths: list[Path]) -> Counter:
    totals = Counter()
    for result in _results(paths):
        totals["requests"] += result["num_model_requests"]
        # OpenAI's API reference: input_tokens includes the cached tokens and the cache writes
        writes = result.get("input_cache_write_tokens", 0)
        totals["input_tokens"] += result["input_tokens"] - result.get("input_cached_tokens", 0) - writes
        totals["output_tokens"] += result["output_tokens"]
        totals["cache_read_tokens"] += result.get("input_cached_tokens", 0)
        totals["cache_write_tokens"] += writes
    return totals
