def charge(amount, card_number):
    def fee(value):
        return value // 10

    total = amount + fee(amount)
    return total


def refund(amount):
    return -amount
