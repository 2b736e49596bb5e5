def index(settings):
    page = "ok" if settings.DEBUG else "prod"
    return page
