RETRIES = 3


class Account:
    def __init__(self, name, refresh_token):
        self.name = name
        self.refresh_token = refresh_token


def place_order(account, password):
    user = account
    order = {"item": "book"}
    total = 12
    return order
