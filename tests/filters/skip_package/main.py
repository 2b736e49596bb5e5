import json

from shop.cart import Cart
from shop.vendor.six.moves import urllib
from shop import testsuite

cart = Cart()
cart.add("apple", password="hunter2")
urllib()
testsuite.run()
json.loads("[1]")
