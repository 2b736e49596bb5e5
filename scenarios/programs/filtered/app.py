"""A program recorded with its project filter (.codetracer/trace-filter.toml
next to it): the helper module is skipped, the session token is redacted.

Usage: app.py [ROUNDS]   (default 20; about 200 rounds outgrow a 256 KiB quota)
"""

import sys

import helpers


def checkout(order_id, session_token):
    total = 0
    for line in range(order_id % 7 + 1):
        total += helpers.price(line)
    return total


def main(rounds):
    grand = 0
    for i in range(rounds):
        grand += checkout(i, f"s-{i}")
        if i % 10 == 0:
            print(f"order {i}: running total {grand}")
    print("total", grand)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
