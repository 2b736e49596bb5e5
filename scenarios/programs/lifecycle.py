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


MODES = {
    "fork": fork,
    "mp": mp,
    "exec": exec_,
    "sigterm-self": lambda: self_signal(signal.SIGTERM),
    "sighup-self": lambda: self_signal(signal.SIGHUP),
    "wait": wait,
    "cprofile": cprofile,
    "monitoring": monitoring,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
