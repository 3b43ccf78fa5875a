"""The chaos harness: the real CLI, killed and faulted, against emulators in their own processes.

``python -m bench.chaos`` (``make chaos`` runs ``--full``) proves exactly-once
at the edges from the emulators' own state: see docs/reliability.md.

Modules, one job each: ``serve`` (an emulator process), ``world`` (the emulators
and one config per book), ``worker`` (the CLI under test), ``scenarios`` (kills,
faults, tokens, concurrency, settling), ``verify`` (the verdict from the books),
``driver`` (the matrix), ``__main__`` (the table).
"""
