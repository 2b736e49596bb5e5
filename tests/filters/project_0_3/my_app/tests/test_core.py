def test_place_order():
    return "ok"
