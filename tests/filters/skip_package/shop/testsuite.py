def run():
    from shop.cart import Cart
    from shop.tests.test_cart import test_add

    return test_add(Cart())
