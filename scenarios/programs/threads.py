"""Three threads calling functions at the same time; output only from the
main thread after joining, so it is deterministic.

Usage: threads.py [ROUNDS]
"""

import sys
import threading


def collatz(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def worker(start, rounds, results, slot):
    total = 0
    for n in range(start, start + rounds):
        total += collatz(n)
    results[slot] = total


def main(rounds):
    results = [0, 0, 0]
    threads = [threading.Thread(target=worker, args=(1 + i * 1000, rounds, results, i)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for slot, total in enumerate(results):
        print(f"thread {slot}: {total} steps")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
