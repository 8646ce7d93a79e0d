"""``python -m engine``: the rnn-studio command."""
import sys

from .cli import main

sys.exit(main())
