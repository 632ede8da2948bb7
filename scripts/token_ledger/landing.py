"""Landing entry point used by the CLI: open the private warehouse and land paths."""

from __future__ import annotations

import csv
from pathlib import Path

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.errors import LedgerError
from token_ledger.identity import normalize_email
from token_ledger.land import LandReport, land_files
from token_ledger.land.detect import discover
from token_ledger.progress import bar
from token_ledger.pseudonym import configure


def read_owners(path: str) -> dict[str, str]:
    """`--owners CSV`: columns `folder,user_email`, one row per person whose transcripts are
    in a folder of that name (folder name -> email in its normal form)."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LedgerError(f"--owners {path}: cannot be read ({type(exc).__name__})") from exc
    owners: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        folder, email = (row.get("folder") or "").strip(), row.get("user_email")
        if not folder or email is None:
            raise LedgerError(f"--owners {path}: line {line} needs the columns folder and user_email")
        if folder in owners:
            raise LedgerError(f"--owners {path}: line {line}: field folder is listed twice")
        owners[folder] = normalize_email(email, option=f"--owners {path}: line {line}: field user_email")
    return owners


def land_paths(home: Home, paths: list[str], fmt: str = "auto", user: str | None = None,
               owners: str | None = None) -> LandReport:
    """Land PATHs; `user` or `owners` (a CSV, `read_owners`) say whose transcripts they are."""
    user = normalize_email(user) if user is not None else None
    people = read_owners(owners) if owners else None
    files, passed_over = discover(paths)
    with warehouse.private(home) as con:
        configure(con, home.root)
        progress = bar("land", len(files))
        try:
            report = land_files(con, files, fmt=fmt, user=user, progress=progress, owners=people)
        finally:
            progress.close()
    report.files_passed_over = passed_over
    return report
