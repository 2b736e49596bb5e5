from my_app.auth import login


def test_login():
    debug_context = {"user": "ada"}
    response = login("ada", "pw")
    return response
