"""The sync engine: plan (pure) → execute exactly once → record durable outcomes.

* ``planner``  -- canonical order + what was posted → intended writes (posting policy, lifecycle);
* ``executor`` -- intents before, results after; adoption by business key after a crash;
* ``journal``  -- records and their history, intents, bindings, conflicts, audit (the store);
* ``runner``   -- one pipeline run: lease, pages, checkpoints, retries, replay, webhooks;
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
