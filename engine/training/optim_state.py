"""Optimizer state without pickle.

``gluon.Trainer.save_states`` pickles the updater (mxnet/optimizer/optimizer.py, Updater.get_states),
so RNN Studio stores the same content itself: each parameter's state arrays in MXNet's NDArray
file format, and the update counters (Adam's bias correction needs them) as JSON.
"""
from typing import Dict, Tuple

from mxnet import gluon, nd

from engine.errors import StudioError


def _flatten(state):
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flatten(s)]
    return [state]


def _structure(state):
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return [_structure(s) for s in state]
    return "array"


def _rebuild(structure, arrays):
    if structure is None:
        return None
    if structure == "array":
        return arrays.pop(0)
    return tuple(_rebuild(s, arrays) for s in structure)


def _ensure_updater(trainer: gluon.Trainer):
    if not trainer._kv_initialized:
        trainer._init_kvstore()
    if trainer._update_on_kvstore:
        raise StudioError("optimizer state of a distributed (update-on-kvstore) trainer lives on "
                          "the parameter server and cannot be saved from a worker")
    return trainer._updaters[0]


def _structural_names(trainer: gluon.Trainer, model: gluon.Block):
    """Parameter names that do not depend on how many blocks were made before (``encoder.l0_...``)."""
    key_of = {id(p): k for k, p in model._collect_params_with_prefix().items()}
    return [key_of[id(p)] for p in trainer._params]


def trainer_state(trainer: gluon.Trainer, model: gluon.Block) -> Tuple[Dict[str, nd.NDArray], dict]:
    """(arrays keyed 'opt:<param>:<j>', JSON-able counters) for ``trainer`` over ``model``."""
    names = _structural_names(trainer, model)
    updater = _ensure_updater(trainer)
    opt = updater.optimizer
    arrays, structures, counts = {}, {}, {}
    for index, state in updater.states.items():
        name = names[index]
        structures[name] = _structure(state)
        for j, a in enumerate(_flatten(state)):
            arrays[f"opt:{name}:{j}"] = a
        if index in opt._index_update_count:
            counts[name] = opt._index_update_count[index]
    return arrays, {"structures": structures, "update_counts": counts, "num_update": opt.num_update}


def restore_trainer_state(trainer: gluon.Trainer, model: gluon.Block, arrays: Dict[str, nd.NDArray],
                          info: dict, contexts):
    """Load what ``trainer_state`` produced into a freshly made trainer over the same
    parameters: into each device's updater (``contexts``: one context or a list)."""
    by_name = {name: i for i, name in enumerate(_structural_names(trainer, model))}
    _ensure_updater(trainer)
    contexts = contexts if isinstance(contexts, (list, tuple)) else [contexts]
    opt = trainer._updaters[0].optimizer
    for name, structure in info["structures"].items():
        if name not in by_name:
            raise StudioError(f"trainer.states names parameter {name!r}, which the model lacks")
        index = by_name[name]
        keys = sorted((k for k in arrays if k.startswith(f"opt:{name}:")),
                      key=lambda k: int(k.rsplit(":", 1)[1]))
        for updater, ctx in zip(trainer._updaters, contexts):
            updater.states[index] = _rebuild(structure, [arrays[k].as_in_context(ctx)
                                                         for k in keys])
            updater.states_synced[index] = True
    for ctx in reversed(contexts):      # each device keeps its own update counts
        opt._set_current_context(ctx.device_id)
        for name, count in info["update_counts"].items():
            opt._index_update_count[by_name[name]] = int(count)
    opt.num_update = int(info["num_update"])
