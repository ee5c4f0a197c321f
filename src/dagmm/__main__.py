"""``python -m dagmm`` runs the command-line tool."""

import sys

from dagmm.cli import main

sys.exit(main())
