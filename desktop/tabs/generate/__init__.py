"""The Generate tab: train a character model, then sample from it."""
