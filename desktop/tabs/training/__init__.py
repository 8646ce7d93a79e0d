"""What every training tab shares: the data picker, the settings, the panel, Resume."""
