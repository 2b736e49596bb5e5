"""`python -m release_check` (with `scripts/` on the path): see `cli.main`."""

from .cli import main

raise SystemExit(main())
