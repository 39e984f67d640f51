"""Padding: sequences of different lengths in one batch, and what their mask does.

Sequences padded at the end to one length T come with a mask (T, B, 1) that is 1 at real steps
and 0 at padding (``checks.check_sequence_inputs`` makes and validates it). Every recurrent layer
applies the same rule, written here once:

    forward    h_t = m_t * cell(x_t, h_{t-1}) + (1 - m_t) * h_{t-1}
    backward   the cell gets m_t * dh_t, and h_{t-1} gets (1 - m_t) * dh_t directly

so a padded step carries the state over unchanged and passes its gradient straight back, and
the cell's inputs and weights receive nothing from it.
"""

import numpy as np


def carry_state_at_padding(h_new, h_prev, mask, t):
    """Forward: where step ``t`` is padding, the new state is ``h_prev``, unchanged.

    Works in place on ``h_new`` (B, H), which is returned; ``mask`` is (T, B, 1) or None (no
    padding). Copying (rather than blending with 0/1 factors) keeps ``h_prev`` bit for bit.
    """
    if mask is not None:
        np.copyto(h_new, h_prev, where=mask[t] == 0)
    return h_new


def split_gradient_at_padding(dh, mask, t):
    """Backward: split dL/dh_t (B, H) at the sequences for which step ``t`` is padding.

    In place, ``dh`` keeps the part that goes back through the cell (zero at padding); the part
    that goes straight to h_{t-1} (zero at real steps) is returned, or None without a mask.
    """
    if mask is None:
        return None
    carried = (1.0 - mask[t]) * dh  # at padding hs[t] is h_prev itself
    dh *= mask[t]
    return carried
