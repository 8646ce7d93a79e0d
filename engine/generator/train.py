"""Training a CharRNN: its task for the shared training loop (engine/training/loop.py).

Truncated BPTT over contiguous streams with the hidden state carried between batches (and saved
with each checkpoint, so a stopped and resumed run ends with the same parameters as an
uninterrupted one), a validation split scored every ``val_interval`` steps, and a sample preview
after each validation and by time between them.
"""
import math
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Optional

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.data import BPTTStream, CharVocab, encode_corpus, encoded_cache_path, split_stream
from engine.errors import StudioError
from engine.events import SampleReady
from engine.generator.cells import parameter_count
from engine.memory import require_room
from engine.generator.precision import TrainingPath, path_for_cell, training_path
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training.seeding import seed_everything
from engine.training import loop
from engine.training.distributed import Cluster
from engine.generator.model import CharRNN
from engine.generator.sampling.novelty import PreviewNovelty
from engine.generator.sampling.sample import Sampler

FP32 = TrainingPath("fp32", "fused")
MAX_VAL_BATCHES = 100      # validation looks at most this many batches (bounded cost on huge texts)


@dataclass
class CorpusRef:
    path: str
    name: str
    encoding: str = "utf-8"


def _corpus_meta(ref: CorpusRef, info) -> dict:
    return {"name": ref.name, "path": str(Path(ref.path).resolve()), "sha256": info.sha256,
            "size": info.size, "encoding": ref.encoding}


def build_model(config: GeneratorConfig, ctx, path: TrainingPath = FP32) -> CharRNN:
    """The model to train, its recurrent layer as ``path`` says (precision.py)."""
    model = CharRNN(config, layer=path.layer, bf16=path.bf16)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    model.hybridize(static_alloc=True, static_shape=True)
    return model


def validation_batches(stream: BPTTStream) -> int:
    return min(stream.num_batches, MAX_VAL_BATCHES)


def validation_sums(model: CharRNN, stream: BPTTStream, ctx, part) -> tuple:
    """(summed cross-entropy in nats, characters) over the stream's batches [start, stop),
    the state carried along from a fresh one at ``start``."""
    states = model.begin_state(stream.batch_size, ctx)
    total, count = nd.zeros((1,), ctx=ctx), 0
    with autograd.predict_mode():
        for i in range(*part):
            data, target = stream.batch(i)
            out = model(nd.array(data, ctx=ctx), *states)
            states = out[1:]
            nll = -nd.pick(nd.log_softmax(out[0], axis=-1), nd.array(target, ctx=ctx), axis=-1)
            total += nll.sum()
            count += data.size
    return float(total.asscalar()), count


PREVIEW_FIRST_S = 20.0      # the first preview this many seconds into a training session
PREVIEW_EVERY_S = 60.0      # and another after this long without one


class GeneratorTask(loop.Task):
    """Next-character prediction over BPTT windows; the best checkpoint has the lowest
    validation loss."""

    def __init__(self, model: CharRNN, vocab: CharVocab, train_stream: BPTTStream,
                 val_stream: BPTTStream, tc: TrainConfig, ctx, info: dict,
                 path: TrainingPath = FP32):
        self.model, self.trainable, self.vocab, self.ctx = model, model.collect_params(), vocab, ctx
        self.train_stream, self.val_stream, self.tc = train_stream, val_stream, tc
        self.steps_per_epoch = train_stream.num_batches
        self.validate_every = tc.val_interval
        self.random_steps = model.config.dropout > 0
        self.info, self.path = info, path
        self.hidden = model.begin_state(tc.batch_size, ctx)
        self.loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        self.preview_novelty: Optional[PreviewNovelty] = None
        self._next_preview = time.monotonic() + PREVIEW_FIRST_S

    @classmethod
    def prepare(cls, run: RunFolder, corpus: Optional[CorpusRef], model_config: GeneratorConfig,
                tc: TrainConfig, resume: bool, ctx, cluster: Optional[Cluster] = None):
        """Read and encode the text (a resumed run: the same text, checked), build the model.
        Of several workers, each trains on its own contiguous share of the training text.
        Returns (task, the training settings in force, the run's meta)."""
        cluster = cluster or Cluster()
        path = training_path(tc.precision, tc.ctx)    # a bf16 this machine lacks stops here
        meta, model_config, tc, corpus = loop.opening(
            run, "generator", GeneratorConfig, model_config, tc, corpus, resume, cluster,
            lambda c, given: CorpusRef(given.path if given else c["path"], c["name"],
                                       c.get("encoding", "utf-8")), what="corpus")
        if resume:
            vocab = CharVocab.from_json(meta.vocab)
            encoded = encode_corpus(corpus.path, corpus.encoding, vocab)
            if encoded.info.sha256 != meta.corpus["sha256"]:
                raise StudioError(f"{corpus.path}: the text changed since this run started "
                                  f"(sha256 differs); resume needs the same text")
        else:
            encoded = encode_corpus(corpus.path, corpus.encoding)
            vocab = encoded.vocab
            model_config = model_config.replace(vocab_size=len(vocab))
        path = path_for_cell(path, tc.precision, model_config.mode)
        min_chunk = tc.batch_size * tc.seq_len + 1
        train_ids, val_ids = split_stream(encoded.ids, tc.val_fraction, min_chunk)
        start, stop = cluster.share(len(train_ids))
        if stop - start < min_chunk:
            raise StudioError(f"{corpus.path}: too short to give {cluster.num_workers} workers "
                              f"a batch each ({len(train_ids):,} training characters)")
        train_stream = BPTTStream(train_ids[start:stop], tc.batch_size, tc.seq_len)
        val_batch = min(tc.batch_size, max(1, (len(val_ids) - 1) // tc.seq_len))
        val_stream = BPTTStream(val_ids, val_batch, tc.seq_len)
        if not resume:
            meta = RunMeta("generator", {"model": model_config.to_dict(), "train": tc.to_dict()},
                           vocab=vocab.to_json(), corpus=_corpus_meta(corpus, encoded.info))
        seed_everything(tc.seed)
        info = {"chars": encoded.num_chars, "vocab": len(vocab),
                "steps_per_epoch": train_stream.num_batches, "train_chars": len(train_ids),
                "val_chars": len(val_ids), "precision": path.describe()}
        require_room(parameter_count(model_config, len(vocab)))   # before a byte of it exists
        task = cls(build_model(model_config, ctx, path), vocab, train_stream, val_stream, tc, ctx,
                   info, path)
        task.preview_novelty = PreviewNovelty(
            encoded.ids, encoded_cache_path(encoded.info.sha256, vocab), vocab)
        return task, tc, meta

    def begin_epoch(self, epoch: int, from_start: bool):
        if from_start:                          # each epoch reads the streams from their start
            self.hidden = self.model.begin_state(self.tc.batch_size, self.ctx)

    def forward(self, index: int):
        data, target = self.train_stream.batch(index)
        if len(self.contexts) > 1:
            return self._forward_shared(data, target)
        hidden = [h.detach() for h in self.hidden]
        out = self.model(nd.array(data, ctx=self.ctx), *hidden)
        self.hidden = list(out[1:])
        loss = self.loss_fn(out[0], nd.array(target, ctx=self.ctx)).mean()
        return loss, data.size, None

    def _forward_shared(self, data, target):
        """The batch's streams shared out over the devices (Gluon's ``split_and_load`` along
        the batch axis), each device with its streams' hidden state; the state is kept whole on
        the first device, so checkpoints look the same whatever the devices."""
        devices = self.contexts
        inputs = gluon.utils.split_and_load(data, devices, batch_axis=1, even_split=False)
        targets = gluon.utils.split_and_load(target, devices, batch_axis=1, even_split=False)
        bounds = np.cumsum([0] + [x.shape[1] for x in inputs])
        losses, states = [], []
        for i, (x, y, ctx) in enumerate(zip(inputs, targets, devices)):
            hidden = [h[:, bounds[i]:bounds[i + 1]].as_in_context(ctx).detach()
                      for h in self.hidden]
            out = self.model(x, *hidden)
            states.append(out[1:])
            # weighted by the device's share of the streams: the devices' average is the
            # batch's mean even when the batch does not split evenly
            share = x.shape[1] * len(devices) / data.shape[1]
            losses.append(self.loss_fn(out[0], y).mean() * share)
        self.hidden = [nd.concat(*[s[k].as_in_context(self.ctx) for s in states], dim=1)
                       for k in range(len(self.hidden))]
        return losses, data.size, None

    def validation_items(self) -> int:
        return validation_batches(self.val_stream)

    def validation_sums(self, part):
        total, chars = validation_sums(self.model, self.val_stream, self.ctx, part)
        return {"nll": total, "chars": chars}

    def validation_result(self, sums) -> loop.Validation:
        val_loss = float(sums["nll"]) / float(sums["chars"])
        return loop.Validation(val_loss, {"bits_per_char": val_loss / math.log(2)})

    def data_changed(self):
        return self.train_stream.changed()      # the two streams read one cache file

    def carried_state(self):
        """The hidden state, and the precision this session trains in (into the run's meta)."""
        return ({f"hidden:{i}": h for i, h in enumerate(self.hidden)},
                {"precision": self.path.precision})

    def restore(self, arrays, info):
        self.hidden = [arrays[f"hidden:{i}"].as_in_context(self.ctx)
                       for i in range(len(self.hidden))]

    def after_validation(self, step: int, run: RunFolder, meta: RunMeta):
        """A preview of what the model writes now (always from the same seed), and how much of
        it is copied from the training text; it is kept in the run's record."""
        if self.tc.sample_length > 0:
            meta.sample = self._preview_text()
            run.write_meta(meta)
            yield self._preview(step, meta.sample)

    def between_validations(self, step: int):
        """Previews by time as well as by validation: the first PREVIEW_FIRST_S seconds into a
        session, then every PREVIEW_EVERY_S without one, so a 2-minute run on a slow machine
        shows what it learns while it learns (its first validation may be its last step). The
        sampler draws from its own seeded generator: training computes the same either way."""
        if self.tc.sample_length > 0 and time.monotonic() >= self._next_preview:
            yield self._preview(step, self._preview_text())

    def _preview_text(self) -> str:
        return Sampler(self.model, self.vocab, self.ctx).sample_text(
            length=self.tc.sample_length, seed=self.tc.seed)

    def _preview(self, step: int, text: str) -> SampleReady:
        self._next_preview = time.monotonic() + PREVIEW_EVERY_S
        novelty = self.preview_novelty.fields(text) if self.preview_novelty else {}
        return SampleReady(step, text, **novelty)


# Train (or resume) the generator in a run folder, yielding events; saves as it goes. The run is
# locked while it trains: a second trainer of the same run is refused. Called as
# train_generator(run_dir, corpus, model_config, train_config, resume=False, should_stop=...).
train_generator = partial(loop.train_task, GeneratorTask)
