class Migration:
    def apply(self):
        return "applied"
