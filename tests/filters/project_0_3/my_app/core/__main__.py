from my_app.auth.secrets import rotate_keys
from my_app.core.orders import Account, place_order
from my_app.payments import capture_payment, refund
from my_app.services.email.send import send
from my_app.tests.regression.test_login import test_login
from my_app.tests.test_core import test_place_order

account = Account("ada", "tok-123")
place_order(account, "hunter2")
send("ada@example.com")
test_login()
test_place_order()
rotate_keys()
capture_payment(17, "trace-9")
refund(17)
