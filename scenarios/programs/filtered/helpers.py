"""Pricing helpers the project filter leaves out of the trace."""


def price(line):
    base = 3 * line + 1
    return base
