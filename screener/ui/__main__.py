"""``python -m screener.ui [--demo DIR] [--watch DIR] ...``: the workstation window."""

from screener.ui.app import main

raise SystemExit(main())
