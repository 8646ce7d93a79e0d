"""``python -m engine``: the rnn-studio command."""
import sys

from engine.cli.main import main

sys.exit(main())
