"""Progress bars on a terminal, silence elsewhere (cron, CI, pipes)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def on_terminal() -> bool:
    return sys.stderr.isatty()


def track(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar when stderr is a terminal."""
    yield from tqdm(items, desc=desc, total=total, disable=not on_terminal(), unit="file", leave=False)


def bar(desc: str, total: int) -> tqdm:
    """A manual progress bar (call .update(n)); disabled off a terminal."""
    return tqdm(desc=desc, total=total, disable=not on_terminal(), leave=False)
