"""The kills scenario's plan: kills armed on committed writes fit in the book's writes.

A simulated book writes its plan (per write kind, in a shuffled order) while kills are armed
as the driver arms them; each kill must come round before the book is written out, so the
planned number lands whatever the machine's speed.
"""

from __future__ import annotations

import random

import pytest

from bench.chaos.scenarios import Budget, next_write_kill, planned_kills


def _simulate(plan: dict[str, int], budget: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    writes = [kind for kind, n in plan.items() for _ in range(n)]
    rng.shuffle(writes)
    done: dict[str, int] = {}
    want = planned_kills(Budget(kills=budget), plan)
    landed, position = 0, 0
    while landed < want:
        armed = dict(next_write_kill(plan, done, want - landed, rng))
        if not armed:
            break
        while position < len(writes):  # the run writes on until a rule fires
            write = writes[position]
            position += 1
            done[write] = done.get(write, 0) + 1
            for kind in [k for k in armed if k in ("*", write)]:
                armed[kind] -= 1
            if any(n == 0 for n in armed.values()):
                landed += 1
                break
        else:
            break  # the run ended clean: a miss
    return landed, want


@pytest.mark.parametrize("seed", range(500))
def test_every_planned_kill_lands_before_the_book_is_written_out(seed: int) -> None:
    rng = random.Random(seed)
    most = rng.choice([3, 10, 40])  # a book of few writes as well as a long one
    plan = {
        kind: rng.randint(0, most)
        for kind in ("create", "contact", "item", "payment", "mark_sent", "credit_note")
    }
    plan["create"] += 1
    landed, want = _simulate(plan, budget=rng.choice([4, 8]), seed=seed)
    assert landed == want


def test_a_book_with_fewer_writes_than_the_budget_plans_one_kill_per_write() -> None:
    assert planned_kills(Budget(kills=8), {"create": 3, "contact": 2}) == 5
    assert _simulate({"create": 3, "contact": 2}, budget=8, seed=1) == (5, 5)


def test_nothing_left_to_write_arms_nothing() -> None:
    assert next_write_kill({"create": 2}, {"create": 2}, 3, random.Random(0)) == []
