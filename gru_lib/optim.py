"""Optimisers and gradient clipping. They update named arrays in place; gradients stay untouched.

Keeping these outside the backward pass is deliberate: a backward pass that also clips and steps
(as the notebook this project grew from did) cannot be gradient-checked, and mixes two ideas.
"""

import numpy as np


def global_norm(grads):
    """The Euclidean norm of all gradient arrays together (a dict name -> array)."""
    return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Unlike clipping each entry to [-c, c], one common factor keeps the gradient's direction.
    Returns ``(clipped, norm)``: a new dict (the input is unchanged) and the norm before clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise ValueError("the gradients contain NaN or infinity; cannot clip them")
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}, norm


class SGD:
    """Stochastic gradient descent, optionally with momentum: ``v = mu v - lr g; p += v``."""

    def __init__(self, lr=0.1, momentum=0.0):
        if not lr > 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.lr, self.momentum = lr, momentum
        self.velocity = {}

    def step(self, params, grads):
        """Update every array of ``params`` (dict name -> array) in place from ``grads``."""
        for name, p in params.items():
            g = grads[name]
            if self.momentum:
                v = self.velocity.setdefault(name, np.zeros_like(p))
                v *= self.momentum
                v -= self.lr * g
                p += v
            else:
                p -= self.lr * g


class Adam:
    """Adam (Kingma & Ba, 2015): per-parameter steps scaled by running gradient moments."""

    def __init__(self, lr=0.02, beta1=0.9, beta2=0.999, eps=1e-8):
        if not lr > 0 or not 0 <= beta1 < 1 or not 0 <= beta2 < 1:
            raise ValueError(f"need lr > 0 and betas in [0, 1), got {lr}, {beta1}, {beta2}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v = {}, {}
        self.t = 0

    def step(self, params, grads):
        """Update every array of ``params`` (dict name -> array) in place from ``grads``."""
        self.t += 1
        # Bias correction: the moments start at zero, so early averages are scaled back up.
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        for name, p in params.items():
            g = grads[name]
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
