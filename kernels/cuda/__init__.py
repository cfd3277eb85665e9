"""CUDA backend: the same function names and signatures as kernels.cpu, running on an NVIDIA GPU.

Data stays on the device for the K steps of a ``train_steps`` call; only the parameters, optimizer
state and per-step losses come back. Importing this module never needs a GPU (kernels compile at
first launch); ``lab.backend.resolve('cuda')`` raises a clear ValueError when none is present.

Differences from the CPU backend, by design:
* gradients are summed with atomic adds, so the reduction order differs: a seeded run agrees with the
  CPU to float32 rounding (relative 1e-4 after a few hundred steps), not bit for bit;
* dropout, input noise and augmentation draw counter-based random numbers (any thread draws its own),
  so those runs are statistically, not numerically, the same as on the CPU. Minibatch order uses the
  CPU's stream and matches exactly.
"""

import math

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels.config import THREADS_PER_BLOCK
from kernels.cpu import rng as _rng
from kernels.cpu.optim import lr_at
from kernels.cpu.rng import shuffle
from kernels.cuda.kernels import k_evaluate, k_penalty, k_row_means, k_samples, k_sum_into, k_update, k_zero

__all__ = ["dataset_loss", "eval_grid", "loss_and_grad", "loss_many", "lr_at", "opt_update", "predict",
           "shuffle", "train_steps"]

TPB = THREADS_PER_BLOCK
TILE = (8, 32)  # (parameter vectors, samples) per block for evaluation


def _blocks(n):
    return max(1, (n + TPB - 1) // TPB)


def _grid2(m, n):
    return (max(1, (m + TILE[0] - 1) // TILE[0]), max(1, (n + TILE[1] - 1) // TILE[1]))


def _is_bias(sizes, n_params):
    mask = np.zeros(n_params, np.int8)
    p = 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        mask[p + a * b:p + a * b + b] = 1
        p += a * b + b
    return mask


def _evaluate(P, sizes, acts, loss_code, features, X, T, out=None, out_mode=0):
    m, n = P.shape[0], X.shape[0]
    d = {name: cuda.to_device(np.ascontiguousarray(a)) for name, a in
         (("P", P), ("sizes", sizes), ("acts", acts), ("features", features), ("X", X), ("T", T))}
    losses = cuda.device_array((m, n) if out_mode == 0 else (1, 1), np.float64)
    correct = cuda.device_array((m, n) if out_mode == 0 else (1, 1), np.float64)
    d_out = cuda.to_device(out) if out is not None else cuda.device_array((1, 1), P.dtype)
    k_evaluate[_grid2(m, n), TILE](d["P"], d["sizes"], d["acts"], loss_code, d["features"], d["X"], d["T"], n,
                                   losses, correct, d_out, out_mode)
    if out_mode != 0:
        d_out.copy_to_host(out)
        return None
    mean_loss = cuda.device_array(m, np.float64)
    mean_acc = cuda.device_array(m, np.float64)
    k_row_means[_blocks(m), TPB](losses, mean_loss)
    k_row_means[_blocks(m), TPB](correct, mean_acc)
    return mean_loss.copy_to_host(), mean_acc.copy_to_host()


def predict(params, sizes, acts, features, X, out):
    """out (n, k) <- network outputs (see kernels.cpu.predict)."""
    _evaluate(params[None, :], sizes, acts, 0, features, X, np.zeros((1, 1), X.dtype), out, 1)


def eval_grid(params, sizes, acts, features, G, out):
    """out (units, g) <- every unit's output at the points G (see kernels.cpu.eval_grid)."""
    _evaluate(params[None, :], sizes, acts, 0, features, G, np.zeros((1, 1), G.dtype), out, 2)


def loss_many(P, sizes, acts, loss_code, features, X, T, out_loss, out_acc):
    """Mean loss and accuracy of each parameter vector P[i] (see kernels.cpu.loss_many)."""
    loss, acc = _evaluate(P, sizes, acts, loss_code, features, X, T)
    out_loss[:] = loss
    out_acc[:] = acc


def dataset_loss(params, sizes, acts, loss_code, features, X, T):
    """(mean loss, accuracy) of params on X, T (see kernels.cpu.dataset_loss)."""
    loss, acc = _evaluate(params[None, :], sizes, acts, loss_code, features, X, T)
    return float(loss[0]), float(acc[0])


def loss_and_grad(params, sizes, acts, loss_code, features, X, T, l1, l2, include_bias, grad):
    """Mean loss + penalty over X, T; gradient into grad (see kernels.cpu.loss_and_grad)."""
    n = X.shape[0]
    d_params = cuda.to_device(params)
    d_grad = cuda.to_device(np.zeros_like(params))
    losses = cuda.device_array(n, np.float64)
    empty = cuda.to_device(np.zeros(C.N_REG))
    keep = cuda.to_device(np.ones(sizes.size))
    k_samples[_blocks(n), TPB](d_params, cuda.to_device(sizes), cuda.to_device(acts), loss_code,
                               cuda.to_device(features), cuda.to_device(X), cuda.to_device(T),
                               cuda.to_device(np.arange(n, dtype=np.int64)), 0, n, False, empty, keep,
                               np.uint64(0), 0, d_grad, losses)
    penalty = cuda.device_array(params.size, np.float64)
    k_penalty[_blocks(params.size), TPB](d_params, cuda.to_device(_is_bias(sizes, params.size)), l1, l2,
                                         include_bias, d_grad, penalty)
    d_grad.copy_to_host(grad)
    return losses.copy_to_host().sum() / n + penalty.copy_to_host().sum()


def opt_update(code, hyper, lr, t, params, grad, state):
    """One optimizer update in place (see kernels.cpu.opt_update)."""
    d_params, d_state = cuda.to_device(params), cuda.to_device(state)
    b1, b2 = hyper[C.H_BETA1], hyper[C.H_BETA2]
    bias1 = 1.0 - b1**t if code == C.ADAM else 1.0
    root_bias2 = math.sqrt(1.0 - b2**t) if code == C.ADAM else 1.0
    k_update[_blocks(params.size), TPB](code, cuda.to_device(hyper), lr, bias1, root_bias2, d_params,
                                        cuda.to_device(grad), d_state)
    d_params.copy_to_host(params)
    d_state.copy_to_host(state)


def train_steps(params, sizes, acts, loss_code, features, X, T, perm, counters, batch_size, n_steps, shuffle,
                opt_code, opt_hyper, base_lr, opt_state, sched_code, sched_hyper, reg, keep, rng,
                X_val, T_val, best_params, scores, out_losses):
    """The fused training loop of kernels.cpu.train_steps, with every array on the device."""
    n = X.shape[0]
    B = min(batch_size, n)
    P = params.size
    dev = {name: cuda.to_device(np.ascontiguousarray(a)) for name, a in (
        ("sizes", sizes), ("acts", acts), ("features", features), ("X", X), ("T", T), ("reg", reg),
        ("keep", keep), ("hyper", opt_hyper), ("is_bias", _is_bias(sizes, P)))}
    d_params, d_state = cuda.to_device(params), cuda.to_device(opt_state)
    d_grad = cuda.device_array(P, params.dtype)
    d_perm = cuda.to_device(perm)
    d_losses = cuda.device_array(B, np.float64)
    d_out = cuda.device_array(max(1, n_steps), np.float64)
    d_penalty = cuda.device_array(P, np.float64)
    # the counter-based streams are keyed by the seed's stream state (not advanced here, so minibatch
    # order stays the CPU's) and indexed by the global step, which never repeats
    key = np.uint64(rng[0])
    patience = int(reg[C.R_PATIENCE])
    done = 0
    while done < n_steps and counters[C.C_STATUS] == C.RUNNING:
        pos = counters[C.C_POS]
        if pos == 0 and shuffle:  # on the host, with the CPU's stream: the same order as kernels.cpu
            _rng.shuffle(perm, rng)
            d_perm = cuda.to_device(perm)
        b = min(B, n - pos)
        k_zero[_blocks(P), TPB](d_grad)
        k_samples[_blocks(b), TPB](d_params, dev["sizes"], dev["acts"], loss_code, dev["features"], dev["X"],
                                   dev["T"], d_perm, pos, b, True, dev["reg"], dev["keep"], key,
                                   counters[C.C_STEP], d_grad, d_losses)
        k_penalty[_blocks(P), TPB](d_params, dev["is_bias"], reg[C.R_L1], reg[C.R_L2], reg[C.R_BIAS] > 0.0,
                                   d_grad, d_penalty)
        k_sum_into[1, 1](d_losses, b, d_out, done)
        loss = float(d_out[done:done + 1].copy_to_host()[0])
        out_losses[done] = loss
        done += 1
        if not math.isfinite(loss):
            counters[C.C_STATUS] = C.DIVERGED
            break
        scores[C.SC_SUM] += loss
        scores[C.SC_COUNT] += 1.0
        counters[C.C_STEP] += 1
        t = counters[C.C_STEP]
        lr = lr_at(sched_code, sched_hyper, base_lr, counters[C.C_EPOCH])
        b1, b2 = opt_hyper[C.H_BETA1], opt_hyper[C.H_BETA2]
        bias1 = 1.0 - b1**t if opt_code == C.ADAM else 1.0
        root_bias2 = math.sqrt(1.0 - b2**t) if opt_code == C.ADAM else 1.0
        k_update[_blocks(P), TPB](opt_code, dev["hyper"], lr, bias1, root_bias2, d_params, d_grad, d_state)
        pos += b
        counters[C.C_POS] = pos
        if pos >= n:
            counters[C.C_POS] = 0
            counters[C.C_EPOCH] += 1
            epoch_loss = scores[C.SC_SUM] / max(scores[C.SC_COUNT], 1.0)
            scores[C.SC_SUM] = 0.0
            scores[C.SC_COUNT] = 0.0
            if reg[C.R_LOSS_LIMIT] > 0.0 and epoch_loss > reg[C.R_LOSS_LIMIT]:
                counters[C.C_STATUS] = C.DIVERGED
                break
            if patience > 0 and X_val.shape[0] > 0:
                current = d_params.copy_to_host()
                val, _ = dataset_loss(current, sizes, acts, loss_code, features, X_val, T_val)
                if val < scores[C.SC_BEST]:
                    scores[C.SC_BEST] = val
                    best_params[:] = current
                    counters[C.C_BAD_EPOCHS] = 0
                    counters[C.C_BEST_EPOCH] = counters[C.C_EPOCH]
                else:
                    counters[C.C_BAD_EPOCHS] += 1
                    if counters[C.C_BAD_EPOCHS] >= patience:
                        counters[C.C_STATUS] = C.EARLY_STOPPED
                        d_params = cuda.to_device(best_params)
    d_params.copy_to_host(params)
    d_state.copy_to_host(opt_state)
    return done
