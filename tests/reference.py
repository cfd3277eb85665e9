"""Plain-NumPy reference implementations, written from the formulas, for comparison with the kernels."""

import numpy as np


def _phi(z):
    """The standard normal CDF (via math.erf: NumPy has none)."""
    import math

    return 0.5 * (1.0 + np.vectorize(math.erf)(z / np.sqrt(2.0)))


def activate(name, z):
    if name == "gelu":
        return z * _phi(z)
    if name == "silu":
        return z / (1.0 + np.exp(-z))
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise KeyError(name)


def derivative(name, z):
    if name == "gelu":
        return _phi(z) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    if name == "silu":
        s = 1.0 / (1.0 + np.exp(-z))
        return s + z * s * (1 - s)
    if name == "softplus":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "elu":
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        s = activate("sigmoid", z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    raise KeyError(name)


def unpack(params, sizes):
    out, p = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        out.append((params[p:p + a * b].reshape(a, b), params[p + a * b:p + a * b + b]))
        p += a * b + b
    return out


def forward(params, sizes, hidden, output, X):
    """Returns (list of pre-activations Z, list of activations A with A[0] = X)."""
    A, Z = [X], []
    layers = unpack(params, sizes)
    for i, (W, b) in enumerate(layers):
        z = A[-1] @ W + b
        Z.append(z)
        A.append(activate(hidden[i] if i < len(layers) - 1 else output, z))
    return Z, A


def loss(name, z, y, t):
    """Mean over samples; BCE/hinge/MSE also mean over output units (Keras)."""
    if name == "bce":
        return np.mean(np.logaddexp(0, z) - z * t)
    if name == "cross_entropy":
        return -np.mean(np.sum(t * np.log(y), axis=1))
    if name == "hinge":
        return np.mean(np.maximum(0, 1 - t * y))
    if name == "mse":
        return np.mean((y - t) ** 2)
    raise KeyError(name)


def loss_and_grad(params, sizes, hidden, output, loss_name, X, T):
    Z, A = forward(params, sizes, hidden, output, X)
    n, k = T.shape
    y, z = A[-1], Z[-1]
    if loss_name in ("bce", "cross_entropy"):
        dz = (y - T) / (n * (k if loss_name == "bce" else 1))
    elif loss_name == "hinge":
        dz = np.where(1 - T * y > 0, -T, 0.0) / (n * k) * derivative(output, z)
    else:
        dz = 2 * (y - T) / (n * k) * derivative(output, z)
    grads = []
    layers = unpack(params, sizes)
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        grads.append((A[i].T @ dz, dz.sum(axis=0)))
        if i > 0:
            dz = (dz @ W.T) * derivative(hidden[i - 1], Z[i - 1])
    flat = np.concatenate([np.concatenate([gw.ravel(), gb]) for gw, gb in reversed(grads)])
    return loss(loss_name, z, y, T), flat


# ----- optimizers, written from the formulas (textbook forms) ----------------------------
def optimizer_path(name, grad_fn, x0, steps, lr, mu=0.9, rho=0.99, eps=1e-8, b1=0.9, b2=0.999, wd=0.0):
    x = np.array(x0, dtype=np.float64)
    v = np.zeros_like(x)
    cache = np.zeros_like(x)
    m = np.zeros_like(x)
    path = [x.copy()]
    for t in range(1, steps + 1):
        g = grad_fn(x)
        if name == "sgd":
            x = x - lr * g
        elif name == "momentum":  # v <- mu v - lr g; w <- w + v
            v = mu * v - lr * g
            x = x + v
        elif name == "nesterov":  # look-ahead form, equal to PyTorch's for constant lr
            v_prev = v
            v = mu * v - lr * g
            x = x - mu * v_prev + (1 + mu) * v
        elif name == "adagrad":
            cache = cache + g * g
            x = x - lr * g / (np.sqrt(cache) + eps)
        elif name == "rmsprop":
            cache = rho * cache + (1 - rho) * g * g
            step = g / (np.sqrt(cache) + eps)
            if mu > 0:
                v = mu * v + step
                step = v
            x = x - lr * step
        elif name == "adam":
            m = b1 * m + (1 - b1) * g
            cache = b2 * cache + (1 - b2) * g * g
            mhat = m / (1 - b1**t)
            vhat = cache / (1 - b2**t)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)
        elif name == "adamw":  # Loshchilov & Hutter: decay the weights, then take Adam's step
            m = b1 * m + (1 - b1) * g
            cache = b2 * cache + (1 - b2) * g * g
            mhat = m / (1 - b1**t)
            vhat = cache / (1 - b2**t)
            x = x * (1 - lr * wd)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)
        elif name == "lion":  # Chen et al. 2023, Algorithm 2
            c = b1 * m + (1 - b1) * g
            x = x - lr * (np.sign(c) + wd * x)
            m = b2 * m + (1 - b2) * g
        path.append(x.copy())
    return np.array(path)
