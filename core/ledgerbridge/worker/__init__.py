"""Distributed mode: the engine's units of work as Celery tasks (docs/deployment.md).

``app`` builds the Celery application from ``ledgerbridge.yaml``'s ``workers:``
section; ``tasks`` are the units (a bounded share of a pipeline, a webhook event,
the retry sweep, closing summary days); ``dispatch`` decides what may be queued
(one task per pipeline, a budget per target account); ``runtime`` is the engine a
worker process keeps; ``cli`` adds ``ledgerbridge worker`` and ``ledgerbridge beat``.
"""
