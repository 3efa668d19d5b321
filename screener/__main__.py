"""``python -m screener`` runs the CLI."""

import sys

from screener.cli import main

sys.exit(main())
