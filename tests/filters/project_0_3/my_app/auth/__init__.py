def login(username, password):
    return {"session": "s-1"}
