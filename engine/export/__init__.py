"""Deployable files made from a run: the export folder, each kind's exporter, ONNX workarounds."""
