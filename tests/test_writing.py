"""The Write tab's engine side: the state at the cursor read incrementally, suggestions drawn
as lanes from it, and documents that are never lost (encodings, atomic saves, drafts)."""
import numpy as np
import pytest

from engine.errors import StudioError
from engine.generator.load import load_generator
from engine.generator.sampling.sample import Sampler
from engine.generator.writing import CHECKPOINT, WritingState
from engine.storage import documents

from .helpers import TINY, tiny_train, train


@pytest.fixture(scope="module")
def run(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("write") / "runs" / "w"
    train(folder, text, TINY, tiny_train(epochs=3, precision="fp32"))
    return folder


@pytest.fixture(scope="module")
def sampler(run):
    model, vocab, _ = load_generator(str(run))
    return Sampler(model, vocab)


def test_incremental_state_equals_reading_everything(sampler):
    doc = "the quick brown fox jumps over the lazy dog.\n" * 40        # 1,800 characters
    whole = WritingState(sampler)
    whole.move_to(doc)
    typed = WritingState(sampler)
    for i in range(0, len(doc), 37):                  # typed in bursts
        typed.move_to(doc[:i])
    typed.move_to(doc)
    np.testing.assert_allclose(typed.logits, whole.logits, rtol=1e-4, atol=1e-5)
    assert typed.read_chars == len(doc)               # each character read once
    # an edit near the end re-reads only from the kept state before it, not the document
    before = typed.read_chars
    edited = doc[:-10] + "X" + doc[-9:]
    typed.move_to(edited[:len(edited) - 3])
    assert typed.read_chars - before <= CHECKPOINT
    fresh = WritingState(sampler)
    fresh.move_to(edited[:len(edited) - 3])
    np.testing.assert_allclose(typed.logits, fresh.logits, rtol=1e-4, atol=1e-5)


def test_unknown_characters_are_skipped_and_told_once(sampler):
    state = WritingState(sampler)
    state.move_to("the “quick” fox 🦊 ")
    assert state.news() == sorted("“”🦊")
    state.move_to("the “quick” fox 🦊 jumps “")
    assert state.news() == []
    assert state.suggest(count=3, length=10, seed=1)


def test_suggestions_end_where_asked_and_differ(sampler):
    state = WritingState(sampler)
    state.move_to("the quick brown fox jumps over the la")
    words = state.suggest(count=3, length=40, end="word", temperature=1.0, seed=3)
    assert 1 <= len(words) <= 3 and len({s.text for s in words}) == len(words)
    for s in words:
        assert len(s.text) <= 40 and " " not in s.text.strip()
    lines = state.suggest(count=3, length=40, end="line", temperature=0.5, seed=3)
    assert all("\n" not in s.text for s in lines)
    assert any(len(s.text) > len(w.text) for s in lines for w in words)
    # the same seed, the same suggestions; greedy continues the training text
    again = state.suggest(count=3, length=40, end="word", temperature=1.0, seed=3)
    assert [s.text for s in again] == [s.text for s in words]
    assert state.suggest(count=1, length=40, end="word", temperature=0)[0].text == "zy"
    with pytest.raises(StudioError, match="word, line, sentence"):
        state.suggest(end="paragraph")


def test_novelty_shown_per_suggestion(run, sampler):
    from engine.generator.sampling.novelty import run_index
    from engine.storage.runs import RunFolder
    meta = RunFolder(run).read_meta(kind="generator")
    state = WritingState(sampler, run_index(meta, sampler.vocab))
    state.move_to("the quick brown fox jumps over the ")
    best = state.suggest(count=1, length=40, end="line", temperature=0)[0]
    assert best.text == "lazy dog."
    assert "word for word" in best.novelty()


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8-sig", b""),
                                          ("utf-16", b""), ("utf-16-le", b""), ("cp1252", b"")])
def test_documents_keep_their_encoding_and_line_ends(tmp_path, encoding, bom):
    path = tmp_path / "story.md"
    text = "Caf\u00e9 \u201cnoir\u201d\r\nline two\r\n"
    path.write_bytes(bom + text.encode(encoding))
    original = path.read_bytes()
    doc, read = documents.open_document(path)
    assert read == text.replace("\r\n", "\n") and doc.newline == "\r\n"
    documents.save_document(doc, read)
    assert path.read_bytes() == original
    documents.save_document(doc, read + "more\n")
    assert documents.open_document(path)[1] == read + "more\n"


def test_a_change_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("mine\n")
    doc, text = documents.open_document(path)
    path.write_text("someone else's longer text\n")
    with pytest.raises(StudioError, match="changed on disk"):
        documents.save_document(doc, text + "edit\n")
    assert path.read_text() == "someone else's longer text\n"
    documents.save_document(doc, text + "edit\n", overwrite_changes=True)
    assert path.read_text() == "mine\nedit\n"


def test_binary_and_too_large_documents_are_refused(tmp_path, monkeypatch):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(StudioError, match="binary"):
        documents.open_document(binary)
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 1024 * 1024)
    big = tmp_path / "big.txt"
    big.write_text("a" * (1024 * 1024 + 1))
    with pytest.raises(StudioError, match="up to 1 MB"):
        documents.open_document(big)


def test_a_draft_of_a_dead_process_is_offered(tmp_path):
    import subprocess
    import sys
    doc = documents.Document(tmp_path / "x.txt")
    documents.save_draft(doc, "my own draft")
    assert documents.orphaned_drafts() == []           # this process is alive
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    documents.draft_path().rename(documents.draft_path(dead.pid))
    (found,) = documents.orphaned_drafts()
    assert found.text == "my own draft" and found.doc.path == tmp_path / "x.txt"
