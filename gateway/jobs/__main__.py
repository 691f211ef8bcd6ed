"""Run a job worker: ``python -m gateway.jobs`` (settings from ZUHUR_JOBS_* and ZUHUR_GATEWAY_*).

SIGTERM: the worker takes no new job, gives its running ones ZUHUR_JOBS_DRAIN_SECONDS to
finish, and puts the rest back in the queue without using up an attempt; a killed worker's
jobs are retried (an attempt counted) once their heartbeat lapses.
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
