"""The smallest program worth recording: a call with an argument and a return value."""


def greet(name):
    message = f"Hello, {name}!"
    return message


if __name__ == "__main__":
    print(greet("world"))
