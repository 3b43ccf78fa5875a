"""``python -m demo [--dir DIR] [--orders N]``."""

from demo.run import main

raise SystemExit(main())
