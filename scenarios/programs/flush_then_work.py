"""Records a little, calls flush(), prints how far it got, then keeps
working until the harness's kill arrives (or finishes, untraced).

The harness passes the trace directory in CODETRACER_HARNESS_TRACE_DIR (and
the format in CODETRACER_HARNESS_FORMAT); without it, as in the untraced
baseline, the program runs untraced.
"""

import os
import sys

from workload import main

trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
if trace_dir:
    import codetracer_python_recorder as recorder

    recorder.start(trace_dir, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))

main(3)
if trace_dir:
    recorder.flush()
print("flushed")
sys.stdout.flush()
main(200)

if trace_dir:
    recorder.stop()
print("stopped")
