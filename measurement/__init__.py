"""Image measurement: lesion outline, ABCD-style measures, photo alignment, change thresholds.

Pure numpy / scikit-image / Pillow, no Django and no app: it sits below `inference` (the worker
measures every photo with it) and above `training` (the body-site words of the model contract).
`python -m evaluation.change_study` runs it on HAM10000 to set the thresholds in `thresholds.json`.
"""
