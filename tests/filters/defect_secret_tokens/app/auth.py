class TokenStore:
    def get_token(self):
        return "tok-1"


def authenticate(user):
    return user == "ada"
