"""Writes around sys.stdout as well as through it: os.write to descriptors
1 and 2 between prints (flushed first, so the order on each descriptor is
the program's own) and binary data that is not UTF-8 through
sys.stdout.buffer. With CODETRACER_CAPTURE_IO=proxies,fd the descriptor
mirror records the direct writes.

Usage: io_fdwrite.py [ROUNDS]   (default 20)
"""

import os
import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main(rounds):
    for i in range(rounds):
        print(f"print {i}: fib {fib(i % 14)}", flush=True)
        os.write(1, f"os.write {i}\n".encode())
        if i % 7 == 0:
            os.write(2, f"stderr via os.write {i}\n".encode())
            sys.stdout.buffer.write(b"bytes \xff\xfe " + str(i).encode() + b"\n")
            sys.stdout.buffer.flush()
    print("done")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
