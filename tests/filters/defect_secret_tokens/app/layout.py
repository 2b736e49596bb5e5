class Widget:
    def __init__(self):
        self.keyboard_tokenizer = "qwerty"
        self.x_auth_token = "t-1"


def expand_panel(expand, apiKey, oauth2token):
    span = 2
    author = "Ada"
    discarded = []
    compass = "N"
    passenger = "Grace"
    bypass = False
    password = "hunter2"
    db_password = "hunter3"
    userPassword = "hunter4"
    SECRET = "s"
    card_number = "4111"
    cvv2 = "123"
    private_key_pem = "-----"
    session = "s-1"
    widget = Widget()
    return span
