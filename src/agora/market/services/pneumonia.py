"""Pneumonia detection as a service: the federated X-ray model behind HTTP.

Inputs: a PNG or JPEG chest X-ray of any size and mode (converted to grey,
resized to 28x28 with area averaging, as PneumoniaMNIST was made), or JSON
``{"image": [[…28 numbers 0-255…] x 28]}``. Output: the pneumonia
probability and the label at the decision threshold chosen on validation.
"""

import io
import json
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from sklearn.metrics import roc_auc_score
from torch import nn

from agora.health.xray import ImageSplit, predict_proba
from agora.market.services.errors import UnusableInputError
from agora.market.services.runtime import Caller

SIDE = 28
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
"""Decompression-bomb guard: larger images are refused, not decoded."""


class PneumoniaService:
    """A :class:`~agora.market.services.runtime.ServiceHandler`."""

    name: str = "pneumonia-detection"
    description: str = (
        "Chest X-ray to probability of pneumonia (model trained federated by "
        "three hospitals on PneumoniaMNIST)."
    )
    accepts: tuple[str, ...] = ("image/png", "image/jpeg", "application/json")

    def __init__(self, model: nn.Module, *, threshold: float) -> None:
        self._model = model.eval()
        self.threshold = threshold

    def answer(
        self, body: bytes, content_type: str, *, caller: Caller
    ) -> dict[str, Any]:
        del caller  # anyone with a deposit may ask
        pixels = self.pixels(body, content_type)
        split = ImageSplit(pixels[np.newaxis], np.zeros(1, dtype=np.int64))
        probability = float(predict_proba(self._model, split)[0])
        return {
            "probability": round(probability, 6),
            "label": "pneumonia" if probability >= self.threshold else "normal",
            "threshold": self.threshold,
        }

    def evaluate(self, split: ImageSplit) -> dict[str, float]:
        """The service's own evaluation: AUC and accuracy at its threshold
        on ``split`` (the official test split, for the listing)."""
        probabilities = predict_proba(self._model, split)
        labels = split.labels
        predicted = probabilities >= self.threshold
        return {
            "test_auc": float(roc_auc_score(labels, probabilities)),
            "test_acc": float(np.mean(predicted == labels.astype(bool))),
            "threshold": self.threshold,
            "rows": int(labels.size),
        }

    @staticmethod
    def pixels(body: bytes, content_type: str) -> np.ndarray:
        """The 28x28 ``uint8`` image in ``body``; raises
        :class:`UnusableInputError` saying why it is not one."""
        if not body:
            raise UnusableInputError("the body is empty: send an image")
        if len(body) > MAX_IMAGE_BYTES:
            raise UnusableInputError(f"images are at most {MAX_IMAGE_BYTES} bytes")
        if content_type == "application/json":
            return _array(body)
        if content_type not in ("image/png", "image/jpeg"):
            raise UnusableInputError(
                "Content-Type must be image/png, image/jpeg or application/json"
            )
        try:
            with Image.open(io.BytesIO(body)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise UnusableInputError("the image has too many pixels")
                grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
                return np.array(grey, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            raise UnusableInputError("the body is not a readable PNG or JPEG") from None


def _array(body: bytes) -> np.ndarray:
    try:
        value = json.loads(body)
        array = np.asarray(value["image"], dtype=np.float64)
    except (ValueError, KeyError, TypeError):
        raise UnusableInputError('JSON input is {"image": 28x28 numbers}') from None
    if array.shape != (SIDE, SIDE) or not np.isfinite(array).all():
        raise UnusableInputError("the image array must be 28x28 finite numbers")
    if array.min() < 0 or array.max() > 255:
        raise UnusableInputError("pixel values must be between 0 and 255")
    return np.rint(array).astype(np.uint8)
