"""Exceptions raised, caught, re-raised, chained and unwound through frames."""


class AppError(Exception):
    pass


def fail(depth):
    if depth == 0:
        raise AppError("bottom")
    return fail(depth - 1)


def reraise():
    try:
        fail(3)
    except AppError as error:
        raise RuntimeError("wrapped") from error


def main():
    try:
        fail(2)
    except AppError as error:
        print("caught:", error)
    try:
        reraise()
    except RuntimeError as error:
        print("caught:", error, "from", repr(error.__cause__))
    try:
        {}["missing"]
    except KeyError:
        print("caught: KeyError")
    finally:
        print("finally ran")


if __name__ == "__main__":
    main()
