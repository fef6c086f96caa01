"""``python -m playground.loadtest``."""

from playground.loadtest.report import main

raise SystemExit(main())
