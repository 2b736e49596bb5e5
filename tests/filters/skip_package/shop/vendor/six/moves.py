def urllib():
    return "vendored"
