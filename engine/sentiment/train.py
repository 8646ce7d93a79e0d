"""Training a SentimentRNN: a generator of progress events, like the generator's training loop.

Bucketed, padded batches (gluonnlp), Adam with warm-up and per-epoch decay, gradient clipping,
validation after every epoch (loss, accuracy, macro F1), best by validation accuracy, early
stopping (``patience``), epoch and time budgets, checkpoints in the shared run-folder format and
resume. At the end the best parameters are scored on the held-back test split, beside VADER.
"""
import json
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional

import gluonnlp as nlp
import numpy as np
from mxnet import autograd, gluon, nd

from ..atomic import atomic_write_json, sha256_file
from ..config import SentimentConfig, TrainConfig
from ..device import parse_ctx
from ..errors import StudioError
from ..generator.model import count_parameters
from ..events import Finished, Progress, Saved, Started, Validated
from ..optim_state import restore_trainer_state, trainer_state
from ..runs import RunFolder
from ..schedule import learning_rate, stop_reason
from ..seeding import seed_everything, seed_step
from .features import (Example, Featurizer, bucket_ids, bucketed_batches, build_vocab, gram_hashes,
                       to_batch)
from .linear import fit_linear, lexicon_prior
from .labeled import LabeledData, read_labeled, require_classes
from .lexicon import class_polarity, load_lexicon, vader_predict
from .metrics import label_ids, scores
from .model import SentimentRNN, build_sentiment_model
from .word_vectors import ppmi_svd_vectors, vector_words

SPLIT_FILE = "split.json"


@dataclass
class DataRef:
    path: str
    name: str


def batch_inputs(batch, model: SentimentRNN):
    """The model's inputs out of a ``to_batch`` tuple (the reader's five, then the linear
    half's grams when the model has one; never the labels)."""
    return batch[:model.input_count]


def _part_scores(model: SentimentRNN, part: str, inputs):
    if part == "reader":
        return model.reader(*inputs[:5])
    if part == "linear":
        return model.linear(inputs[5], inputs[4])
    return model(*inputs)


def predict_probs(model: SentimentRNN, examples: List[Example], ctx, batch_size: int = 1024,
                  part: str = "model"):
    """Class probabilities (n, C) for ``examples``, in order, from the whole model or from one
    of its halves (``part`` "reader" or "linear")."""
    out = np.zeros((len(examples), model.config.num_classes), dtype=np.float32)
    pending = []     # MXNet computes asynchronously: pad the next batch while this one runs
    with autograd.predict_mode():
        for batch_idx in bucketed_batches(examples, batch_size, shuffle=False):
            inputs = batch_inputs(to_batch([examples[i] for i in batch_idx], ctx), model)
            pending.append((batch_idx, nd.softmax(_part_scores(model, part, inputs), axis=-1)))
    for batch_idx, probs in pending:
        out[batch_idx] = probs.asnumpy()
    return out


def evaluate_examples(model, examples: List[Example], ctx, part: str = "model") -> dict:
    probs = predict_probs(model, examples, ctx, part=part)
    labels = np.array([e.label for e in examples])
    loss = float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12))))
    result = scores(labels, probs.argmax(axis=1), model.config.num_classes)
    result["loss"] = loss
    return result


def _split_for(run: RunFolder, data: LabeledData, tc: TrainConfig, resume: bool):
    from .split import stratified_split
    path = run.path / SPLIT_FILE
    if resume:
        split = json.loads(path.read_text())
        if split.get("n") != len(data):
            raise StudioError(f"{data.source}: the data changed since this run started "
                              f"({len(data)} examples now, {split.get('n')} then)")
        return split
    split = stratified_split(data.labels, tc.val_fraction, tc.test_fraction, tc.seed)
    split.update(n=len(data), seed=tc.seed, val_fraction=tc.val_fraction,
                 test_fraction=tc.test_fraction)
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
                 tc: TrainConfig, meta: Optional[dict]) -> PreparedData:
    """Read, check, split, tokenize and index the labeled data (a resumed run reuses its split,
    labels and vocabulary from ``meta``)."""
    resume = meta is not None
    data = read_labeled(data_ref.path)
    require_classes(data, min_per_class=5)
    classes = meta["labels"] if resume else data.classes
    unknown = sorted(set(data.classes) - set(classes))
    if unknown:
        raise StudioError(f"{data.source}: labels {unknown} were not in the data this run began with")
    split = _split_for(run, data, tc, resume)
    words = Featurizer(None, model_config.max_len, 0)       # tokenizing needs no vocabulary yet
    tokens = [words.tokens(t) for t in data.texts]
    # only a new run fits the linear half; a resumed one has it in its parameters already
    extra, extra_tokens = (None, []) if resume else _extra_train(model_config, data, classes)
    vector_texts = []
    if resume:
        vocab = nlp.Vocab.from_json(meta["vocab"])
    else:
        train_tokens = [tokens[i] for i in split["train"]]
        extra_words = []
        if model_config.word_vectors == "ppmi":
            vector_texts = train_tokens + extra_tokens
            if model_config.unlabeled != model_config.extra_train or not extra_tokens:
                vector_texts += _unlabeled_tokens(model_config)
            # frozen vectors also mean something for words the labeled training texts never had
            extra_words = vector_words(vector_texts)
        vocab = build_vocab(train_tokens, model_config.min_freq, model_config.max_vocab,
                            extra_words)
        fitted = len(split["train"]) + len(extra_tokens) if model_config.linear else 0
        model_config = model_config.replace(vocab_size=len(vocab), num_classes=len(classes),
                                            class_polarity=class_polarity(classes),
                                            linear_texts=fitted)
    featurizer = Featurizer.for_config(vocab, model_config)
    ids = label_ids(data.labels, classes)
    parts = {k: [featurizer.example(tokens[i], ids[i]) for i in split[k]]
             for k in ("train", "val", "test")}
    extra_ids = label_ids(extra.labels, classes) if extra is not None else []
    return PreparedData(data, classes, split, tokens, extra_tokens, extra_ids, vector_texts, vocab,
                        model_config, parts)


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
        prior = lexicon_prior(load_lexicon(), buckets, c.class_polarity, c.lexicon_prior)
    return fit_linear(model.linear, gram_sets, labels, c.linear_l2, ctx, prior=prior)


def default_helper_data(data_name: str) -> dict:
    """The ``unlabeled`` and ``extra_train`` settings that help a built-in corpus: the 1,500
    labeled full movie reviews give the movie sentences' word vectors a million words of context
    and the linear half its vocabulary (+5 points for the linear half alone, measured)."""
    return {"unlabeled": "movie-reviews" if data_name in ("movie-sentences", "movie-reviews") else "",
            "extra_train": "movie-reviews" if data_name == "movie-sentences" else ""}


def _extra_train(config: SentimentConfig, data: LabeledData, classes: List[str]):
    """The extra labeled texts named by ``config.extra_train`` and their words."""
    if not (config.extra_train and config.linear):
        return None, []
    import corpora
    from pathlib import Path
    from ..text import word_tokenize
    path, _ = corpora.resolve_labeled_source(config.extra_train)
    if Path(path).resolve() == Path(data.source).resolve():
        raise StudioError(f"{path}: the extra labeled data is the data itself (its validation "
                          f"and test texts would be trained on)")
    extra = read_labeled(path)
    unknown = sorted(set(extra.classes) - set(classes))
    if unknown:
        raise StudioError(f"{extra.source}: labels {unknown} are not among the data's labels "
                          f"{classes}")
    return extra, [word_tokenize(t) or ["<unk>"] for t in extra.texts]


def train_sentiment(run_dir, data_ref: Optional[DataRef], model_config: SentimentConfig,
                    train_config: TrainConfig, resume: bool = False,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[object]:
    """Train (or resume) the sentiment model in ``run_dir``, yielding events; saves as it goes.
    The run is locked while it trains: a second trainer of the same run is refused."""
    run = RunFolder(run_dir)
    with run.writing():
        yield from _train(run, data_ref, model_config, train_config, resume, should_stop)


def _train(run: RunFolder, data_ref, model_config, train_config: TrainConfig, resume: bool,
           should_stop: Callable[[], bool]) -> Iterator[object]:
    ctx = parse_ctx(train_config.ctx)
    meta = None
    if resume:
        meta = run.read_meta(kind="sentiment")
        model_config = SentimentConfig.from_dict(meta["config"]["model"])
        train_config = train_config.resumed_from(meta["config"]["train"])
        c = meta["corpus"]
        data_ref = DataRef(data_ref.path if data_ref else c["path"], c["name"])
    else:
        if data_ref is None:
            raise StudioError("no data given")
        run.require_new()
    tc = train_config
    prepared = prepare_data(run, data_ref, model_config, tc, meta)
    data, classes, split, vocab = prepared.data, prepared.classes, prepared.split, prepared.vocab
    model_config, parts = prepared.model_config, prepared.parts
    train_ex = parts["train"]

    seed_everything(tc.seed)
    model = build_sentiment_model(model_config, ctx)
    if model_config.word_vectors == "ppmi" and not resume:
        model.reader.set_word_vectors(ppmi_svd_vectors(
            prepared.vector_texts, vocab.idx_to_token, model_config.embed_size, seed=tc.seed), ctx)
    if model_config.linear and not resume:
        _fit_linear_half(model, prepared, ctx)
    trainer = gluon.Trainer(model.reader.collect_params(), "adam",
                            {"learning_rate": tc.lr, "wd": tc.weight_decay})
    steps_per_epoch = len(bucketed_batches(train_ex, tc.batch_size, shuffle=True, seed=tc.seed))
    total_steps = math.ceil(tc.epochs * steps_per_epoch) if tc.epochs is not None else None
    step, history, best, stale, prior_seconds = 0, [], None, 0, 0.0
    if resume:
        meta = run.load_params(model, "last", ctx, meta)   # the checkpoint actually loaded
        restore_trainer_state(trainer, model, run.load_states(meta), meta["state"]["optimizer"], ctx)
        step, stale = int(meta["state"]["step"]), int(meta["state"].get("stale", 0))
        history, best = list(meta.get("history", [])), meta.get("best")
        prior_seconds = float(meta["state"].get("seconds", 0.0))
    else:
        split_sha = atomic_write_json(run.path / SPLIT_FILE, split)
        meta = {"kind": "sentiment",
                "config": {"model": model_config.to_dict(), "train": tc.to_dict()},
                "vocab": vocab.to_json(), "labels": classes,
                "corpus": {"name": data_ref.name, "path": str(data_ref.path),
                           "sha256": sha256_file(data_ref.path) if not _is_dir(data_ref.path) else None,
                           "size": len(data), "label_counts": {c: data.labels.count(c) for c in classes}},
                "split": {k: len(split[k]) for k in ("train", "val", "test")},
                "files": {SPLIT_FILE: split_sha}}
    if total_steps is not None and step >= total_steps:
        raise StudioError(f"{run.path} already finished its {tc.epochs:g} epoch(s): "
                          f"pass a larger --epochs (or --minutes) to train on")

    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in model.reader.collect_params().values() if p.grad_req != "null"]
    start_time = time.time()
    deadline = start_time + tc.minutes * 60 if tc.minutes is not None else None
    yield Started(str(run.path), total_steps, step, count_parameters(model),
                  {"examples": len(data), "classes": len(classes), "vocab": len(vocab),
                   "train": len(train_ex), "val": len(parts["val"]), "test": len(parts["test"])})

    def checkpoint(result: Optional[dict]):
        nonlocal meta, best, stale
        is_best = result is not None and (best is None or (result["accuracy"], -result["loss"]) >
                                          (best["accuracy"], -best["val_loss"]))
        if result is not None:
            if is_best:
                best = {"step": step, "epoch": step / steps_per_epoch, "val_loss": result["loss"],
                        "accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
                stale = 0
            else:
                stale += 1
        arrays, opt_info = trainer_state(trainer, model)
        meta.update(history=history, best=best,
                    state={"step": step, "epoch": step / steps_per_epoch, "stale": stale,
                           "seconds": prior_seconds + time.time() - start_time,
                           "optimizer": opt_info})
        meta = run.save_checkpoint(model, meta, arrays,
                                   best=is_best or "best.params" not in meta["files"])
        return is_best

    loss_sum, correct, seen, loss_steps, interval_start = 0.0, 0, 0, 0, time.time()
    order = []
    while (reason := stop_reason(step, total_steps, should_stop, deadline)) is None:
        epoch, index = divmod(step, steps_per_epoch)
        if index == 0 or not order:
            order = bucketed_batches(train_ex, tc.batch_size, shuffle=True, seed=tc.seed + epoch)
        lr = learning_rate(step, steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay)
        trainer.set_learning_rate(lr)
        seed_step(tc.seed, step)
        batch = to_batch([train_ex[i] for i in order[index]], ctx)
        labels = batch[-1]
        with autograd.record():          # the reader learns; the fitted linear half stays fixed
            logits = model.reader(*batch[:5])
            loss = loss_fn(logits, labels).mean()
        loss.backward()
        gluon.utils.clip_global_norm([p.grad(ctx) for p in params], tc.clip, check_isfinite=False)
        trainer.step(1)
        step += 1
        loss_steps += 1
        n = labels.shape[0]
        loss_sum += float(loss.asscalar())          # small batches: a sync per step is cheap here
        correct += int((logits.argmax(axis=1) == labels).sum().asscalar())
        seen += n
        if step % tc.log_interval == 0 or step % steps_per_epoch == 0 or step == total_steps:
            mean_loss = loss_sum / loss_steps
            if not math.isfinite(mean_loss):
                raise StudioError(f"training diverged at step {step}; try a lower --lr")
            now = time.time()
            rate = seen / max(now - interval_start, 1e-9)
            elapsed = now - start_time
            eta = (total_steps - step) * (now - interval_start) / loss_steps if total_steps else None
            if deadline is not None:
                eta = min(eta, deadline - now) if eta is not None else deadline - now
            history.append({"step": step, "epoch": step / steps_per_epoch, "train_loss": mean_loss,
                            "train_accuracy": correct / seen, "val_loss": None,
                            "seconds": prior_seconds + elapsed})
            yield Progress(step, epoch, mean_loss, lr, rate, elapsed, eta, total_steps,
                           {"accuracy": correct / seen})
            loss_sum, correct, seen, loss_steps, interval_start = 0.0, 0, 0, 0, time.time()
        if step % steps_per_epoch == 0 or step == total_steps:
            result = evaluate_examples(model, parts["val"], ctx)
            history[-1].update(val_loss=result["loss"], val_accuracy=result["accuracy"],
                               val_macro_f1=result["macro_f1"])
            is_best = checkpoint(result)
            yield Validated(step, epoch, result["loss"], is_best,
                            {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"]})
            yield Saved(step, str(run.path), is_best)
            if tc.patience and stale >= tc.patience:
                reason = "early stopping"
                break
            interval_start = time.time()

    if not meta["files"].get("last.params") or meta["state"]["step"] != step:
        checkpoint(None)
        yield Saved(step, str(run.path), False)
    # the held-back test split, scored once with the best parameters, beside VADER
    run.load_params(model, "best", ctx, meta)
    test = evaluate_examples(model, parts["test"], ctx)
    test.pop("loss")
    if model_config.linear:          # each half alone, to show what the mixture adds
        test["parts"] = {part: evaluate_examples(model, parts["test"], ctx, part)["accuracy"]
                         for part in ("reader", "linear")}
    test_texts = [data.texts[i] for i in split["test"]]
    vader = vader_predict(test_texts, classes)
    if vader is not None:
        test["vader"] = scores(label_ids([data.labels[i] for i in split["test"]], classes),
                               label_ids(vader, classes), len(classes))
    meta["test"] = test
    run.write_meta(meta)
    yield Finished(step, reason, str(run.path), best["val_loss"] if best else None,
                   time.time() - start_time)


def _unlabeled_tokens(config: SentimentConfig) -> List[List[str]]:
    """Tokens of the extra unlabeled texts named by ``config.unlabeled`` (labels unused)."""
    if not config.unlabeled:
        return []
    import corpora
    path, _ = corpora.resolve_labeled_source(config.unlabeled)
    from ..text import word_tokenize
    return [word_tokenize(t) for t in read_labeled(path).texts]       # whole texts, not cut


def _is_dir(path) -> bool:
    from pathlib import Path
    return Path(path).is_dir()
