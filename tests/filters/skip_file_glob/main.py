import importlib

import generated.setup
from generated.api.v1.models import Model
from app import settings, views

initial = importlib.import_module("app.migrations.0001_initial")
seed = importlib.import_module("app.migrations.old.0000_seed")

initial.Migration().apply()
seed.seed()
views.index(settings)
