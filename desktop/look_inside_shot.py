"""A picture of the Look inside view for the README: ``python -m desktop.look_inside_shot RUN
OUT.png [--start N] [--length N] [--rank-by PROPERTY] [--cell LAYER:INDEX]``.

Opens the view offscreen on run ``RUN``, records a slice of its training text through the real
engine thread, ranks by a property (or colours by the given cell) and saves ``widget.grab()``.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run")
    parser.add_argument("out")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--length", type=int, default=3000)
    parser.add_argument("--rank-by", default=None, help="a property to show (default: the "
                        "best-tracked one)")
    parser.add_argument("--cell", default=None, help="colour by this cell (e.g. 2:37c)")
    parser.add_argument("--size", default="1260x640")
    args = parser.parse_args(argv)

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from desktop.look_inside import LookInsideView
    from desktop.workers import EngineThread
    from engine.runs import resolve_run
    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    engine = EngineThread()
    view = LookInsideView(engine)
    view.resize(*map(int, args.size.split("x")))
    view.show()
    view.set_run(str(resolve_run(args.run)))
    view.start.setValue(args.start)
    view.length.setValue(args.length)
    view.record()
    while engine.busy:
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()
    if view.look is None:
        sys.exit(f"recording failed: {view.status.text()}")
    if args.rank_by:
        view.rank_by.setCurrentIndex(view.rank_by.findData(args.rank_by))
    if args.cell:                   # picked in the list where it is listed, as a click does
        cell = view.look.recording.parse_cell(args.cell)
        listed = view.cells.findItems(cell.name, Qt.MatchExactly, 0)
        view.cells.setCurrentItem(listed[0]) if listed else view.show_cell(cell)
    for _ in range(10):
        app.processEvents()
    view.grab().save(args.out)
    print(f"saved {args.out}: ranked by {view.rank_by.currentData()}, cells "
          f"{', '.join(view.ranked_cells()[:5])}")
    engine.shutdown()


if __name__ == "__main__":
    main()
