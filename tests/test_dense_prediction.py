"""Dense prediction (lesson 10): the fully convolutional net, the per-pixel loss, heat maps, IoU."""

import numpy as np
import pytest

from cnn_helpers.dense_prediction import (
    PixelSoftmaxCrossEntropy,
    fully_conv_net,
    heatmap,
    iou,
    locate,
    pixel_accuracy,
)
from cnn_helpers.gradcheck import check_operation

F64 = np.float64


# ------------------------------------------------------------------------------------------
# Detection and segmentation helpers


def test_fully_conv_net_keeps_size_and_is_translation_equivariant(rng):
    net = fully_conv_net(1, hidden=(3, 3), out_channels=2, dtype=F64)
    x = np.zeros((1, 1, 12, 12))
    x[0, 0, 3:6, 3:6] = rng.standard_normal((3, 3))
    shifted = np.roll(x, (2, 3), axis=(2, 3))
    out, out_shifted = net.forward(x), net.forward(shifted)
    assert out.shape == (1, 2, 12, 12)
    np.testing.assert_allclose(np.roll(out, (2, 3), axis=(2, 3)), out_shifted, atol=1e-12)


def test_fully_conv_net_errors():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        fully_conv_net(kernel_size=4)
    with pytest.raises(TypeError, match="hidden must be a sequence"):
        fully_conv_net(hidden=8)


def test_pixel_softmax_cross_entropy_gradient(rng):
    labels = rng.integers(0, 3, size=(2, 4, 5))
    loss = PixelSoftmaxCrossEntropy()

    def forward(logits):
        return np.array(loss.forward(logits, labels))

    def backward(dout, logits):
        loss.forward(logits, labels)
        return loss.backward(float(dout))

    result = check_operation(
        forward, backward, {"logits": rng.standard_normal((2, 3, 4, 5))}, dout=np.array(1.3)
    )
    assert result.passed, str(result)
    with pytest.raises(ValueError, match="labels must have shape"):
        loss.forward(np.zeros((2, 3, 4, 5)), np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        PixelSoftmaxCrossEntropy().backward()


def test_heatmap_and_locate():
    scores = np.full((2, 1, 3, 4), -5.0)
    scores[0, 0, 1, 2] = 5.0
    scores[1, 0, 2, 0] = 5.0
    heat = heatmap(scores)
    np.testing.assert_allclose(heat.sum(axis=(1, 2)), 1.0)
    assert locate(heat).tolist() == [[1, 2], [2, 0]]
    assert locate(scores).tolist() == [[1, 2], [2, 0]]
    with pytest.raises(ValueError, match="maps must have shape"):
        locate(np.zeros((3, 4)))


def test_iou_and_pixel_accuracy():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2, :2] = True  # 4 pixels
    b[1:3, 1:3] = True  # 4 pixels, 1 shared
    assert iou(a, b) == pytest.approx(1 / 7)
    assert iou(a, a) == 1.0
    assert iou(np.zeros(3), np.zeros(3)) == 1.0
    assert pixel_accuracy(a, b) == pytest.approx(10 / 16)
    with pytest.raises(ValueError, match="same shape"):
        iou(a, b[:3])
    with pytest.raises(ValueError, match="pred must be a mask"):
        iou(np.full((4, 4), 0.5), b)


def test_pixel_loss_matches_torch(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    logits = rng.standard_normal((3, 4, 5, 6))
    labels = rng.integers(0, 4, size=(3, 5, 6))
    loss = PixelSoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    logits_torch = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(logits_torch, torch.tensor(labels))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grad, logits_torch.grad.numpy(), rtol=1e-10, atol=1e-14)


# --------------------------------------------------------------------------------------------
# Boxes: IoU and non-maximum suppression


from cnn_helpers.dense_prediction import box_iou, non_max_suppression  # noqa: E402


def _box_mask(box, size=20):
    mask = np.zeros((size, size), bool)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = True
    return mask


def test_box_iou_equals_the_mask_iou_of_the_boxes(rng):
    """Oracle: paint each box as a mask and count pixels."""
    corners = rng.integers(0, 20, size=(30, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1) + 1], axis=1)
    got = box_iou(boxes[:15], boxes[15:])
    for i in range(15):
        for j in range(15):
            a, b = _box_mask(boxes[i]), _box_mask(boxes[15 + j])
            assert got[i, j] == pytest.approx(np.count_nonzero(a & b) / np.count_nonzero(a | b))


def test_box_iou_by_hand():
    assert box_iou([0, 0, 2, 2], [1, 1, 3, 3])[0, 0] == pytest.approx(1 / 7)
    assert box_iou([0, 0, 2, 2], [2, 0, 4, 2])[0, 0] == 0.0  # touching edges share no pixel
    assert box_iou([0, 0, 0, 0], [0, 0, 0, 0])[0, 0] == 0.0  # empty boxes
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_non_max_suppression_keeps_one_box_per_object():
    boxes = np.array([[0, 0, 5, 5], [0, 1, 5, 6], [1, 0, 6, 5], [10, 10, 15, 15], [10, 11, 15, 16]])
    scores = np.array([0.5, 0.9, 0.4, 0.3, 0.8])
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, iou_threshold=0.3), [1, 4])
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, iou_threshold=1.0), [1, 4, 0, 2, 3])
    assert non_max_suppression(np.zeros((0, 4)), np.zeros(0)).shape == (0,)


def test_non_max_suppression_kept_boxes_never_overlap_too_much(rng):
    corners = rng.integers(0, 30, size=(60, 2))
    boxes = np.concatenate([corners, corners + rng.integers(2, 8, size=(60, 2))], axis=1)
    kept = non_max_suppression(boxes, rng.random(60), iou_threshold=0.4)
    overlaps = box_iou(boxes[kept], boxes[kept])
    assert np.all(overlaps[~np.eye(len(kept), dtype=bool)] <= 0.4)
    dropped = np.setdiff1d(np.arange(60), kept)
    assert np.all(box_iou(boxes[dropped], boxes[kept]).max(axis=1) > 0.4)  # each dropped box had a reason


def test_box_errors():
    with pytest.raises(ValueError, match=r"a must be boxes \(top, left, bottom, right\), shape \(M, 4\)"):
        box_iou([[0, 0, 1]], [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"b must have bottom >= top"):
        box_iou([0, 0, 1, 1], [3, 0, 1, 1])
    with pytest.raises(ValueError, match=r"scores must have one score per box, shape \(2,\)"):
        non_max_suppression([[0, 0, 1, 1], [0, 0, 2, 2]], [1.0])
    with pytest.raises(ValueError, match=r"iou_threshold must be between 0 and 1"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], iou_threshold=2)
