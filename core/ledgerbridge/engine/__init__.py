"""The sync engine: plan (pure) → execute exactly once → record durable outcomes.

* ``planner``  -- canonical order + what was posted → intended writes (posting policy, lifecycle);
* ``taxcheck`` -- before any write: would the target's tax arithmetic reach the source's total?
* ``executor`` -- intents before, results after; adoption by business key after a crash;
* ``journal``  -- records and their history, intents, bindings, conflicts, audit (the store);
* ``runner``   -- one pipeline run: pages, checkpoints, retries, replay, webhooks, dead credentials;
* ``daily``    -- the daily_summary policy's part of a run;
* ``lease``    -- one run of a pipeline at a time (a crashed holder on this host is taken over);
* ``engine``   -- the ``Engine`` API host products call.
"""

from .engine import Engine, PipelineStatus
from .planner import Operation, Plan, PlannedWrite, PriorState, plan_order
from .runner import PipelineBusy, RecordOutcome, RunReport

__all__ = [
    "Engine",
    "Operation",
    "PipelineBusy",
    "PipelineStatus",
    "Plan",
    "PlannedWrite",
    "PriorState",
    "RecordOutcome",
    "RunReport",
    "plan_order",
]
