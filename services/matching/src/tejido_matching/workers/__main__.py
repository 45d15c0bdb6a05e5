"""Entry point of a matching worker process: ``python -m tejido_matching.workers``.

Settings come from ``TEJIDO_MATCHING_*`` variables (the same database and NATS as the API);
``TEJIDO_MATCHING_WORKER_NAME`` names it (default: host and process id)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from tejido_common.db import Database
from tejido_common.logging import configure_logging
from tejido_common.migrations import upgrade
from tejido_matching.settings import MatchingSettings
from tejido_matching.workers.worker import MatchingWorker

MIGRATIONS = Path(__file__).parent.parent / "migrations"


async def main() -> None:
    settings = MatchingSettings()
    configure_logging(f"{settings.service_name}-worker", settings.log_level, settings.log_json)
    db = Database(settings.resolved_database_url(), settings.resolved_schema())
    # Workers may start before the API: the snapshot tables must exist (migrations are idempotent).
    await asyncio.to_thread(upgrade, db, MIGRATIONS)
    name = os.environ.get("TEJIDO_MATCHING_WORKER_NAME") or f"worker-{socket.gethostname()}-{os.getpid()}"
    worker = MatchingWorker(settings, db, name=name)
    await worker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await worker.stop()
    db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
