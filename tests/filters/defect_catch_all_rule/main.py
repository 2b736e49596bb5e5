from app.debug import dump
from app.main import login

login("ada", "k-1")
dump()
