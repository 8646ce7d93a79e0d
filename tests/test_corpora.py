"""Built-in corpora are built from registry packages, deterministically, and train a real model."""
import hashlib

import numpy as np

import corpora
from corpora.shakespeare import play_to_text
from engine.events import Progress

from .helpers import TINY, tiny_train, train

SAMPLE_MD = """# Hamlet

## ACT I

### SCENE I. Elsinore. A platform before the castle.

_FRANCISCO at his post. Enter to him BERNARDO_

**BERNARDO**  
Who's there?

**FRANCISCO**  
Nay, answer me: stand, and unfold yourself.  
_\\[Aside]_ Long live the king!

_Exit_

**HAMLET**  
*[Reads.]*
To be, or not to be.
"""


def test_markdown_to_play_text():
    assert play_to_text(SAMPLE_MD) == (
        "BERNARDO:\nWho's there?\n\n"
        "FRANCISCO:\nNay, answer me: stand, and unfold yourself.\nLong live the king!\n\n"
        "HAMLET:\nTo be, or not to be.\n\n")


def test_shakespeare_builds_deterministically():
    path = corpora.build("shakespeare")
    first = hashlib.sha256(path.read_bytes()).hexdigest()
    info = corpora.built_info("shakespeare")
    assert info["sha256"] == first and info["plays"] == 38
    again = corpora.build("shakespeare", force=True)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == first
    text = path.read_text(encoding="utf-8")
    assert len(text) > 4_000_000
    assert "HAMLET:\n" in text and "**" not in text and "#" not in text and "[Aside" not in text
    assert [c["name"] for c in corpora.list_corpora() if c["built"]].count("shakespeare") == 1


def test_loss_falls_on_real_text(tmp_path):
    path = corpora.build("shakespeare")
    head = tmp_path / "head.txt"
    head.write_text(path.read_text(encoding="utf-8")[:200_000], encoding="utf-8")
    events = train(tmp_path / "run", head, TINY.replace(hidden_size=64, embed_size=16),
                   tiny_train(epochs=None, minutes=None, seq_len=50, batch_size=32, lr=5e-3,
                              log_interval=10, val_interval=1000).replace(epochs=0.6))
    losses = [e.train_loss for e in events if isinstance(e, Progress)]
    assert losses[0] > 3.0 and np.mean(losses[-3:]) < 2.6, losses
