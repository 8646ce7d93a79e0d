"""Training a CharRNN: a generator of progress events (see engine/events.py).

Truncated BPTT over contiguous streams with the hidden state carried between batches, global
gradient-norm clipping, Adam with warm-up + per-epoch decay, a validation split, epoch and time
budgets, checkpoints at every validation, and exact resume: the step, the carried hidden state,
the optimizer state and the per-step dropout seed are all restored, so a stopped and resumed run
ends with the same parameters as an uninterrupted one.
"""
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import mxnet as mx
from mxnet import autograd, gluon, nd

from ..config import GeneratorConfig, TrainConfig
from ..data import BPTTStream, CharVocab, encode_corpus, split_stream
from ..device import parse_ctx
from ..errors import StudioError
from ..events import Finished, Progress, SampleReady, Saved, Started, Validated
from ..optim_state import restore_trainer_state, trainer_state
from ..runs import RunFolder
from ..schedule import learning_rate, stop_reason
from ..seeding import seed_everything, seed_step
from .model import CharRNN, count_parameters
from .sample import Sampler

MAX_VAL_BATCHES = 100      # validation looks at most this many batches (bounded cost on huge texts)


@dataclass
class CorpusRef:
    path: str
    name: str
    encoding: str = "utf-8"


def _corpus_meta(ref: CorpusRef, info) -> dict:
    return {"name": ref.name, "path": str(Path(ref.path).resolve()), "sha256": info.sha256,
            "size": info.size, "encoding": ref.encoding}


def build_model(config: GeneratorConfig, ctx) -> CharRNN:
    model = CharRNN(config)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    model.hybridize(static_alloc=True)
    return model


def validation_loss(model: CharRNN, stream: BPTTStream, ctx) -> float:
    """Mean cross-entropy (nats/char) over the validation stream (state carried along)."""
    states = model.begin_state(stream.batch_size, ctx)
    total, count = nd.zeros((1,), ctx=ctx), 0
    with autograd.predict_mode():
        for i in range(min(stream.num_batches, MAX_VAL_BATCHES)):
            data, target = stream.batch(i)
            out = model(nd.array(data, ctx=ctx), *states)
            states = out[1:]
            nll = -nd.pick(nd.log_softmax(out[0], axis=-1), nd.array(target, ctx=ctx), axis=-1)
            total += nll.sum()
            count += data.size
    return float(total.asscalar()) / count


def train_generator(run_dir, corpus: Optional[CorpusRef], model_config: GeneratorConfig,
                    train_config: TrainConfig, resume: bool = False,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[object]:
    """Train (or resume) the generator in ``run_dir``, yielding events; saves as it goes.
    The run is locked while it trains: a second trainer of the same run is refused."""
    run = RunFolder(run_dir)
    with run.writing():
        yield from _train(run, corpus, model_config, train_config, resume, should_stop)


def _train(run: RunFolder, corpus, model_config, train_config: TrainConfig, resume: bool,
           should_stop: Callable[[], bool]) -> Iterator[object]:
    ctx = parse_ctx(train_config.ctx)
    meta = None
    if resume:
        meta = run.read_meta(kind="generator")
        model_config = GeneratorConfig.from_dict(meta["config"]["model"])
        train_config = train_config.resumed_from(meta["config"]["train"])
        c = meta["corpus"]
        corpus = CorpusRef(corpus.path if corpus else c["path"], c["name"], c.get("encoding", "utf-8"))
        vocab = CharVocab.from_json(meta["vocab"])
        encoded = encode_corpus(corpus.path, corpus.encoding, vocab)
        if encoded.info.sha256 != c["sha256"]:
            raise StudioError(f"{corpus.path}: the text changed since this run started "
                              f"(sha256 differs); resume needs the same text")
    else:
        if corpus is None:
            raise StudioError("no corpus given")
        run.require_new()
        encoded = encode_corpus(corpus.path, corpus.encoding)
        vocab = encoded.vocab
        model_config = model_config.replace(vocab_size=len(vocab))

    tc = train_config
    min_chunk = tc.batch_size * tc.seq_len + 1
    train_ids, val_ids = split_stream(encoded.ids, tc.val_fraction, min_chunk)
    train_stream = BPTTStream(train_ids, tc.batch_size, tc.seq_len)
    val_stream = BPTTStream(val_ids, min(tc.batch_size, max(1, (len(val_ids) - 1) // tc.seq_len)),
                            tc.seq_len)
    steps_per_epoch = train_stream.num_batches
    total_steps = math.ceil(tc.epochs * steps_per_epoch) if tc.epochs is not None else None

    seed_everything(tc.seed)
    model = build_model(model_config, ctx)
    trainer = gluon.Trainer(model.collect_params(), "adam",
                            {"learning_rate": tc.lr, "wd": tc.weight_decay})
    hidden = model.begin_state(tc.batch_size, ctx)
    step, history, best = 0, [], None
    prior_seconds = 0.0
    if resume:
        meta = run.load_params(model, "last", ctx, meta)   # the checkpoint actually loaded
        arrays = run.load_states(meta)
        restore_trainer_state(trainer, model, arrays, meta["state"]["optimizer"], ctx)
        hidden = [arrays[f"hidden:{i}"].as_in_context(ctx) for i in range(len(hidden))]
        step = int(meta["state"]["step"])
        history, best = list(meta.get("history", [])), meta.get("best")
        prior_seconds = float(meta["state"].get("seconds", 0.0))
    else:
        meta = {"kind": "generator",
                "config": {"model": model_config.to_dict(), "train": tc.to_dict()},
                "vocab": vocab.to_json(), "labels": None,
                "corpus": _corpus_meta(corpus, encoded.info), "files": {}}
    if total_steps is not None and step >= total_steps:
        raise StudioError(f"{run.path} already finished its {tc.epochs:g} epoch(s): "
                          f"pass a larger --epochs (or --minutes) to train on")

    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in model.collect_params().values() if p.grad_req != "null"]
    sampler_seed = tc.seed
    start_time = time.time()
    deadline = start_time + tc.minutes * 60 if tc.minutes is not None else None
    yield Started(str(run.path), total_steps, step, count_parameters(model),
                  {"chars": encoded.num_chars, "vocab": len(vocab), "steps_per_epoch": steps_per_epoch,
                   "train_chars": len(train_ids), "val_chars": len(val_ids)})

    def checkpoint(val_loss: Optional[float]):
        nonlocal meta, best
        is_best = val_loss is not None and (best is None or val_loss < best["val_loss"])
        if is_best:
            best = {"step": step, "epoch": step / steps_per_epoch, "val_loss": val_loss,
                    "bits_per_char": val_loss / math.log(2)}
        arrays, opt_info = trainer_state(trainer, model)
        arrays.update({f"hidden:{i}": h for i, h in enumerate(hidden)})
        meta.update(history=history, best=best,
                    state={"step": step, "epoch": step / steps_per_epoch,
                           "seconds": prior_seconds + time.time() - start_time,
                           "optimizer": opt_info})
        meta = run.save_checkpoint(model, meta, arrays, best=is_best or "best.params" not in meta["files"])
        return is_best

    def validate(epoch: int):
        """Validation loss, checkpoint, and a preview sample: the events of one validation."""
        val_loss = validation_loss(model, val_stream, ctx)
        if history and history[-1]["step"] == step:
            history[-1]["val_loss"] = val_loss
        else:
            history.append({"step": step, "epoch": step / steps_per_epoch, "train_loss": None,
                            "val_loss": val_loss, "seconds": prior_seconds + time.time() - start_time})
        is_best = checkpoint(val_loss)
        yield Validated(step, epoch, val_loss, is_best, {"bits_per_char": val_loss / math.log(2)})
        yield Saved(step, str(run.path), is_best)
        if tc.sample_length > 0:
            text = Sampler(model, vocab, ctx).sample_text(length=tc.sample_length, temperature=0.8,
                                                          seed=sampler_seed)
            meta["sample"] = text
            run.write_meta(meta)
            yield SampleReady(step, text)

    loss_sum, loss_steps, interval_start = nd.zeros((1,), ctx=ctx), 0, time.time()
    while (reason := stop_reason(step, total_steps, should_stop, deadline)) is None:
        epoch, index = divmod(step, steps_per_epoch)
        if index == 0:
            hidden = model.begin_state(tc.batch_size, ctx)
        lr = learning_rate(step, steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay)
        trainer.set_learning_rate(lr)
        if model_config.dropout > 0:
            seed_step(tc.seed, step)
        data, target = train_stream.batch(index)
        x, y = nd.array(data, ctx=ctx), nd.array(target, ctx=ctx)
        hidden = [h.detach() for h in hidden]
        with autograd.record():
            out = model(x, *hidden)
            loss = loss_fn(out[0], y).mean()
        loss.backward()
        hidden = list(out[1:])
        gluon.utils.clip_global_norm([p.grad(ctx) for p in params], tc.clip, check_isfinite=False)
        trainer.step(1)
        loss_sum += loss
        loss_steps += 1
        step += 1

        if step % tc.log_interval == 0 or step == total_steps:
            mean_loss = float(loss_sum.asscalar()) / loss_steps   # the one device sync per interval
            if not math.isfinite(mean_loss):
                raise StudioError(f"training diverged at step {step} (loss is {mean_loss}); "
                                  f"try a lower --lr")
            now = time.time()
            rate = loss_steps * data.size / max(now - interval_start, 1e-9)
            elapsed = now - start_time
            eta = None
            if total_steps is not None:
                eta = (total_steps - step) * data.size / max(rate, 1e-9)
            if deadline is not None:
                eta = min(eta, deadline - now) if eta is not None else deadline - now
            history.append({"step": step, "epoch": step / steps_per_epoch, "train_loss": mean_loss,
                            "val_loss": None, "seconds": prior_seconds + elapsed})
            yield Progress(step, epoch, mean_loss, lr, rate, elapsed, eta, total_steps)
            loss_sum, loss_steps, interval_start = nd.zeros((1,), ctx=ctx), 0, time.time()

        if step % tc.val_interval == 0 or step % steps_per_epoch == 0 or step == total_steps:
            yield from validate(epoch)
            interval_start = time.time()

    if reason == "time budget" and meta.get("state", {}).get("step") != step:
        # the budget ran out between validations: score the final parameters too, so that
        # "best" can be the last thing learned
        yield from validate(step // steps_per_epoch)
    elif not meta["files"] or meta["state"]["step"] != step:
        checkpoint(None)
        yield Saved(step, str(run.path), False)
    yield Finished(step, reason, str(run.path), best["val_loss"] if best else None,
                   time.time() - start_time)
