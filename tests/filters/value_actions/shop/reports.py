CONFIG_DB_URL = "postgres://admin:pw@db/shop"
_registry = {}


class Customer:
    def __init__(self, name, date_of_birth, mobile_phone):
        self.name = name
        self.date_of_birth = date_of_birth
        self.mobilePhone = mobile_phone
        self._cache = {}


class Report:
    def __init__(self, rows):
        self.rows = rows

    def export_csv(self, raw_body, email, customer):
        customer_email = email
        tmp_rows = self.rows
        api_key = "sk-live-123"
        customer_name = customer.name
        return "%d,%d" % (tmp_rows[0] * 2, tmp_rows[1] * 2)
