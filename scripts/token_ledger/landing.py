"""Landing entry point used by the CLI: open the private warehouse and land paths."""

from __future__ import annotations

from collections.abc import Callable

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.identity import normalize_email
from token_ledger.land import LandReport, land_files
from token_ledger.land.detect import discover
from token_ledger.progress import bar
from token_ledger.pseudonym import configure


def land_paths(home: Home, paths: list[str], fmt: str = "auto", user: str | None = None,
               after_first_file: Callable[[], None] | None = None,
               after_bulk_insert: Callable[[], None] | None = None) -> LandReport:
    user = normalize_email(user) if user is not None else None
    files = discover(paths)
    with warehouse.private(home) as con:
        configure(con, home.root)
        progress = bar("land", len(files))
        try:
            report = land_files(con, files[:1], fmt=fmt, user=user, progress=progress,
                                after_bulk_insert=after_bulk_insert)
            if after_first_file:
                after_first_file()
            rest = land_files(con, files[1:], fmt=fmt, user=user, progress=progress,
                              after_bulk_insert=after_bulk_insert)
            return report.merge(rest)
        finally:
            progress.close()
