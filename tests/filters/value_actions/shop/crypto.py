def derive(salt):
    digest = salt * 2
    return digest
