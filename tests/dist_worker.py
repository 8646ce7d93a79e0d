"""A launched worker for tests/test_distributed.py: runs the CLI's train command as any worker
does, then writes the parameters it ended with to $DIST_TEST_OUT/worker-<rank>.params (rank 0:
just before it scores the test split, which loads the best checkpoint)."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.main import main  # noqa: E402
from engine.training import loop  # noqa: E402

original = loop.train


def reporting_train(run, task, tc, meta, ctx, resume, should_stop=lambda: False, cluster=None,
                    contexts=None):
    out = Path(os.environ["DIST_TEST_OUT"]) / f"worker-{cluster.rank}.params"
    finish = task.finish

    def dump_then_finish(run, meta):
        task.model.save_parameters(str(out))
        return finish(run, meta)
    task.finish = dump_then_finish
    yield from original(run, task, tc, meta, ctx, resume, should_stop, cluster, contexts)
    if not cluster.writer:
        task.model.save_parameters(str(out))


loop.train = reporting_train
sys.exit(main(sys.argv[1:]))
