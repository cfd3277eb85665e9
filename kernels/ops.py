"""Per-element math, written once: scalar ``@njit`` functions that the CPU kernels inline and the CUDA
kernels call directly (Numba compiles them for either target).

Everything here takes and returns scalars, never arrays: the CUDA simulator runs these as compiled CPU
functions and cannot pass device arrays into them. Each activation returns its value *and* its
derivative with respect to the pre-activation z, so activations whose derivative is not a function of
the output (GELU, SiLU, softplus, ELU) fit as easily as tanh. Adding an activation is one function
below, one line in ``activation`` and one line in ``kernels.codes.ACTIVATIONS``; an optimizer is one
branch in ``update`` plus its code. Builtins max, min and abs are avoided in what CUDA calls: inside an
``@njit`` function compiled for CUDA they resolve to the wrong overload (tests/test_cuda_ptx.py).
"""

import math

import numpy as np
from numba import njit

from kernels import codes as C
from kernels.config import JIT

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

@njit(**JIT)
def positive_part(z):
    return z * 1.0 if z > 0.0 else 0.0


@njit(**JIT)
def magnitude(z):
    return z * 1.0 if z >= 0.0 else -z * 1.0


# ----- activations: (y, dy/dz) --------------------------------------------------------------------------


@njit(**JIT)
def sigmoid(z):
    """Stable logistic function (never overflows exp)."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(**JIT)
def tanh_(z):
    y = math.tanh(z)
    return y, 1.0 - y * y


@njit(**JIT)
def sigmoid_(z):
    s = sigmoid(z)
    return s, s * (1.0 - s)


@njit(**JIT)
def relu(z):
    return (z * 1.0, 1.0) if z > 0.0 else (0.0, 0.0)


@njit(**JIT)
def leaky_relu(z):
    return (z * 1.0, 1.0) if z > 0.0 else (C.LEAKY_SLOPE * z, C.LEAKY_SLOPE)


@njit(**JIT)
def gelu(z):
    """Exact GELU, z Phi(z) (Hendrycks & Gimpel): Phi'(z) is the normal density."""
    phi = 0.5 * (1.0 + math.erf(z * _INV_SQRT2))
    return z * phi, phi + z * math.exp(-0.5 * z * z) * _INV_SQRT_2PI


@njit(**JIT)
def silu(z):
    """SiLU / swish, z sigmoid(z)."""
    s = sigmoid(z)
    return z * s, s * (1.0 + z * (1.0 - s))


@njit(**JIT)
def softplus(z):
    """log(1 + e^z), written so that it never overflows; its derivative is the sigmoid."""
    return positive_part(z) + math.log1p(math.exp(-magnitude(z))), sigmoid(z)


@njit(**JIT)
def elu(z):
    if z > 0.0:
        return z * 1.0, 1.0
    e = math.exp(z)
    return C.ELU_ALPHA * (e - 1.0), C.ELU_ALPHA * e


@njit(**JIT)
def activation(code, z):
    """(y, dy/dz) of activation ``code`` at z. Softmax is not per element: it returns (z, 1) here and
    the kernels normalise the output rows."""
    if code == C.TANH:
        return tanh_(z)
    if code == C.SIGMOID:
        return sigmoid_(z)
    if code == C.RELU:
        return relu(z)
    if code == C.LEAKY_RELU:
        return leaky_relu(z)
    if code == C.GELU:
        return gelu(z)
    if code == C.SILU:
        return silu(z)
    if code == C.SOFTPLUS:
        return softplus(z)
    if code == C.ELU:
        return elu(z)
    return z * 1.0, 1.0


# float32 fast paths (CPU hot loops): tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= 9, a rational fit with max
# abs error 4e-7. libm's tanh does not vectorise and costs ~20 ns an element; this costs < 1 ns.
_TANH_CLIP = np.float32(9.0)
_P0, _P1, _P2, _P3, _P4 = (np.float32(v) for v in (
    0.9999999428185847, 0.13388158291768207, 0.0035042090283834, 2.075648451772768e-05,
    1.3568730878783065e-08))
_Q1, _Q2, _Q3, _Q4 = (np.float32(v) for v in (
    0.4672146662309561, 0.025909399844239452, 0.00032999769305456654, 7.862123471704824e-07))
_HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)
_TWO32 = np.float32(2.0)
_L3, _L5, _L7, _L9, _L11 = (np.float32(1.0 / k) for k in (3, 5, 7, 9, 11))


@njit(**JIT)
def tanh32(x):
    """Fast float32 tanh (branch-free, so loops vectorise)."""
    x = min(max(x, -_TANH_CLIP), _TANH_CLIP)
    u = x * x
    p = _P0 + u * (_P1 + u * (_P2 + u * (_P3 + u * _P4)))
    q = _ONE32 + u * (_Q1 + u * (_Q2 + u * (_Q3 + u * _Q4)))
    return x * p / q


@njit(**JIT)
def tanh32_(z):
    """(tanh, its derivative) in float32 with the fast tanh."""
    y = tanh32(z)
    return y, _ONE32 - y * y


@njit(**JIT)
def sigmoid32(x):
    """Fast float32 logistic function: (1 + tanh(x/2)) / 2."""
    return _HALF32 + _HALF32 * tanh32(_HALF32 * x)


@njit(**JIT)
def log_half32(m):
    """log(m) for float32 m in [0.5, 1]: 2 atanh((m-1)/(m+1)) as a series (abs error < 1e-7)."""
    u = (m - _ONE32) / (m + _ONE32)
    v = u * u
    return _TWO32 * u * (_ONE32 + v * (_L3 + v * (_L5 + v * (_L7 + v * (_L9 + v * _L11)))))


# ----- losses: (per-element loss, its gradient) ----------------------------------------------------------


@njit(**JIT)
def binary_cross_entropy(z, y, t):
    """BCE of a sigmoid unit from its logit z (stable), and dL/dz = y - t (y = sigmoid(z))."""
    return positive_part(z) - z * t + math.log1p(math.exp(-magnitude(z))), y - t


@njit(**JIT)
def binary_cross_entropy32(z, y, t):
    """The float32 form: log1p(exp(-|z|)) = -log(max(y, 1 - y)), vectorisable."""
    m = y if y > _HALF32 else _ONE32 - y
    return max(z, np.float32(0.0)) - z * t - log_half32(m), y - t


@njit(**JIT)
def cross_entropy(z_minus_lse, p, t):
    """One class's term of softmax cross-entropy, -t log p, from z - logsumexp(z); dL/dz = p - t."""
    return -t * z_minus_lse, p - t


@njit(**JIT)
def hinge(y, t):
    """max(0, 1 - t y) and dL/dy."""
    margin = 1.0 - t * y
    if margin > 0.0:
        return margin, -t * 1.0
    return 0.0, 0.0


@njit(**JIT)
def squared_error(y, t):
    d = y - t
    return d * d, 2.0 * d


@njit(**JIT)
def output_loss(loss_code, out_code, z, y, t):
    """(loss, dL/dz) of one output unit for the element-wise losses (BCE, hinge, MSE)."""
    if loss_code == C.BCE:
        return binary_cross_entropy(z, y, t)
    if loss_code == C.HINGE:
        value, dy = hinge(y, t)
    else:
        value, dy = squared_error(y, t)
    return value, dy * activation(out_code, z)[1]


@njit(**JIT)
def hit(loss_code, y, t):
    """1.0 when a binary output is on the right side of its threshold (0.5 for BCE, else 0)."""
    threshold = 0.5 if loss_code == C.BCE else 0.0
    return 1.0 if (y > threshold) == (t > threshold) else 0.0


# ----- regularizers -----------------------------------------------------------------------------------------


@njit(**JIT)
def penalty(w, l1, l2):
    """l1 |w| + l2 w^2 and its (sub)gradient (0 at w = 0 for L1)."""
    sign = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)
    return l1 * magnitude(w) + l2 * w * w, l1 * sign + 2.0 * l2 * w


@njit(**JIT)
def dropout(keep, u):
    """Inverted dropout factor for a uniform draw u: 1/keep when kept, 0 when dropped."""
    return 1.0 / keep if u < keep else 0.0


@njit(**JIT)
def symmetry(g, x, y):
    """Element g (0..7) of the symmetry group of the square applied to (x, y)."""
    if g == 1:
        return -y, x
    if g == 2:
        return -x, -y
    if g == 3:
        return y, -x
    if g == 4:
        return -x, y
    if g == 5:
        return x, -y
    if g == 6:
        return y, x
    if g == 7:
        return -y, -x
    return x, y


@njit(**JIT)
def pick_symmetry(mask, u):
    """The group element (0..7) that a uniform draw u picks among those whose bit is set in ``mask``."""
    count = 0
    for g in range(8):
        count += (mask >> g) & 1
    pick = int(u * count)
    for g in range(8):
        if (mask >> g) & 1:
            if pick == 0:
                return g
            pick -= 1
    return 0


@njit(**JIT)
def shifted_pixel(i, dx, dy, side):
    """Source index of pixel i of a side x side image moved by (dx, dy); -1 where it comes from outside."""
    r, c = i // side - dy, i % side - dx
    return r * side + c if 0 <= r < side and 0 <= c < side else -1


@njit(**JIT)
def feature(code, x1, x2):
    """One input feature of a 2-D point (TensorFlow Playground's feature set)."""
    if code == C.X1:
        return x1
    if code == C.X2:
        return x2
    if code == C.X1_SQ:
        return x1 * x1
    if code == C.X2_SQ:
        return x2 * x2
    if code == C.X1_X2:
        return x1 * x2
    if code == C.SIN_X1:
        return math.sin(x1)
    return math.sin(x2)


# ----- optimizers and schedules -------------------------------------------------------------------------------


@njit(**JIT)
def bias_corrections(code, beta1, beta2, t):
    """Adam's (1 - b1^t, sqrt(1 - b2^t)) at update t (1-based); (1, 1) for the others."""
    if code == C.ADAM or code == C.ADAMW:
        return 1.0 - beta1**t, math.sqrt(1.0 - beta2**t)
    return 1.0, 1.0


@njit(**JIT)
def update(code, w, g, m, v, lr, mu, rho, eps, beta1, beta2, weight_decay, c1, c2):
    """One optimizer update of one parameter w with gradient g; returns the new (w, m, v).

    m, v: the two state rows (velocity or first moment; cache or second moment). c1, c2: the bias
    corrections of this update (``bias_corrections``). PyTorch's conventions (see lab.engine.optimizers).
    """
    if code == C.MOMENTUM:  # buf = mu buf + g; w -= lr buf
        m = mu * m + g
        return w - lr * m, m, v
    if code == C.NESTEROV:  # buf = mu buf + g; w -= lr (g + mu buf)
        m = mu * m + g
        return w - lr * (g + mu * m), m, v
    if code == C.ADAGRAD:  # cache += g^2; w -= lr g / (sqrt(cache) + eps)
        v = v + g * g
        return w - lr * g / (math.sqrt(v) + eps), m, v
    if code == C.RMSPROP:  # cache = rho cache + (1-rho) g^2; buf = mu buf + g/(sqrt(cache)+eps); w -= lr buf
        v = rho * v + (1.0 - rho) * g * g
        step = g / (math.sqrt(v) + eps)
        if mu > 0.0:
            step = mu * m + step
            m = step
        return w - lr * step, m, v
    if code == C.ADAM or code == C.ADAMW:  # AdamW adds decoupled weight decay: w -= lr wd w
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        decay = lr * weight_decay * w if code == C.ADAMW else 0.0
        return w - decay - (lr / c1) * m / (math.sqrt(v) / c2 + eps), m, v
    if code == C.LION:  # c = b1 m + (1-b1) g; w -= lr (sign(c) + wd w); m = b2 m + (1-b2) g
        c = beta1 * m + (1.0 - beta1) * g
        sign = 1.0 if c > 0.0 else (-1.0 if c < 0.0 else 0.0)
        return w - lr * (sign + weight_decay * w), beta2 * m + (1.0 - beta2) * g, v
    return w - lr * g, m, v  # SGD


@njit(**JIT)
def learning_rate(code, base, t, gamma, every, rate, period, minimum):
    """The learning rate at epoch t of schedule ``code`` starting from ``base``."""
    if code == C.STEP:
        return base * gamma ** math.floor(t / every)
    if code == C.INVERSE:
        return base / (1.0 + rate * t)
    if code == C.EXPONENTIAL:
        return base * math.exp(-rate * t)
    if code == C.COSINE:
        frac = (t if t < period else period) / period
        return minimum + (base - minimum) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return base


# ----- random numbers (splitmix64) -------------------------------------------------------------------------------

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(**JIT)
def mix64(z):
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(**JIT)
def unit_float(u):
    """A uint64 to a float64 in [0, 1) (its top 53 bits)."""
    return (u >> _S11) * _TWO_M53


@njit(**JIT)
def counter_uniform(key, stream, index):
    """Uniform [0, 1) as a pure function of (key, stream, index): a draw any GPU thread can make alone."""
    z = mix64(key + np.uint64(stream) * GOLDEN) + np.uint64(index) * GOLDEN
    return unit_float(mix64(z))


@njit(**JIT)
def gaussian(u1, u2):
    """A standard normal from two uniforms in [0, 1) (Box-Muller)."""
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
