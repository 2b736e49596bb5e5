"""Three threads print in turns (a condition passes the turn on), so the
output is deterministic while every line comes from another thread; each
thread also reports to stderr now and then, and computes between lines so
the trace grows while the program prints.

Usage: io_threads.py [ROUNDS]   (default 20)
"""

import sys
import threading

THREADS = 3


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def worker(slot, rounds, turn, state):
    for round_ in range(rounds):
        with turn:
            turn.wait_for(lambda: state["next"] == slot)
            print(f"thread {slot} round {round_}: fib {fib(10 + slot)}")
            if round_ % 5 == 0:
                print(f"thread {slot} checkpoint {round_}", file=sys.stderr)
            state["next"] = (slot + 1) % THREADS
            turn.notify_all()


def main(rounds):
    print("starting", THREADS, "threads")
    turn = threading.Condition()
    state = {"next": 0}
    threads = [threading.Thread(target=worker, args=(slot, rounds, turn, state)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("all threads done", file=sys.stderr)
    print("done")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
