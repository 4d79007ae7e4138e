"""Run the command line with ``python -m bci_app``."""

from bci_app.cli import main

raise SystemExit(main())
