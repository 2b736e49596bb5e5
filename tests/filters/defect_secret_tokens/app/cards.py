def discard_cards(hand):
    return hand[1:]
