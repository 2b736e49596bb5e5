class Model:
    fields = ("id",)
