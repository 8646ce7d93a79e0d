"""A run's training text, as the model saw it: checked against what the run recorded."""
from pathlib import Path

from engine.storage.atomic import sha256_file
from engine.generator.data import CharVocab, EncodedCorpus, encode_corpus, ids_of
from engine.errors import StudioError
from engine.storage.run_meta import RunMeta
from engine.text import TextInfo


def training_text(meta: RunMeta, vocab: CharVocab, run_name: str = "this run") -> EncodedCorpus:
    """The encoded text ``meta`` says the run was trained on (cached, memory-mapped); a clear
    error when it is gone or has changed since."""
    corpus = meta.corpus or {}
    path, sha = corpus.get("path"), corpus.get("sha256")
    if not path or not sha:
        raise StudioError(f"{run_name} does not record its training text")
    if not Path(path).is_file():
        raise StudioError(f"the training text of {run_name} is gone: {path} (put it back there "
                          f"to compare with it)")
    # the checksum alone: the same bytes decoded when the run was trained (a full check reads
    # 100 MB in half a second; the checksum takes a tenth of that)
    if sha256_file(path) != sha:
        raise StudioError(f"the training text of {run_name} has changed since it was trained: "
                          f"{path} (its sha256 differs)")
    info = TextInfo(str(path), Path(path).stat().st_size, sha, corpus.get("encoding", "utf-8"))
    return encode_corpus(path, info.encoding, vocab, info=info)


def training_slice(meta: RunMeta, vocab: CharVocab, start: int, length: int,
                   run_name: str = "this run") -> str:
    """``length`` characters of the training text from character ``start`` (clipped to it)."""
    ids = training_text(meta, vocab, run_name).ids
    start = max(0, min(int(start), len(ids) - 1))
    return vocab.decode(ids_of(ids, start, start + max(1, int(length))))
