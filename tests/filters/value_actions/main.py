from shop.crypto import derive
from shop.reports import Customer, Report

customer = Customer("Ada", "1815-12-10", "+44 20 7946 0000")
Report([1, 2]).export_csv(b"raw", "ada@example.com", customer)
derive("salt")
