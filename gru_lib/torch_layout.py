"""Conversion between ``GRUParams`` and the four tensors of a ``torch.nn.GRU`` layer.

PyTorch stores one layer as ``weight_ih`` (3H, D), ``weight_hh`` (3H, H), ``bias_ih`` and
``bias_hh`` (3H,), rows ordered r | z | n, in the column-vector layout (it computes
``x @ weight_ih.T``). Our arrays are the transposed row blocks, ``W_xz = weight_ih[z].T``.

Where PyTorch has two biases side by side inside one sigmoid (``b_iz + b_hz``, ``b_ir + b_hr``)
only their sum matters, so here they are one parameter. That makes the conversion of
*gradients* differ from that of *parameters*: a parameter goes into ``bias_ih`` with zeros in
``bias_hh`` (the same function), while the gradient goes into both slots, because
d loss / d bias_ih = d loss / d bias_hh = d loss / d (their sum).
"""

import numpy as np

from gru_lib.checks import check_bool, check_ndarray
from gru_lib.params import GRUGradients, GRUParams


def _gate_rows(h):
    return slice(0, h), slice(h, 2 * h), slice(2 * h, 3 * h)  # r, z, n


def _checked_torch_arrays(weight_ih, weight_hh, bias_ih, bias_hh):
    """Validate the four arrays; return H."""
    arrays = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih,
              "bias_hh": bias_hh}
    for name, value in arrays.items():
        check_ndarray(name, value)
    if weight_ih.ndim != 2 or weight_ih.shape[0] % 3 != 0 or weight_ih.shape[0] == 0:
        raise ValueError(f"weight_ih must have shape (3H, D), got {weight_ih.shape}")
    h = weight_ih.shape[0] // 3
    for name, shape in (("weight_hh", (3 * h, h)), ("bias_ih", (3 * h,)), ("bias_hh", (3 * h,))):
        if arrays[name].shape != shape:
            hint = ""
            if name == "weight_hh" and weight_hh.ndim == 2 and weight_hh.shape[0] % 3 == 0:
                hint = (f" (weight_hh says H = {weight_hh.shape[0] // 3}: is weight_ih "
                        f"transposed? It must be (3H, D))")
            raise ValueError(f"{name} must have shape {shape} for H = {h} (from weight_ih "
                             f"{weight_ih.shape}), got {arrays[name].shape}{hint}")
    return h


def _weights(weight_ih, weight_hh, h):
    r, z, n = _gate_rows(h)

    def t(a):
        return np.ascontiguousarray(a.T)

    return dict(W_xz=t(weight_ih[z]), W_xr=t(weight_ih[r]), W_xh=t(weight_ih[n]),
                W_hz=t(weight_hh[z]), W_hr=t(weight_hh[r]), W_hh=t(weight_hh[n]))


def from_torch(weight_ih, weight_hh, bias_ih, bias_hh, *, reset_after):
    """A ``GRUParams`` from arrays shaped like ``torch.nn.GRU``'s layer tensors.

    Args:
        weight_ih: (3H, D), rows ordered r | z | n. weight_hh: (3H, H), same row order.
        bias_ih, bias_hh: (3H,).
        reset_after: True reproduces ``torch.nn.GRU`` exactly. False gives the Cho form
            ``n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)``, whose two candidate biases
            are one parameter ``b_h = b_in + b_hn``.

    ``b_r = b_ir + b_hr`` and ``b_z = b_iz + b_hz`` in both variants.
    """
    reset_after = check_bool("reset_after", reset_after)
    h = _checked_torch_arrays(weight_ih, weight_hh, bias_ih, bias_hh)
    r, z, n = _gate_rows(h)
    common = dict(_weights(weight_ih, weight_hh, h),
                  b_z=bias_ih[z] + bias_hh[z], b_r=bias_ih[r] + bias_hh[r])
    if reset_after:
        return GRUParams(**common, b_h=bias_ih[n].copy(), reset_after=True,
                         b_hn=bias_hh[n].copy())
    return GRUParams(**common, b_h=bias_ih[n] + bias_hh[n], reset_after=False)


def gradients_from_torch(weight_ih, weight_hh, bias_ih, bias_hh, *, reset_after):
    """A ``GRUGradients`` from the ``.grad`` of ``torch.nn.GRU``'s four tensors.

    The inverse of ``gradients_to_torch``: the gradient of a merged bias (``b_z``, ``b_r``, and
    ``b_h`` of the Cho form) is that of either of its two slots, which must agree (they are the
    gradient of the same sum); gradients are not summed like parameters.
    """
    reset_after = check_bool("reset_after", reset_after)
    h = _checked_torch_arrays(weight_ih, weight_hh, bias_ih, bias_hh)
    r, z, n = _gate_rows(h)
    merged = (r, z) if reset_after else (r, z, n)
    for rows in merged:
        if not np.allclose(bias_ih[rows], bias_hh[rows], rtol=1e-6, atol=1e-12):
            raise ValueError("bias_ih and bias_hh differ in a merged block (r, z, or n of the "
                             "Cho form): these are not the gradients of one GRU (for "
                             "parameters, use from_torch)")
    common = dict(_weights(weight_ih, weight_hh, h), b_z=bias_ih[z].copy(),
                  b_r=bias_ih[r].copy(), b_h=bias_ih[n].copy())
    if reset_after:
        return GRUGradients(**common, reset_after=True, b_hn=bias_hh[n].copy())
    return GRUGradients(**common, reset_after=False)


def _stacked(p):
    def stack(*arrays):
        return np.concatenate(arrays, axis=0)

    weight_ih = stack(p.W_xr.T, p.W_xz.T, p.W_xh.T)
    weight_hh = stack(p.W_hr.T, p.W_hz.T, p.W_hh.T)
    bias_ih = stack(p.b_r, p.b_z, p.b_h)
    return stack, weight_ih, weight_hh, bias_ih


def to_torch(params):
    """The four arrays ``(weight_ih (3H, D), weight_hh (3H, H), bias_ih, bias_hh (3H,))`` of
    parameters, rows ordered r | z | n. A merged bias goes into ``bias_ih``, with zeros in
    ``bias_hh`` (the reset-after ``b_hn`` is ``bias_hh``'s n block)."""
    if isinstance(params, GRUGradients):
        return gradients_to_torch(params)
    if not isinstance(params, GRUParams):
        raise TypeError(f"to_torch needs GRUParams, got {type(params).__name__}")
    stack, weight_ih, weight_hh, bias_ih = _stacked(params)
    if params.reset_after:
        zeros = np.zeros_like(params.b_r)
        bias_hh = stack(zeros, zeros, params.b_hn)
    else:
        bias_hh = np.zeros_like(bias_ih)
    return weight_ih, weight_hh, bias_ih, bias_hh


def gradients_to_torch(grads):
    """The gradients of PyTorch's four tensors from a ``GRUGradients``: like ``to_torch``, but a
    merged bias's gradient goes into both slots (each slot's gradient is that of the sum)."""
    if not isinstance(grads, GRUGradients):
        raise TypeError(f"gradients_to_torch needs GRUGradients (what gru_backward returns), "
                        f"got {type(grads).__name__}")
    stack, weight_ih, weight_hh, bias_ih = _stacked(grads)
    if grads.reset_after:
        bias_hh = stack(grads.b_r, grads.b_z, grads.b_hn)
    else:
        bias_hh = bias_ih.copy()
    return weight_ih, weight_hh, bias_ih, bias_hh
