"""``python -m playground``: the headless CLI."""

import sys

from playground.cli import main

sys.exit(main())
