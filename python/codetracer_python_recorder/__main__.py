"""``python -m codetracer_python_recorder``: see :mod:`codetracer_python_recorder.cli`."""

from .launcher import launch

launch()
