"""Change over time, measured: lesion outline, ABCD-style measures, photo alignment, thresholds.

Pure numpy / scikit-image / Pillow, no Django: the worker calls it and `python -m lesions.change.study`
runs it on HAM10000 to set the thresholds in `thresholds.json`.
"""
