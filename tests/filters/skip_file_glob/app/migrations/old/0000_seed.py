def seed():
    rows = 3
    return rows
