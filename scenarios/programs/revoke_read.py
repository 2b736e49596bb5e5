"""The workload, with read permission on the trace directory taken away
halfway: mode 0333 still lets names be created, renamed and removed in it,
but the directory can no longer be opened, so the recorder's fsync of it
when it finishes fails with EACCES (for a process without
CAP_DAC_READ_SEARCH). When the directory does not exist, as in the untraced
run, it only runs the workload.

Usage: revoke_read.py TRACE_DIR [ROUNDS]
"""

import os
import sys

from workload import main

trace_dir = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
main(rounds // 2)
if os.path.isdir(trace_dir):
    os.chmod(trace_dir, 0o333)
main(rounds - rounds // 2)
