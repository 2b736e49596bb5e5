from shop.billing import charge, refund

charge(100, "4111 1111 1111 1111")
refund(5)
