"""A TFLite conversion of the served model gives the Keras model's probabilities (within 1e-3).

`make bench` measures it about 3x faster per image on CPU; this keeps the two interchangeable.
"""

import numpy as np
from PIL import Image

from conftest import lesion_image_paths
from inference.bench import tflite_predictor
from inference.engine import get_classifier


def test_tflite_matches_keras_on_the_committed_lesions():
    classifier = get_classifier()
    predict, size = tflite_predictor(classifier.model)
    assert size > 0
    for path in lesion_image_paths():
        with Image.open(path) as image:
            batch = classifier.inputs([image])
        keras_p = np.asarray(classifier.model.predict_on_batch(batch))
        tflite_p = predict(batch)
        assert tflite_p.shape == keras_p.shape == (1, 7)
        assert np.abs(tflite_p - keras_p).max() < 1e-3, path.name
