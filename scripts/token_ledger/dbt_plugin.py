"""dbt-duckdb plugin: hands the pseudonym key's HMAC pads to each build connection.

They are set as DuckDB session variables (`ledger_hmac_inner`, `ledger_hmac_outer`) read by
the `pseudonymize` macro, so the key never appears in compiled SQL, logs or a DuckDB file.
Session variables do not survive DuckDB's cursor copies, so every cursor gets them too; the
settings of `configure_session` (time zone, memory) hold for the whole database instance, so
the connection gets them once (dbt opens a cursor per node: 4 statements less on each).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from token_ledger.pseudonym import hmac_pads, resolve_key
from token_ledger.warehouse import configure_session


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        home = os.environ.get("TOKEN_LEDGER_HOME")
        self._pads = hmac_pads(resolve_key(Path(home) if home else None))

    def configure_connection(self, conn: Any) -> None:
        configure_session(conn)
        self.configure_cursor(conn)

    def configure_cursor(self, cursor: Any) -> None:
        inner, outer = self._pads
        cursor.execute("set variable ledger_hmac_inner = ?", [inner])
        cursor.execute("set variable ledger_hmac_outer = ?", [outer])
