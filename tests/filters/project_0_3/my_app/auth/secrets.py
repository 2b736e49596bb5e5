def rotate_keys():
    return "rotated"
