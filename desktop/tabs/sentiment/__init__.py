"""The Sentiment tab: train a classifier, analyse text, classify files."""
