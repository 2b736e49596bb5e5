"""Calls flush() and then stop() through the recorder's API and prints what
each did, so a recorder bug (InternalError) that flush() raises into the
program, or one that surfaces twice, shows on stdout. Any other recorder
error is left uncaught, as a program that does not expect it would. Untraced
(no CODETRACER_HARNESS_TRACE_DIR), both calls are skipped and print "ok".
"""

import os

trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
Bug = ()
if trace_dir:
    import codetracer_python_recorder as recorder

    Bug = recorder.InternalError
    recorder.start(trace_dir, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))


def square(n):
    return n * n


total = sum(square(n) for n in range(50))
for step in ("flush", "stop"):
    try:
        if trace_dir:
            getattr(recorder, step)()
        print(f"{step}: ok")
    except Bug as error:
        print(f"{step}: {type(error).__name__} {error.code}")
print("total", total)
