"""Deterministic workload for the fault scenarios: recursion, a class, a
generator, a handled exception, and output on stdout as it goes.

Usage: workload.py [ROUNDS] [EXIT_CODE]   (defaults: 20 rounds, exit 0)
About 200 rounds make a trace of several megabytes, so disk and writer faults
bite while the program is still running; 1 round fits in one writer chunk, so
they bite when the recorder finishes.
"""

import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Account:
    def __init__(self, owner):
        self.owner = owner
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount
        return self.balance


def evens(limit):
    for value in range(limit):
        if value % 2 == 0:
            yield value


def safe_div(a, b):
    try:
        return a // b
    except ZeroDivisionError:
        return None


def main(rounds):
    account = Account("ada")
    for i in range(rounds):
        account.deposit(fib(i % 10))
        if i % 10 == 0:
            print(f"round {i}: balance {account.balance}")
    print("evens", sum(evens(rounds)))
    print("div", safe_div(10, 0), safe_div(10, 3))
    print("total", account.balance)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
