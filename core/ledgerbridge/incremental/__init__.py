"""The connector kit's incremental-read parts: the shared watermark checkpoint
(``checkpoint``) and the polling helper that decides which listed records are new and maps
each under the core guard (``polling``)."""

from .checkpoint import (
    MAX_SEEN,
    Checkpoint,
    CheckpointUnreadable,
    Watermark,
    instant_text,
    parse_instant,
)
from .polling import Listing, Walk, poll

__all__ = [
    "MAX_SEEN",
    "Checkpoint",
    "CheckpointUnreadable",
    "Listing",
    "Walk",
    "Watermark",
    "instant_text",
    "parse_instant",
    "poll",
]
