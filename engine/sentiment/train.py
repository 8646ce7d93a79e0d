"""Training a SentimentRNN: preparing its data, and its task for the shared training loop
(engine/training/loop.py).

Bucketed, padded batches (gluonnlp), validation after every epoch (loss, accuracy, macro F1),
best by validation accuracy, early stopping (``patience``). At the end the best parameters are
scored on the held-back test split, beside VADER.
"""
import json
import logging
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import gluonnlp as nlp
from mxnet import gluon, nd

from engine.storage.atomic import atomic_write_json
from engine.config import SentimentConfig, TrainConfig
from engine.errors import CommandLineOnly, StudioError
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training.seeding import seed_everything
from engine.training import loop
from engine.training.distributed import Cluster
from engine.sentiment.features import (Featurizer, bucket_ids, bucketed_batches, build_vocab, gram_hashes,
                       to_batch)
from engine.sentiment.linear import fit_linear, lexicon_prior
from engine.sentiment.labeled import (LabeledData, case_variants, data_sha256, merge_label_case, read_labeled,
                      require_classes, some)
from engine.sentiment.lexicon import class_polarity, load_lexicon, vader_predict
from engine.sentiment.metrics import label_ids, scores
from engine.sentiment.model import SentimentRNN, build_sentiment_model
from engine.sentiment.scoring import evaluate_examples, example_sums, scores_from_sums
from engine.text import word_tokenize
from engine.sentiment.word_vectors import ppmi_svd_vectors, vector_words

SPLIT_FILE = "split.json"
log = logging.getLogger("rnn_studio")
STRATA_COLUMN = "domain"     # a column the split is stratified by, besides the label


def _as_path(name: str) -> str:
    return name


@dataclass
class DataRef:
    """The labeled data to train on, and how to find the other sources the settings name
    (``unlabeled``, ``extra_train``): the faces pass the built-in corpora's resolver, so the
    engine itself never imports ``corpora`` (a floor above it)."""
    path: str
    name: str
    sources: Callable[[str], str] = _as_path
    leave_out: Optional[Tuple[str, str]] = None   # (column, value): rows held out entirely
    merge_label_case: bool = False               # "Positive" and "positive": one class

    def read(self) -> LabeledData:
        data = read_labeled(self.path)
        data = data.leave_out(*self.leave_out) if self.leave_out else data
        return merge_label_case(data) if self.merge_label_case else data


def _split_for(run: RunFolder, data: LabeledData, tc: TrainConfig, resume: bool):
    from engine.sentiment.split import stratified_split
    path = run.path / SPLIT_FILE
    if resume:
        split = json.loads(path.read_text())
        if split.get("n") != len(data):
            raise StudioError(f"{data.source}: the data changed since this run started "
                              f"({len(data)} examples now, {split.get('n')} then)")
        return split
    strata = data.columns.get(STRATA_COLUMN)
    split = stratified_split(data.labels, tc.val_fraction, tc.test_fraction, tc.seed,
                             texts=data.texts, strata=strata)
    split.update(n=len(data), seed=tc.seed, val_fraction=tc.val_fraction,
                 test_fraction=tc.test_fraction, grouped_by="normalised text",
                 stratified_by=["label"] + ([STRATA_COLUMN] if strata else []))
    return split


@dataclass
class PreparedData:
    data: LabeledData
    classes: List[str]
    split: dict                   # index lists "train", "val", "test" (+ how they were drawn)
    tokens: List[List[str]]       # every example's words, cut to max_len
    extra_tokens: List[List[str]]  # the extra labeled texts' words (whole), if any
    extra_labels: List[int]        # and their class ids
    vector_texts: List[List[str]]  # the texts the frozen word vectors come from (new runs only)
    vocab: nlp.Vocab
    model_config: SentimentConfig  # with vocab_size and num_classes filled in
    parts: dict                   # "train"/"val"/"test" -> [Example]


def prepare_data(run: RunFolder, data_ref: DataRef, model_config: SentimentConfig,
                 tc: TrainConfig, meta: Optional[RunMeta]) -> PreparedData:
    """Read, check, split, tokenize and index the labeled data (a resumed run reuses its split,
    labels and vocabulary from ``meta``)."""
    resume = meta is not None
    data = data_ref.read()
    require_classes(data, min_per_class=5)
    classes = meta.labels if resume else data.classes
    unknown = sorted(set(data.classes) - set(classes))
    if unknown:
        raise StudioError(f"{data.source}: labels {some(unknown)} were not in the data this run "
                          f"began with")
    variants = case_variants(classes)
    if variants and not resume:
        groups = "; ".join(" and ".join(repr(v) for v in g) for g in variants[:5])
        # a StudioError as the message: the app words it (it has no --merge-label-case)
        log.warning(StudioError(f"{data.source}: labels that differ only in case train as "
                                f"separate classes: {groups} ({len(classes)} classes); if they "
                                f"mean the same, write each one way",
                                CommandLineOnly(", or pass --merge-label-case")))
    split = _split_for(run, data, tc, resume)
    words = Featurizer(None, model_config.max_len, 0)       # tokenizing needs no vocabulary yet
    tokens = [words.tokens(t) for t in data.texts]
    # only a new run fits the linear half; a resumed one has it in its parameters already
    extra, extra_tokens = (None, []) if resume else _extra_train(model_config, data, classes,
                                                                  data_ref.sources)
    vector_texts = []
    if resume:
        vocab = nlp.Vocab.from_json(meta.vocab)
    else:
        train_tokens = [tokens[i] for i in split["train"]]
        extra_words = []
        if model_config.word_vectors == "ppmi":
            vector_texts = train_tokens + extra_tokens
            if model_config.unlabeled != model_config.extra_train or not extra_tokens:
                vector_texts += _unlabeled_tokens(model_config, data_ref.sources)
            # frozen vectors also mean something for words the labeled training texts never had
            extra_words = vector_words(vector_texts)
        vocab = build_vocab(train_tokens, model_config.min_freq, model_config.max_vocab,
                            extra_words)
        fitted = len(split["train"]) + len(extra_tokens) if model_config.linear else 0
        model_config = model_config.with_data(vocab_size=len(vocab), num_classes=len(classes),
                                              class_polarity=class_polarity(classes),
                                              linear_texts=fitted, unseen_gate=True)
    featurizer = Featurizer.for_config(vocab, model_config)
    ids = label_ids(data.labels, classes)
    parts = {k: [featurizer.example(tokens[i], ids[i]) for i in split[k]]
             for k in ("train", "val", "test")}
    if model_config.contrast_pairs:
        parts["train"] += _contrast_examples(data, split["train"], classes, featurizer, words,
                                             model_config.contrast_pairs, tc.seed)
    extra_ids = label_ids(extra.labels, classes) if extra is not None else []
    return PreparedData(data, classes, split, tokens, extra_tokens, extra_ids, vector_texts, vocab,
                        model_config, parts)


def _contrast_examples(data: LabeledData, train_rows, classes, featurizer, words, n: int,
                       seed: int) -> list:
    """The contrast_pairs setting: "X but Y" training examples from training rows only
    (engine/sentiment/contrast.py; its hash pool keeps them apart from the measuring set)."""
    from engine.sentiment.contrast import augmentation
    if not {"positive", "negative"} <= set(classes):
        raise StudioError(f"{data.source}: Contrast sentences added needs the labels positive "
                          f"and negative (this data has {some(classes)})")
    ratings = data.columns.get("rating")
    built = augmentation([data.texts[i] for i in train_rows], [data.labels[i] for i in train_rows],
                         [ratings[i] for i in train_rows] if ratings else None, n, seed)
    ids = label_ids(built.labels, classes)
    return [featurizer.example(words.tokens(t), i) for t, i in zip(built.texts, ids)]


def _fit_linear_half(model: SentimentRNN, prepared: PreparedData, ctx) -> float:
    """Fit the model's linear half on the training split plus the extra labeled texts (whole:
    the max_len cut is for the reader). Returns its final training loss."""
    buckets = model.config.linear_buckets
    train = prepared.parts["train"]
    gram_sets = [e.linear_grams for e in train]
    gram_sets += [bucket_ids(gram_hashes(t), buckets) for t in prepared.extra_tokens]
    labels = [e.label for e in train] + list(prepared.extra_labels)
    c = model.config
    prior = None
    if c.lexicon_takes_sides and c.lexicon_prior > 0:
        prior = lexicon_prior(load_lexicon(), buckets, c.data.class_polarity, c.lexicon_prior)
    return fit_linear(model.linear, gram_sets, labels, c.linear_l2, ctx, prior=prior)


def resolve_helper_data(config: SentimentConfig, data_name: str) -> SentimentConfig:
    """``unlabeled`` and ``extra_train`` set to "auto" become what helps a built-in corpus: the
    1,500 labeled full movie reviews give movie sentences' word vectors a million words of
    context and the linear half its vocabulary (measured: +5 points for the linear half alone
    on movie-sentences; +1.4 for the whole model on movie-snippets). On rated-sentences they
    do not pay (+0.3 in-domain, -0.5 on a domain held out: README, "Quality"), so none."""
    movie = data_name in ("movie-sentences", "movie-snippets", "movie-reviews")
    auto = {"unlabeled": "movie-reviews" if movie else "",
            "extra_train": "movie-reviews" if movie and data_name != "movie-reviews" else ""}
    return config.replace(**{k: v for k, v in auto.items() if getattr(config, k) == "auto"})


def _extra_train(config: SentimentConfig, data: LabeledData, classes: List[str],
                 sources: Callable[[str], str]):
    """The extra labeled texts named by ``config.extra_train`` and their words."""
    if not (config.extra_train and config.linear):
        return None, []
    path = sources(config.extra_train)
    if Path(path).resolve() == Path(data.source).resolve():
        raise StudioError(f"{path}: the extra labeled data is the data itself (its validation "
                          f"and test texts would be trained on)")
    extra = read_labeled(path)
    unknown = sorted(set(extra.classes) - set(classes))
    if unknown:
        raise StudioError(f"{extra.source}: labels {some(unknown)} are not among the data's "
                          f"labels ({some(classes)})")
    return extra, [word_tokenize(t) or ["<unk>"] for t in extra.texts]


class SentimentTask(loop.Task):
    """The recurrent reader learns (the fitted linear half stays fixed) on bucketed batches,
    reshuffled each epoch; validated at each epoch's end; the best checkpoint has the highest
    validation accuracy. At the end the best is scored on the held-back test split."""
    best_metric, higher_is_better = "accuracy", True

    def __init__(self, model: SentimentRNN, prepared: PreparedData, tc: TrainConfig, ctx,
                 cluster: Cluster):
        self.model, self.trainable = model, model.reader.collect_params()
        self.prepared, self.tc, self.ctx = prepared, tc, ctx
        # of several workers, each trains on every num_workers-th text, and all take as many
        # steps per epoch as the worker with the fewest batches has
        train, workers = prepared.parts["train"], cluster.num_workers
        self.train_ex = train[cluster.rank::workers]
        self.steps_per_epoch = min(len(bucketed_batches(train[r::workers], tc.batch_size,
                                                        shuffle=True, seed=tc.seed))
                                   for r in range(workers))
        self.order = []
        self.random_steps = model.config.dropout > 0
        self.loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        parts = prepared.parts
        self.info = {"examples": len(prepared.data), "classes": len(prepared.classes),
                     "vocab": len(prepared.vocab), "train": len(parts["train"]),
                     "val": len(parts["val"]), "test": len(parts["test"])}

    @classmethod
    def prepare(cls, run: RunFolder, data_ref: Optional[DataRef], model_config: SentimentConfig,
                tc: TrainConfig, resume: bool, ctx, cluster: Optional[Cluster] = None):
        """Read, split and index the data, build the model (a new run: set its word vectors and
        fit its linear half; every worker of several does the same and gets the same).
        Returns (task, the training settings in force, the run's meta)."""
        cluster = cluster or Cluster()
        meta, model_config, tc, data_ref = loop.opening(
            run, "sentiment", SentimentConfig, model_config, tc, data_ref, resume, cluster,
            lambda c, given: DataRef(given.path if given else c["path"], c["name"],
                                     leave_out=tuple(c["leave_out"]) if c.get("leave_out")
                                     else None,
                                     merge_label_case=bool(c.get("merge_label_case"))))
        c = meta.corpus if resume else {}
        if c.get("sha256") and data_sha256(data_ref.path) != c["sha256"]:
            raise StudioError(f"{data_ref.path}: the data changed since this run started "
                              f"(sha256 differs); resume needs the same data")
        if not resume:
            model_config = resolve_helper_data(model_config, data_ref.name)
        prepared = prepare_data(run, data_ref, model_config, tc, meta)
        data, classes, split, vocab = prepared.data, prepared.classes, prepared.split, prepared.vocab
        model_config = prepared.model_config
        seed_everything(tc.seed)
        model = build_sentiment_model(model_config, ctx)
        if not resume:
            if model_config.word_vectors == "ppmi":
                model.reader.set_word_vectors(ppmi_svd_vectors(
                    prepared.vector_texts, vocab.idx_to_token, model_config.embed_size,
                    seed=tc.seed), ctx)
            if model_config.linear:
                _fit_linear_half(model, prepared, ctx)
            split_sha = atomic_write_json(run.path / SPLIT_FILE, split) if cluster.writer else None
            meta = RunMeta(
                "sentiment", {"model": model_config.to_dict(), "train": tc.to_dict()},
                files={SPLIT_FILE: split_sha}, vocab=vocab.to_json(), labels=classes,
                corpus={"name": data_ref.name, "path": str(data_ref.path),
                        "sha256": data_sha256(data_ref.path), "size": len(data),
                        "leave_out": list(data_ref.leave_out) if data_ref.leave_out else None,
                        "merge_label_case": data_ref.merge_label_case,
                        "label_counts": dict(sorted(Counter(data.labels).items()))},
                split={k: len(split[k]) for k in ("train", "val", "test")})
        return cls(model, prepared, tc, ctx, cluster), tc, meta

    def begin_epoch(self, epoch: int, from_start: bool):
        self.order = bucketed_batches(self.train_ex, self.tc.batch_size, shuffle=True,
                                      seed=self.tc.seed + epoch)[:self.steps_per_epoch]

    def forward(self, index: int):
        examples = [self.train_ex[i] for i in self.order[index]]
        if len(self.contexts) == 1:
            batch = to_batch(examples, self.ctx)
            logits = self.model.reader(*batch.reader_inputs())
            return (self.loss_fn(logits, batch.labels).mean(), len(examples),
                    [(logits, batch.labels)])
        # the texts shared out over the devices, in order; each device's mean loss weighted by
        # its share, so that the devices' average is the batch's mean. A device left without
        # a text (a batch smaller than the devices) reads the first one at weight 0: every
        # device must give a fresh gradient, or Gluon's update skips (or refuses) it
        k, n = len(self.contexts), len(examples)
        losses, outputs = [], []
        for i, ctx in enumerate(self.contexts):
            share = examples[n * i // k:n * (i + 1) // k]
            batch = to_batch(share or examples[:1], ctx)
            logits = self.model.reader(*batch.reader_inputs())
            losses.append(self.loss_fn(logits, batch.labels).mean() * (len(share) * k / n))
            if share:
                outputs.append((logits, batch.labels))
        return losses, n, outputs

    def counts(self, outputs):
        right = [(logits.argmax(axis=1) == labels).sum().as_in_context(self.ctx)
                 for logits, labels in outputs]
        return {"accuracy": nd.add_n(*right)}

    def validation_items(self) -> int:
        return len(self.prepared.parts["val"])

    def validation_sums(self, part):
        start, stop = part
        return example_sums(self.model, self.prepared.parts["val"][start:stop], self.ctx)

    def validation_result(self, sums) -> loop.Validation:
        result = scores_from_sums(sums)
        return loop.Validation(result["loss"], {"accuracy": result["accuracy"],
                                                "macro_f1": result["macro_f1"]})

    def finish(self, run: RunFolder, meta: RunMeta) -> RunMeta:
        """The held-back test split, scored once with the best parameters, beside VADER."""
        model, parts, p = self.model, self.prepared.parts, self.prepared
        meta = run.load_params(model, "best", self.contexts or self.ctx, meta)
        test = evaluate_examples(model, parts["test"], self.ctx)
        test.pop("loss")
        if model.config.linear:          # each half alone, to show what the mixture adds
            test["parts"] = {part: evaluate_examples(model, parts["test"], self.ctx,
                                                     part)["accuracy"]
                             for part in ("reader", "linear")}
        test_texts = [p.data.texts[i] for i in p.split["test"]]
        vader = vader_predict(test_texts, p.classes)
        if vader is not None:
            truth = label_ids([p.data.labels[i] for i in p.split["test"]], p.classes)
            test["vader"] = scores(truth, label_ids(vader, p.classes), len(p.classes))
        meta.test = test
        run.write_meta(meta)
        return meta


def _unlabeled_tokens(config: SentimentConfig, sources: Callable[[str], str]) -> List[List[str]]:
    """Tokens of the extra unlabeled texts named by ``config.unlabeled`` (labels unused)."""
    if not config.unlabeled:
        return []
    return [word_tokenize(t) for t in read_labeled(sources(config.unlabeled)).texts]   # whole


# Train (or resume) the sentiment model in a run folder, yielding events; saves as it goes. The run is
# locked while it trains: a second trainer of the same run is refused. Called as
# train_sentiment(run_dir, data_ref, model_config, train_config, resume=False, should_stop=...).
train_sentiment = partial(loop.train_task, SentimentTask)
