"""Generators and coroutines: suspend and resume, send, throw, early close."""

import asyncio


def countdown(n):
    while n > 0:
        received = yield n
        if received is not None:
            n = received
        n -= 1
    return "done"


def delegate():
    result = yield from countdown(3)
    yield result


async def tick(label, delay):
    await asyncio.sleep(delay)
    return label


async def gather():
    return await asyncio.gather(tick("a", 0.001), tick("b", 0))


def main():
    print(list(countdown(3)))
    gen = countdown(10)
    print(next(gen), gen.send(3), next(gen))
    gen.close()
    thrower = countdown(5)
    next(thrower)
    try:
        thrower.throw(ValueError("stop"))
    except ValueError as error:
        print("thrown:", error)
    print(list(delegate()))
    print(sum(x * x for x in range(5)))
    print(asyncio.run(gather()))


if __name__ == "__main__":
    main()
