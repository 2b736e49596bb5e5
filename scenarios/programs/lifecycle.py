"""What programs do to their own process, one story per mode.

Usage: lifecycle.py MODE

  fork          os.fork(); the child works, prints and exits through sys.exit
  mp            a multiprocessing fork child records far more than 64 KiB
  exec          work, then os.execv into a new python that prints one line
  sigterm-self  work, then SIGTERM to itself (no handler of its own)
  sighup-self   the same with SIGHUP
  wait          work, print "ready", then sleep in short steps (~6 s)
  cprofile      cProfile profiles a function inside the program
  monitoring    the program registers its own sys.monitoring tool
  coverage      API launch: coverage.py measures a function with its
                sys.monitoring core while the recorder records it
  os-exit       work for about ten 64 KiB chunks, then os._exit(3)
  chdir         API launch: start() with a relative directory, then chdir
                into a directory holding an empty tree of the same name
"""

import os
import signal
import sys
import time


def work(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total


def fork():
    pid = os.fork()
    if pid == 0:
        print("child", work(500), flush=True)
        sys.exit(0)
    os.waitpid(pid, 0)
    print("parent", work(100))


def mp():
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=work, args=(20000,))
    child.start()
    child.join()
    print("child exit", child.exitcode, "parent", work(100))


def exec_():
    print("before exec", work(100), flush=True)
    os.execv(sys.executable, [sys.executable, "-c", "print('after exec')"])


def self_signal(number):
    print("working", work(1000), flush=True)
    os.kill(os.getpid(), number)
    time.sleep(5)
    print("not reached")


def wait():
    print("ready", work(1000), flush=True)
    for _ in range(120):
        time.sleep(0.05)
    print("woke up")


def cprofile():
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    work(2000)
    profiler.disable()
    calls = [value[1] for key, value in pstats.Stats(profiler).stats.items() if key[2] == "work"]
    print("profiled work calls:", calls)


def monitoring():
    mon = sys.monitoring
    seen = []
    mon.use_tool_id(mon.PROFILER_ID, "mine")
    mon.register_callback(mon.PROFILER_ID, mon.events.PY_START, lambda code, offset: seen.append(code.co_name))
    mon.set_events(mon.PROFILER_ID, mon.events.PY_START)
    work(10)
    mon.set_events(mon.PROFILER_ID, 0)
    mon.free_tool_id(mon.PROFILER_ID)
    print("own tool saw work:", seen.count("work"))


def coverage():
    os.environ["COVERAGE_CORE"] = "sysmon"  # the core `coverage run` takes from it
    import coverage as coverage_py

    measured = coverage_py.Coverage(data_file=None, include=[__file__])
    measured.start()
    # API launch: the recording covers only the measured work (coverage.py's
    # own start-up would be ~50,000 events), both tools active at once.
    trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
    if trace_dir:
        import codetracer_python_recorder as recorder

        recorder.start(trace_dir, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))
    work(10)
    if trace_dir:
        recorder.stop()
    measured.stop()
    core = dict(measured.sys_info()).get("core")
    lines = sorted(measured.get_data().lines(os.path.abspath(__file__)) or [])
    start = work.__code__.co_firstlineno
    print("coverage core:", core, "work lines:", [n - start for n in lines if start <= n < start + 5])


def os_exit():
    # More chunks than a killed recording can lose (the writer thread's
    # queue, the chunk it writes, the buffer): recover keeps the rest.
    print("working", work(4000), flush=True)
    os._exit(3)


def chdir():
    trace_dir = os.environ.get("CODETRACER_HARNESS_TRACE_DIR")
    name = os.path.relpath(trace_dir) if trace_dir else "trace"
    os.makedirs(os.path.join("elsewhere", name))
    if trace_dir:
        import codetracer_python_recorder as recorder

        recorder.start(name, format=os.environ.get("CODETRACER_HARNESS_FORMAT", "json"))
    os.chdir("elsewhere")
    print("worked", work(1000), flush=True)
    if trace_dir:
        recorder.stop()
    print("same-named tree kept:", os.path.isdir(name))


MODES = {
    "fork": fork,
    "mp": mp,
    "exec": exec_,
    "sigterm-self": lambda: self_signal(signal.SIGTERM),
    "sighup-self": lambda: self_signal(signal.SIGHUP),
    "wait": wait,
    "cprofile": cprofile,
    "monitoring": monitoring,
    "coverage": coverage,
    "os-exit": os_exit,
    "chdir": chdir,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
