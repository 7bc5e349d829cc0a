"""Training, evaluation and export of Skinsite's lesion classifier (no Django, TensorFlow lazily).

`training.contract` is the one definition of how a photo becomes model input; the
inference engine imports it too, so serving can never drift from training.
"""
