from clinic.patients import Doctor, Patient, admit

admit(Patient("Ada", "078-05-1120", Doctor("Grace", "cs-42")))
