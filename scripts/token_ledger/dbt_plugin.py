"""dbt-duckdb plugin: hands the pseudonym key's HMAC pads to each build connection.

They are set as DuckDB session variables (`ledger_hmac_inner`, `ledger_hmac_outer`) read by
the `pseudonymize` macro, so the key never appears in compiled SQL, logs or a DuckDB file.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from token_ledger.pseudonym import hmac_pads, resolve_key


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        home = os.environ.get("TOKEN_LEDGER_HOME")
        inner, outer = hmac_pads(resolve_key(Path(home) if home else None))
        conn.execute("set variable ledger_hmac_inner = ?", [inner])
        conn.execute("set variable ledger_hmac_outer = ?", [outer])
        conn.execute("set TimeZone = 'UTC'")
