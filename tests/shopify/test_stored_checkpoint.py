"""Checkpoints a deployment stored before the Shopify source moved onto the kit's shared
watermark checkpoint still resume: the stored ``{"since", "seen"}`` JSON (written by the older
code, literally), the kit's own layout for the same position and a bare ISO time all hand
over exactly what that position means -- never the whole history, never a pair remembered as
handed over -- and the checkpoint written afterwards keeps the stored layout."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from ledgerbridge.canonical import EntityType
from ledgerbridge.incremental import Checkpoint, Watermark, instant_text, parse_instant
from ledgerbridge_shopify.emulator import create_app

from .helpers import ScaledClock, make_source


async def _read(source, checkpoint):
    changes, last = [], None
    async for page in source.changes(EntityType.ORDER, checkpoint, page_size=4):
        changes += page.changes
        last = page.checkpoint
    return [c.external_id for c in changes], last, {c.external_id: c.version for c in changes}


def test_stored_shopify_checkpoints_resume_where_they_stood() -> None:
    clock = ScaledClock(5000)
    app = create_app(orders=30, clock=clock.now)
    source = make_source(app=app, clock=clock, overlap_seconds=0)
    everything, _, stamps = asyncio.run(_read(source, None))
    assert len(everything) == 30 == len(stamps)
    mark = sorted(stamps.values())[15]
    at_mark = sorted(i for i, s in stamps.items() if s == mark)
    # what the older code wrote: json.dumps({"since", "seen"}, sort_keys=True), "...Z" stamps
    legacy = json.dumps({"since": mark, "seen": {at_mark[0]: mark}}, sort_keys=True)
    moment = parse_instant(mark)  # the kit's layout keeps instants as instant_text
    shared = Checkpoint({"updated": Watermark(moment, {at_mark[0]: instant_text(moment)})}).dumps()
    expected = {i for i, s in stamps.items() if s >= mark} - {at_mark[0]}

    got, last, _ = asyncio.run(_read(source, legacy))
    assert set(got) == expected and len(got) == len(expected)
    assert 0 < len(got) < 30  # resumed, not read from the start
    assert asyncio.run(_read(source, shared))[0] == got
    stored = json.loads(last or "{}")
    assert stored["since"] == max(stamps.values()) and set(stored) == {"since", "seen"}

    bare = (parse_instant(mark) + timedelta(seconds=1)).isoformat()
    later = asyncio.run(_read(source, bare))[0]
    assert set(later) == {i for i, s in stamps.items() if parse_instant(s) >= parse_instant(bare)}
    asyncio.run(source.aclose())
