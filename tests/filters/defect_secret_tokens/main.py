from app.auth import TokenStore, authenticate
from app.cards import discard_cards
from app.layout import expand_panel

expand_panel(True, "k-1", "o-1")
authenticate("ada")
TokenStore().get_token()
discard_cards([1, 2])
