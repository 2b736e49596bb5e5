import json


def login(user, api_key):
    password = "hunter2"
    session = "s-1"
    return json.dumps({"user": user})
