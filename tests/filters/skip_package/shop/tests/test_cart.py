def test_add(cart):
    return cart.add("pear")
