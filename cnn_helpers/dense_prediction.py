"""Dense prediction: a fully convolutional net answers for every pixel (lesson 10).

- :func:`fully_conv_net`: "same" convolutions only, one score map per class;
- :class:`PixelSoftmaxCrossEntropy`: the per-pixel loss for segmentation;
- :func:`heatmap` and :func:`locate`: detection as the argmax of a probability map;
- :func:`iou` and :func:`pixel_accuracy`: how well a predicted mask matches the true one;
- :func:`box_iou` and :func:`non_max_suppression`: boxes for several objects, scored and de-duplicated.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers._validation import as_array, as_int, describe
from cnn_helpers.layers import Conv2D, Loss, ReLU, SoftmaxCrossEntropy, make_rng, softmax
from cnn_helpers.model import Sequential

__all__ = [
    "fully_conv_net",
    "PixelSoftmaxCrossEntropy",
    "heatmap",
    "locate",
    "iou",
    "pixel_accuracy",
    "box_iou",
    "non_max_suppression",
]


def fully_conv_net(in_channels=1, hidden=(8, 8, 8), out_channels=1, kernel_size=3, rng=0, dtype=np.float32):
    """A net of "same" convolutions only, so it outputs one score map per class (lesson 10).

    ``conv k x k (pad k // 2) - ReLU`` for each width in ``hidden``, then a 1x1 convolution to
    ``out_channels`` maps of the input's height and width. No pooling or dense layer: every
    output pixel is computed from the input patch around it (receptive field
    ``1 + len(hidden) * (k - 1)``), so the output is a map of *where* things are.

    Parameters
    ----------
    in_channels : int, optional
    hidden : sequence of int, optional
        Channels of each hidden convolution.
    out_channels : int, optional
        1 for a heat map, number of classes for a segmentation.
    kernel_size : int, optional
        Odd.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Returns
    -------
    Sequential
        x shape (N, in_channels, H, W) -> (N, out_channels, H, W)

    Examples
    --------
    >>> net = fully_conv_net(1, hidden=(4, 4), out_channels=2)
    >>> net.forward(np.zeros((3, 1, 10, 12), dtype=np.float32)).shape
    (3, 2, 10, 12)
    >>> from cnn_helpers.receptive_field import receptive_field
    >>> receptive_field(net)
    5
    """
    k = as_int("kernel_size", kernel_size, minimum=1)
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"hidden must be a sequence of channel counts, got {describe(hidden)}")
    rng = make_rng(rng)
    layers, channels = [], as_int("in_channels", in_channels, minimum=1)
    for i, width in enumerate(hidden):
        width = as_int(f"hidden[{i}]", width, minimum=1)
        layers += [Conv2D(channels, width, k, padding=k // 2, rng=rng, dtype=dtype), ReLU()]
        channels = width
    layers.append(Conv2D(channels, as_int("out_channels", out_channels, minimum=1), 1, rng=rng, dtype=dtype))
    return Sequential(*layers)


class PixelSoftmaxCrossEntropy(Loss):
    """Softmax cross-entropy for every pixel, averaged (segmentation, lesson 10).

    ``forward(logits, labels)`` with logits (N, K, H, W) and integer labels (N, H, W) treats
    each pixel as one example of :class:`~cnn_helpers.layers.SoftmaxCrossEntropy`;
    ``backward()`` returns d(loss)/d(logits) of shape (N, K, H, W).

    Examples
    --------
    >>> loss = PixelSoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2), dtype=int)), 4)   # log 2
    0.6931
    >>> loss.backward().shape
    (1, 2, 2, 2)
    """

    def __init__(self):
        self._loss = SoftmaxCrossEntropy()
        self._shape = None

    def forward(self, logits, labels):
        logits = as_array("logits", logits)
        if logits.ndim != 4:
            raise ValueError(f"logits must have shape (N, classes, H, W), got shape {logits.shape}")
        labels = np.asarray(labels)
        n, k, h, w = logits.shape
        if labels.shape != (n, h, w):
            raise ValueError(
                f"labels must have shape {(n, h, w)}, one class per pixel, got shape {labels.shape}"
            )
        self._shape = logits.shape
        flat = logits.transpose(0, 2, 3, 1).reshape(-1, k)  # one row per pixel
        return self._loss.forward(flat, labels.reshape(-1))  # the labels rule of as_labels

    def backward(self, dout=1.0):
        """d(loss)/d(logits), shape (N, K, H, W); ``dout`` a number."""
        if self._shape is None:
            raise RuntimeError(
                "PixelSoftmaxCrossEntropy.backward called before forward: run forward(logits, labels) first"
            )
        n, k, h, w = self._shape
        return self._loss.backward(self._dout(dout)).reshape(n, h, w, k).transpose(0, 3, 1, 2)


def heatmap(scores):
    """Turn one score map per image into a probability map over pixels (softmax over pixels).

    Parameters
    ----------
    scores : array_like, shape (N, 1, H, W) or (N, H, W)

    Returns
    -------
    ndarray, shape (N, H, W)
        Non-negative, each image's map sums to 1.

    Examples
    --------
    >>> heatmap(np.zeros((1, 1, 2, 2)))
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    scores = as_array("scores", scores)
    if scores.ndim == 4 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 3:
        raise ValueError(f"scores must have shape (N, 1, H, W) or (N, H, W), got shape {scores.shape}")
    n, h, w = scores.shape
    return softmax(scores.reshape(n, h * w), axis=1).reshape(n, h, w)


def locate(maps):
    """(row, col) of each map's largest value: detection as the argmax of a heat map.

    Parameters
    ----------
    maps : array_like, shape (N, H, W) or (N, 1, H, W)

    Returns
    -------
    ndarray of int64, shape (N, 2)

    Examples
    --------
    >>> locate(np.array([[[0, 1], [5, 2]]]))
    array([[1, 0]])
    """
    maps = as_array("maps", maps)
    if maps.ndim == 4 and maps.shape[1] == 1:
        maps = maps[:, 0]
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (N, H, W) or (N, 1, H, W), got shape {maps.shape}")
    n, h, w = maps.shape
    flat = maps.reshape(n, h * w).argmax(axis=1)
    return np.stack([flat // w, flat % w], axis=1).astype(np.int64)


def _masks(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
    for name, mask in (("pred", pred), ("target", target)):
        if mask.dtype != bool and not (mask.dtype.kind in "iuf" and np.isin(mask, (0, 1)).all()):
            raise ValueError(f"{name} must be a mask of booleans or 0/1 values, got {describe(mask)}")
    return pred.astype(bool), target.astype(bool)


def iou(pred, target):
    """Intersection over union of two masks: |pred AND target| / |pred OR target| (lesson 10).

    1 when the masks agree exactly, 0 when they do not overlap. Two empty masks agree: 1.

    Parameters
    ----------
    pred, target : array_like of bool or 0/1, same shape (any)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> iou([1, 1, 0, 0], [0, 1, 1, 0])       # 1 pixel in both, 3 in either
    0.3333333333333333
    """
    pred, target = _masks(pred, target)
    union = np.count_nonzero(pred | target)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & target) / union)


def pixel_accuracy(pred, target):
    """Fraction of pixels where two masks agree.

    >>> pixel_accuracy([1, 1, 0, 0], [0, 1, 1, 0])
    0.5
    """
    pred, target = _masks(pred, target)
    if pred.size == 0:
        raise ValueError("pixel accuracy of empty masks is undefined")
    return float(np.mean(pred == target))


# --------------------------------------------------------------------------------------------
# Boxes: detection of several objects (lesson 10)


def _as_boxes(name, boxes):
    boxes = as_array(name, boxes)
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name} must be boxes (top, left, bottom, right), shape (M, 4) or (4,), got shape {boxes.shape}"
        )
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError(
            f"{name} must have bottom >= top and right >= left in every box (top, left, bottom, right)"
        )
    return boxes.astype(np.float64)


def box_iou(a, b):
    """Intersection over union of every box in ``a`` with every box in ``b`` (lesson 10).

    Boxes are ``(top, left, bottom, right)`` with bottom and right exclusive, as
    ``make_shapes_dataset`` returns them, so a box covers ``(bottom - top) * (right - left)``
    pixels. Two empty boxes have IoU 0.

    Parameters
    ----------
    a : array_like, shape (M, 4) or (4,)
    b : array_like, shape (K, 4) or (4,)

    Returns
    -------
    ndarray, shape (M, K)

    Examples
    --------
    >>> box_iou([0, 0, 2, 2], [[0, 1, 2, 3], [0, 0, 2, 2], [5, 5, 6, 6]])   # 2 / 6, 4 / 4, 0
    array([[0.33333333, 1.        , 0.        ]])
    """
    a, b = _as_boxes("a", a), _as_boxes("b", b)
    top = np.maximum(a[:, None, 0], b[None, :, 0])
    left = np.maximum(a[:, None, 1], b[None, :, 1])
    bottom = np.minimum(a[:, None, 2], b[None, :, 2])
    right = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def non_max_suppression(boxes, scores, iou_threshold=0.5):
    """Greedy non-maximum suppression: indices of the boxes kept, best score first (lesson 10).

    Take the highest-scoring box, drop every remaining box that overlaps it with IoU above
    ``iou_threshold`` (the same object found again), and repeat with what is left.

    Parameters
    ----------
    boxes : array_like, shape (M, 4)
    scores : array_like, shape (M,)
    iou_threshold : float, optional

    Returns
    -------
    ndarray of int64, shape (K,)

    Examples
    --------
    >>> boxes = [[0, 0, 4, 4], [0, 1, 4, 5], [8, 8, 12, 12]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7])            # box 1 overlaps box 0 (IoU 0.6)
    array([0, 2])
    """
    boxes = _as_boxes("boxes", boxes) if len(np.asarray(boxes)) else np.zeros((0, 4))
    scores = as_array("scores", scores).astype(np.float64).ravel()
    if scores.shape != (len(boxes),):
        raise ValueError(
            f"scores must have one score per box, shape ({len(boxes)},), got shape {scores.shape}"
        )
    threshold = float(iou_threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"iou_threshold must be between 0 and 1, got {iou_threshold!r}")
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best = order[0]
        keep.append(best)
        order = order[1:][box_iou(boxes[best], boxes[order[1:]])[0] <= threshold]
    return np.array(keep, dtype=np.int64)
