"""Three threads working at once, sharing a lock (the case that hangs 0.3)."""

import threading

lock = threading.Lock()
totals = {}


def work(name, n):
    subtotal = 0
    for i in range(n):
        subtotal += square(i)
    with lock:
        totals[name] = subtotal


def square(x):
    return x * x


def main():
    threads = [threading.Thread(target=work, args=(f"t{i}", 50 + i)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sorted(totals.items()))


if __name__ == "__main__":
    main()
