import numpy as np
import pytest

from engine.generator.data import BPTTStream, CharVocab, IdFile, encode_corpus, split_stream
from engine.errors import StudioError


def test_vocab_roundtrip_and_unknown():
    v = CharVocab.from_text("hello world")
    assert v.decode(v.encode("hello")) == "hello"
    assert (v.encode("hz") == np.array([v.chars.index("h"), -1])).all()
    assert v.unknown_chars("hz!") == ["!", "z"]
    v2 = CharVocab.from_json(v.to_json())
    assert v2.chars == v.chars


def test_encode_corpus_is_cached_and_read_from_the_file(text_file):
    enc = encode_corpus(text_file)
    assert isinstance(enc.ids, IdFile) and enc.ids.dtype == np.uint8
    assert enc.vocab.decode(enc.ids.read(0, 20)) == text_file.read_text()[:20]
    assert enc.vocab.decode(enc.ids[5:][10:].read(0, 5)) == text_file.read_text()[15:20]
    again = encode_corpus(text_file, vocab=enc.vocab)
    assert again.ids.path == enc.ids.path and len(again.ids) == len(text_file.read_text())


def test_resume_with_new_characters_is_refused(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("abc abc\n")
    vocab = CharVocab.from_text("abc ")
    with pytest.raises(StudioError, match="never seen"):
        encode_corpus(p, vocab=vocab)


def test_bptt_rows_are_contiguous_across_batches():
    ids = np.arange(1000) % 251
    stream = BPTTStream(ids, batch_size=4, seq_len=10)
    d0, t0 = stream.batch(0)
    d1, _ = stream.batch(1)
    assert d0.shape == (10, 4)
    assert (t0[:-1] == d0[1:]).all()               # targets are the next characters
    assert (d1[0] == d0[-1] + 1).all()             # row continues into the next batch
    assert (d0[0, 1] - d0[0, 0]) == stream.row_len


def test_split_too_short():
    with pytest.raises(StudioError, match="too short"):
        split_stream(np.arange(50), 0.05, min_val=100)
