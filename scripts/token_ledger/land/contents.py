"""A file's contents as DuckDB's readers see them: a gzip (`.gz`) or zstd (`.zst`) file is its
decompressed text.

Rotated logs and object-store exports usually arrive compressed (`usage-2026-10-01.jsonl.gz`;
zstd from newer shippers, and from an OpenTelemetry Collector's file exporter with native
compression). DuckDB's readers decompress such a file themselves, chosen by its name; the few
places that look at a file in Python (its first bytes or lines, its line count) open it here,
so they see what those readers see.

A Collector's file exporter with `compression: zstd` and without its native compression frames
each export itself: compressed on its own, after its length (4 bytes, big-endian). No zstd
reader reads that; `open_data` gives its exports decompressed, one per line, whatever its name.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zstandard

# the compressions DuckDB's readers choose by a file's last suffix
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
# what decompressing a corrupt or cut-short file of either raises
UNREADABLE_ERRORS = (zlib.error, zstandard.ZstdError, EOFError)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
NEWLINE, QUOTE, RETURN = ord("\n"), ord('"'), ord("\r")
CHUNK = 1 << 22  # bytes read at a time where a file is scanned in Python
ROTATED = re.compile(r"(\.\d{1,3}|-\d{8}(\d{2})?)$")  # logrotate's numbered copies and its `dateext`


def compression(path: Path) -> str | None:
    """`gzip` or `zstd` for a file DuckDB's readers decompress (by its name), else None."""
    return COMPRESSIONS.get(path.suffix.lower())


def data_suffix(path: Path) -> str:
    """The suffix of the data inside: `.jsonl` for `usage.jsonl`, `usage.jsonl.gz`,
    `usage.jsonl.zst` and the copies log rotation leaves (`usage.jsonl.1`, `usage.jsonl.2.gz`,
    `usage.jsonl-20261203.gz`)."""
    name = path.name.lower()
    if compression(path):
        name = name.removesuffix(path.suffix.lower())
    return Path(ROTATED.sub("", name)).suffix


def framed(head: bytes) -> bool:
    """Whether a file's first 8 bytes (as stored) open a Collector's framed zstd file: a length,
    then a zstd frame. Text never starts with a NUL byte."""
    return len(head) >= 8 and head[0] == 0 and head[4:8] == ZSTD_MAGIC


def is_framed(path: Path) -> bool:
    with path.open("rb") as handle:
        return framed(handle.read(8))


def open_data(path: Path) -> BinaryIO:
    """The file's contents, decompressed if it is compressed (reading a corrupt one raises
    OSError, EOFError or zstandard.ZstdError; a zstd file cut short reads as far as it goes); a
    Collector's framed zstd file (`framed`, whatever its name) as its exports, one per line."""
    handle = path.open("rb")
    if framed(handle.peek(8)[:8]):
        return io.BufferedReader(_Stream(unframe(iter(lambda: handle.read(CHUNK), b"")), handle))
    kind = compression(path)
    if kind == "gzip":
        handle.close()
        return gzip.open(path, "rb")
    if kind == "zstd":  # every frame: a file may be several, as `cat a.zst b.zst` makes
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(handle, read_across_frames=True,
                                                                            closefd=True))
    return handle


class _Stream(io.RawIOBase):
    """A readable stream of the chunks an iterator yields; closing it closes `handle`."""

    def __init__(self, chunks: Iterator[bytes], handle: BinaryIO) -> None:
        super().__init__()
        self._chunks, self._handle, self._chunk, self._at = chunks, handle, b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._at == len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk, self._at = chunk, 0
        size = min(len(buffer), len(self._chunk) - self._at)
        buffer[:size] = memoryview(self._chunk)[self._at:self._at + size]
        self._at += size
        return size

    def close(self) -> None:
        self._handle.close()
        super().close()


def first_character(path: Path) -> bytes:
    """The first byte of the contents after a byte-order mark and white space (b"" if none in
    the first 4 KB): `{` or `[` opens JSON."""
    with open_data(path) as handle:
        return handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1]


def last_bytes(path: Path) -> bytes | None:
    """The last 4 KB of a file (all of a smaller one); None for a compressed file, whose end is
    known only once all of it is decompressed."""
    if compression(path):
        return None
    with path.open("rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - 4096))
        return handle.read()


def csv_records(path: Path) -> int:
    """How many CSV records a file holds, its header and blank lines included: its newlines
    outside double quotes (a quoted field may hold newlines; a quote inside one is doubled, so
    quotes come in pairs), and a last record without a newline. NumPy over 4 MB at a time
    (about 150 MB/s)."""
    return _scan_records(path)[0]


def csv_blank_records(path: Path) -> list[int]:
    """The blank lines of a CSV file (outside quoted fields) by record number, from 1: the
    rows a spreadsheet shows, a record spanning lines being one. DuckDB's CSV reader passes
    over them, and numbers the rows it rejects this way."""
    return _scan_records(path)[1]


def _scan_records(path: Path) -> tuple[int, list[int]]:
    """`csv_records` and `csv_blank_records` of a file, in one pass."""
    records, inside, last, offset, previous_end = 0, False, b"\n", 0, -1
    blanks: list[int] = []
    with open_data(path) as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            data = np.frombuffer(chunk, dtype=np.uint8)
            quoted = np.logical_xor.accumulate(data == QUOTE) ^ inside  # after each byte: inside quotes
            ends = np.flatnonzero((data == NEWLINE) & ~quoted)
            if ends.size:
                starts = np.concatenate(([previous_end + 1 - offset], ends[:-1] + 1))
                before = np.where(ends > 0, data[np.maximum(ends - 1, 0)], last[0] if last else NEWLINE)
                blank = (ends == starts) | ((ends == starts + 1) & (before == RETURN))  # "" or "\r"
                blanks += (np.flatnonzero(blank) + records + 1).tolist()
                records += int(ends.size)
                previous_end = int(ends[-1]) + offset
            inside, last, offset = bool(quoted[-1]), chunk[-1:], offset + len(chunk)
    return records + (0 if last == b"\n" else 1), blanks


def unframe(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The exports of a Collector's framed zstd file, from its chunks: each decompressed, ending
    a line. Raises zstandard.ZstdError when a frame is not zstd, EOFError when the file is cut
    short."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        start = 0
        while len(pending) - start >= 4:
            end = start + 4 + int.from_bytes(pending[start:start + 4], "big")
            if len(pending) < end:
                break
            yield b"".join(inflate([bytes(pending[start + 4:end])], "zstd")) + b"\n"
            start = end
        del pending[:start]
    if pending:
        raise EOFError("framed zstd file cut short")


def inflate(chunks: Iterable[bytes], kind: str) -> Iterator[bytes]:
    """The decompressed contents of a compressed file's chunks (`kind` gzip, zstd, or framed: a
    Collector's), every member or frame of it (a file may be several streams one after
    another, as `cat a.gz b.gz` makes). Raises zlib.error or zstandard.ZstdError when the data
    is not of that kind, EOFError when it is cut short."""
    if kind == "framed":
        yield from unframe(chunks)
        return
    new = _MEMBERS[kind]
    member, fed = new(), False
    for chunk in chunks:
        while chunk:
            fed = True
            yield member.decompress(chunk)
            if not member.eof:
                break
            chunk, member, fed = member.unused_data, new(), False
    if fed and not member.eof:
        raise EOFError(f"{kind} stream cut short")


_MEMBERS: dict[str, Callable[[], zlib._Decompress | zstandard.ZstdDecompressionObj]] = {
    "gzip": lambda: zlib.decompressobj(wbits=16 + zlib.MAX_WBITS),  # a gzip header and trailer
    "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),  # one frame
}
