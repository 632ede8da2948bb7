"""The pseudonym key: where it comes from, and the HMAC pads handed to DuckDB.

`user_key = HMAC-SHA256(key, lower(email))`. The key comes from
TOKEN_LEDGER_PSEUDONYM_KEY; in dev, when unset, one is generated once into
`<home>/secrets/pseudonym.key` (mode 600). With TOKEN_LEDGER_ENV=prod a missing key is an
error. The key reaches DuckDB only as session variables of the build connection (never
SQL text, logs or either DuckDB file).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from token_ledger.config import Home, env_name
from token_ledger.errors import LedgerError

KEY_ENV = "TOKEN_LEDGER_PSEUDONYM_KEY"
BLOCK_SIZE = 64  # SHA-256 block size in bytes
MIN_KEY_BYTES = 32  # key material a prod key must carry (a hex key counts two digits a byte)


def key_material(key: str) -> int:
    """Bytes of key material: a hex key (as `openssl rand -hex 32` makes) counts two digits a
    byte, any other text a byte per UTF-8 byte; a key of one repeated character counts one."""
    if len(set(key)) == 1:
        return 1
    if len(key) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in key):
        return len(key) // 2
    return len(key.encode("utf-8"))


def _key_file(root: Path) -> Path:
    return root / "secrets" / "pseudonym.key"


def resolve_key(home_root: Path | None) -> bytes:
    raw = os.environ.get(KEY_ENV, "").strip()
    if raw and env_name() == "prod" and key_material(raw) < MIN_KEY_BYTES:
        raise LedgerError(f"{KEY_ENV} is too weak for TOKEN_LEDGER_ENV=prod: it needs at least {MIN_KEY_BYTES} "
                          "bytes of key material (make one with `openssl rand -hex 32`)")
    if raw:
        return raw.encode("utf-8")
    if env_name() == "prod":
        raise LedgerError(f"{KEY_ENV} is not set; with TOKEN_LEDGER_ENV=prod the pseudonym key is required")
    if home_root is None:
        raise LedgerError(f"{KEY_ENV} is not set and no home folder is known")
    path = _key_file(home_root)
    if not path.exists():
        _create_key_file(path)
    key = path.read_text(encoding="utf-8").strip()
    if not re.fullmatch(r"[0-9a-f]{64}", key):  # never re-keyed silently: every user_key would change
        raise LedgerError(f"the development pseudonym key {path} is damaged; restore it, or delete it to start "
                          "over with new user_keys")
    return key.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Written whole or not at all (a temp file renamed), and never over a key another process
    created meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # fails if the key exists: the first one stays
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def key_environment(home: Home) -> dict[str, str]:
    """Environment for a dbt process: the key, resolved (and created in dev) up front."""
    return {KEY_ENV: resolve_key(home.root).decode("utf-8")}


def hmac_pads(key: bytes) -> tuple[str, str]:
    """The inner and outer HMAC pads as hex (RFC 2104), for SQL's sha256."""
    import hashlib

    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return inner.hex(), outer.hex()


def hmac_sql(expression: str) -> str:
    """SQL for HMAC-SHA256(key, lower(trim(expression))) on a connection set up by `configure`."""
    return (
        "sha256(unhex(getvariable('ledger_hmac_outer')) || unhex(sha256(unhex(getvariable('ledger_hmac_inner')) "
        f"|| encode(lower(trim({expression}))))))"
    )


def configure(con, home_root: Path) -> None:
    """Give a DuckDB connection the key's HMAC pads as session variables (never as SQL text)."""
    inner, outer = hmac_pads(resolve_key(home_root))
    con.execute("set variable ledger_hmac_inner = ?", [inner])
    con.execute("set variable ledger_hmac_outer = ?", [outer])
