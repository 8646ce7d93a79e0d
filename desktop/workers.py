"""The long-lived engine threads, and how the GUI talks to them.

MXNet's Gluon CachedOp is not thread-safe, so a hybridized model is only ever used by one
thread, never by the GUI thread or a rotating pool. The work runs on two ``QThread`` lanes (a
``QObject`` worker moved to each): the main lane runs everything (training, sampling, export,
Look inside) in the order it arrives; the interactive lane (``submit(..., lane=INTERACTIVE)``)
is for short work a person waits on while typing, the Write tab's suggestions, so that they do
not queue behind a training that runs for hours. The Write tab's model is loaded on the
interactive lane and used there only; the main lane never touches it. MXNet's threaded engine
takes operations pushed from several threads, and its autograd recording and training flags
are per thread, so a training on one lane and a suggestion on the other do not meet.

A job is a function ``fn(should_stop) -> iterable of events`` (or a plain return value),
submitted with the callbacks that hear from it: ``submit(name, fn, on_event=..., on_done=...,
on_error=...)``, as Orange3's ``ConcurrentMixin`` and napari's ``create_worker`` do. Each
lane's worker runs its jobs one at a time and reports through signals. Signals from a worker
thread are received by ``EngineThread``'s slots, which live in the GUI thread (PySide6 calls a
plain Python callable connected to a cross-thread signal *in the emitting thread*, which
crashes on widget access; a ``@Slot`` of a GUI-thread QObject is queued correctly), and those
slots call the job's callbacks, so every callback runs on the GUI thread. Callbacks only ever
receive engine events: dataclasses of floats and strings, never NDArrays.

``busy``, ``busy_with_runs``, ``running(name)`` and the ``busy_changed``/``jobs_changed``
signals cover the jobs of both lanes, and ``shutdown`` waits for both threads.
"""
import itertools
import threading
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

from PySide6.QtCore import QDeadlineTimer, QObject, QThread, Signal, Slot

from engine.errors import StudioError
from engine.wording import in_app_words


MAIN, INTERACTIVE = "main", "interactive"     # the lanes: everything, and short work typed for


def _ignore(*_):
    pass


@dataclass
class Job:
    name: str                                    # e.g. "gen-train", "gen-sample": what it is
    fn: Callable[[Callable[[], bool]], object]   # fn(should_stop) -> iterable of events or a value
    id: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    streams: bool = True                         # iterate fn's result and emit each item
    uses_runs: bool = True                       # reads or writes run folders (a data preview
                                                 # does not: deleting a run may go on beside it)
    lane: str = MAIN                             # which engine thread runs it
    on_event: Callable[[object], None] = _ignore     # each item, on the GUI thread
    on_done: Callable[[object], None] = _ignore      # the return value (None for streams)
    on_error: Callable[[str], None] = _ignore        # a readable message


class _Worker(QObject):
    """Lives in the engine thread; runs jobs in the order they arrive."""
    event = Signal(int, str, object)      # job id, job name, item
    finished = Signal(int, str, object)   # job id, job name, return value (None for streams)
    failed = Signal(int, str, str)        # job id, job name, readable message

    @Slot(object)
    def run(self, job: Job):
        if job.stop.is_set():                     # cancelled before it started
            self.finished.emit(job.id, job.name, None)
            return
        try:
            result = job.fn(job.stop.is_set)
            if job.streams:
                for item in result:
                    self.event.emit(job.id, job.name, item)
                result = None
        except StudioError as err:                # in the app's words: labels, not flags
            from engine.mxnet_failures import settled
            settled(err)            # MXNet's kept errors drained: the next job's wait is clean
            self.failed.emit(job.id, job.name, in_app_words(err))
        except Exception as err:              # a bug: keep the app alive and say what happened
            from engine.memory import as_out_of_memory
            from engine.mxnet_failures import settled
            from engine.storage.crash_report import describe_unexpected
            err = settled(err)    # the native library's own error; MXNet's kept ones drained
            if (memory := as_out_of_memory(err)) is not None:     # not a bug: what to shrink
                self.failed.emit(job.id, job.name, in_app_words(memory))
                return
            traceback.print_exc()
            message = describe_unexpected(err, f"the {job.name} job")
            self.failed.emit(job.id, job.name, message[0].upper() + message[1:])
        else:
            self.finished.emit(job.id, job.name, result)


class _Lane(QObject):
    """One engine thread and its worker; ``submit`` (emitted on the GUI thread) queues a job."""
    submit = Signal(object)

    def __init__(self, name: str, parent: QObject):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName(f"rnn-studio-{name}")
        self.worker = _Worker()
        self.worker.moveToThread(self.thread)
        self.submit.connect(self.worker.run)
        self.worker.event.connect(parent._on_event)
        self.worker.finished.connect(parent._on_finished)
        self.worker.failed.connect(parent._on_failed)
        self.thread.start()


class EngineThread(QObject):
    """GUI-thread handle on the engine threads: submit jobs with their callbacks, stop them."""
    busy_changed = Signal(bool)
    jobs_changed = Signal()               # a job was submitted or ended (buttons follow this)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending = {}                      # id -> Job, submitted and not yet ended
        self._lanes = {lane: _Lane("engine" if lane == MAIN else lane, self)
                       for lane in (MAIN, INTERACTIVE)}

    # ---- submitting -------------------------------------------------------------------------
    def submit(self, name: str, fn, on_event=None, on_done=None, on_error=None,
               streams: bool = True, uses_runs: bool = True, lane: str = MAIN) -> Job:
        """Queue ``fn`` on the engine thread ``lane`` (INTERACTIVE only for short work whose
        models live on that lane alone); the callbacks run on the GUI thread."""
        runner = self._lanes[lane]                # an unknown lane fails here, before it counts
        job = Job(name, fn, next(self._ids), streams=streams, uses_runs=uses_runs, lane=lane,
                  on_event=on_event or _ignore, on_done=on_done or _ignore,
                  on_error=on_error or _ignore)
        was_busy = self.busy
        self._pending[job.id] = job
        runner.submit.emit(job)
        if not was_busy:
            self.busy_changed.emit(True)
        self.jobs_changed.emit()
        return job

    def stop(self, name: Optional[str] = None):
        """Ask running and queued jobs (all, or those called ``name``) to stop."""
        for job in self._pending.values():
            if name is None or job.name == name:
                job.stop.set()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def busy_with_runs(self) -> bool:
        """A queued or running job reads or writes run folders (training, sampling, export)."""
        return any(j.uses_runs for j in self._pending.values())

    @property
    def training(self) -> bool:
        """A training job (of any tab: their names end in "-train") is queued or running."""
        return any(j.name.endswith("-train") for j in self._pending.values())

    def running(self, name: str) -> bool:
        return any(j.name == name for j in self._pending.values())

    def thread_of(self, lane: str = MAIN) -> QThread:
        """The thread that runs ``lane``'s jobs."""
        return self._lanes[lane].thread

    def shutdown(self, wait_ms: int = 30000) -> bool:
        """Stop everything and end both threads (a training job saves before it returns)."""
        self.stop()
        for lane in self._lanes.values():
            lane.thread.quit()
        deadline = QDeadlineTimer(wait_ms)
        ended = all([lane.thread.wait(deadline) for lane in self._lanes.values()])
        if ended:       # the jobs' last signals are still queued for a loop that will not run
            self._pending.clear()
            self.busy_changed.emit(False)
        return ended

    # ---- hearing back (these run in the GUI thread) -----------------------------------------
    def _end(self, job_id: int) -> Job:
        job = self._pending.pop(job_id, None) or Job("ended", _ignore)
        if not self._pending:
            self.busy_changed.emit(False)
        self.jobs_changed.emit()
        return job

    @Slot(int, str, object)
    def _on_event(self, job_id, name, item):
        job = self._pending.get(job_id)
        if job is not None:
            job.on_event(item)

    @Slot(int, str, object)
    def _on_finished(self, job_id, name, result):
        self._end(job_id).on_done(result)

    @Slot(int, str, str)
    def _on_failed(self, job_id, name, message):
        self._end(job_id).on_error(message)


class MainThreadGarbageCollector(QObject):
    """Runs Python's cyclic garbage collector on the GUI thread only, while the window lives.

    Left automatic, the collector runs in whichever thread happens to allocate, so the engine
    thread can end up destroying Qt widgets that sat in reference cycles; that deadlocked here
    (engine thread in ~QObject waiting for the GIL, GUI thread waiting for a Qt mutex).
    Automatic collection is switched off and the same thresholds are checked from a timer on the
    GUI thread (pyqtgraph's GarbageCollector does the same); ``stop`` switches it back on.
    """

    def __init__(self, parent: Optional[QObject] = None, interval_ms: int = 500):
        super().__init__(parent)
        import gc
        from PySide6.QtCore import QTimer
        self._was_enabled = gc.isenabled()
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    @Slot()
    def check(self):
        import gc
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                break

    def stop(self):
        import gc
        self.timer.stop()
        if self._was_enabled:
            gc.enable()
