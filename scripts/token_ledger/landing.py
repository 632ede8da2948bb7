"""Landing entry point used by the CLI: open the private warehouse and land paths."""

from __future__ import annotations

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.identity import normalize_email
from token_ledger.land import LandReport, land_files
from token_ledger.land.detect import discover
from token_ledger.progress import bar
from token_ledger.pseudonym import configure


def land_paths(home: Home, paths: list[str], fmt: str = "auto", user: str | None = None) -> LandReport:
    user = normalize_email(user) if user is not None else None
    files = discover(paths)
    with warehouse.private(home) as con:
        configure(con, home.root)
        progress = bar("land", len(files))
        try:
            return land_files(con, files, fmt=fmt, user=user, progress=progress)
        finally:
            progress.close()
