def dump():
    session = "s-2"
    password = "hunter2"
    return session
