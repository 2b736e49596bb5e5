"""Reads its input every way a program does (input(), readline, iteration,
read) and answers each part on stdout, computing between reads; a summary
goes to stderr.

Usage: io_stdin.py [ROUNDS]   (default 20; stdin: a name, then lines of data)
"""

import sys


def score(text, rounds):
    total = 0
    for _ in range(rounds):
        for char in text:
            total = (total * 31 + ord(char)) % 1_000_003
    return total


def main(rounds):
    name = input("name: ")
    print(f"hello {name}")
    first = sys.stdin.readline()
    print("first", first.strip(), score(first, rounds))
    count = 2
    for line in sys.stdin:
        count += 1
        print(line.strip().upper(), score(line, rounds))
        if count == 5:
            break
    rest = sys.stdin.read()
    print("rest", len(rest.splitlines()), score(rest, rounds))
    print(f"{count} lines read, {len(rest.splitlines())} more", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
