class Doctor:
    def __init__(self, name, client_secret):
        self.name = name
        self.client_secret = client_secret


class Patient:
    def __init__(self, name, ssn, doctor):
        self.name = name
        self.ssn = ssn
        self.doctor = doctor
        self._cache = {"visits": 2}


def admit(patient):
    _cache = "ward 3"
    ward = [patient]
    return ward
