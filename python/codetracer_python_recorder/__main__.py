"""``python -m codetracer_python_recorder``: see :mod:`codetracer_python_recorder.cli`."""

import sys

from .cli import main

sys.exit(main())
