"""Run a job worker: ``python -m gateway.jobs`` (settings from ZUHUR_JOBS_* and ZUHUR_GATEWAY_*).

SIGTERM puts the running jobs back in the queue (another attempt resumes them); a killed
worker's jobs are retried once their heartbeat lapses.
"""

from __future__ import annotations

import asyncio

from prometheus_client import start_http_server

from gateway.jobs.config import JobSettings
from gateway.jobs.worker import build_worker
from services.common import logs, telemetry


async def serve(settings: JobSettings) -> None:
    worker = build_worker(settings)
    await worker.queue.connect()
    try:
        await worker.start()
    finally:
        await worker.queue.disconnect()


def main() -> None:
    settings = JobSettings()
    logs.configure(settings.log_level, "zuhur-jobs")
    telemetry.setup("zuhur-jobs")
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
