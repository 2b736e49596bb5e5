"""The workload driven through the recorder's API: start(), work, stop().

The harness passes the trace directory in CODETRACER_HARNESS_TRACE_DIR (and
the format in CODETRACER_HARNESS_FORMAT); without it, as in the untraced
baseline, the program runs untraced. After stop() it prints "stopped", so a
stop() that raises shows up as a missing last line.

Usage: api_workload.py [ROUNDS]
"""

import os
import sys

from workload import main

trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
if trace_dir:
    import codetracer_python_recorder as recorder

    recorder.start(trace_dir, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))

main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
# Keep calling functions after whatever happened inside the recording.
print("after work", sum(len(str(n)) for n in range(100)))
sys.stdout.flush()

if trace_dir:
    recorder.stop()
print("stopped")
