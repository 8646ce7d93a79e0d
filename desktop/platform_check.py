"""Can a window be opened here? Checked before the QApplication exists, because on a bare Linux
system Qt's xcb plugin aborts the whole process (SIGABRT) when its libraries are missing."""
import ctypes
import os
import sys
from typing import List, Optional

# library soname -> the Debian/Ubuntu package that provides it
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libX11-xcb.so.1": "libx11-xcb1",
}
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def missing_xcb_packages() -> List[str]:
    missing = []
    for soname, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def display_problem() -> Optional[str]:
    """None when a window can open; otherwise a message saying why and what to do."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform != "linux" or platform.split(":")[0] in HEADLESS_PLATFORMS:
        return None
    if platform.startswith("wayland") or (not platform and os.environ.get("WAYLAND_DISPLAY")
                                          and not os.environ.get("DISPLAY")):
        return None
    if not os.environ.get("DISPLAY"):
        return ("no display found (DISPLAY is not set), so the desktop app cannot open a window. "
                "Use the command line instead: `rnn-studio --help` (for example `rnn-studio "
                "generator train --corpus shakespeare --out bard --minutes 10`).")
    missing = missing_xcb_packages()
    if missing:
        return ("Qt's X11 (xcb) platform needs libraries that are not installed. On Debian or "
                "Ubuntu: sudo apt-get install " + " ".join(missing) +
                ". Meanwhile the command line works: `rnn-studio --help`.")
    return None
