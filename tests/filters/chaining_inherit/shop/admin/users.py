def delete(user):
    return True
