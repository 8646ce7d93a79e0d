"""The command line: `rnn-studio` and its subcommands (a face: it builds configs, calls the engine,
renders events)."""
