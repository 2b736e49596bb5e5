"""The IO programs driven through the recorder's API: start(), the threads
printing in turns and the direct descriptor writes, stop(). Without
CODETRACER_HARNESS_TRACE_DIR (the untraced baseline) it runs untraced. After
stop() it prints "stopped", so a stop() that raises shows up as a missing
last line.

Usage: io_api.py [ROUNDS]   (default 20)
"""

import os
import sys

import io_fdwrite
import io_threads

trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
if trace_dir:
    import codetracer_python_recorder as recorder

    recorder.start(trace_dir, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
io_threads.main(rounds)
io_fdwrite.main(rounds)
sys.stdout.flush()

if trace_dir:
    recorder.stop()
print("stopped")
