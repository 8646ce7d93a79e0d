"""Where things are kept: run folders and their record, atomic writes, the disk's faults, paths,
crash reports."""
