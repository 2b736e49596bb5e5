def send(to):
    subject = "Your order"
    return True
