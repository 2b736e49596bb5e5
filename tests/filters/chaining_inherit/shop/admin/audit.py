def record(actor, reason):
    order = 1
    secret_note = "rotated"
    return reason
