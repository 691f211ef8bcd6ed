"""Durable jobs: any computing route run in the background on a Redis-backed saq queue.

The gateway validates, seeds and enqueues (``api/routes/jobs.py``); a separate worker process
(``python -m gateway.jobs``) runs the same upstream calls the synchronous routes make and
stores the same JSON. Jobs live in their own Redis (AOF on, no eviction), never the cache.
"""
