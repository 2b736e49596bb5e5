def capture_payment(invoice_id, trace_id):
    invoice = {"id": invoice_id}
    amount = 30
    card_number = "4111 1111 1111 1111"
    gateway = "acquirer"
    return "captured"


def refund(invoice_id):
    return False
