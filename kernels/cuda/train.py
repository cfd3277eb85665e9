"""The fused training loop of kernels.cpu.train on the device: the data stays there for the K steps of a
call; only the parameters, optimizer state and per-step losses come back. One thread per minibatch sample
runs its forward and backward pass and adds its gradient atomically.

Differences from the CPU, by design: atomic adds sum the gradient in another order, so a seeded run
agrees to float32 rounding, not bit for bit; dropout, input noise and augmentation draw counter-based
random numbers (kernels.cuda.rng), so those runs agree statistically. Minibatch order is the CPU's.
"""

import math

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels import ops
from kernels.config import LOCAL_RAW, LOCAL_UNITS, THREADS_PER_BLOCK
from kernels.cpu import rng as host_rng
from kernels.cpu.optim import lr_at
from kernels.cpu.train import count_step, end_epoch, judge_validation, record_validation, stop_diverged
from kernels.cuda.evaluate import bias_mask, dataset_loss
from kernels.cuda.losses import accuracy_count, output_delta
from kernels.cuda.nn import add_penalty, backward_layers, forward_layers
from kernels.cuda.optim import blocks, launch_update
from kernels.cuda.rng import normal, uniform

DRAWS = 4096  # random numbers one sample may take per step (its own slice of the counter space)


@cuda.jit(device=True)
def _augment(raw, tmp, d_raw, reg, key, stream, s):
    """Training-time augmentation of one raw sample in place; returns how many numbers it drew."""
    draw = 0
    shift = int(reg[C.R_SHIFT])
    if shift > 0:
        side = int(reg[C.R_SIDE])
        dx = int(uniform(key, stream, s * DRAWS) * (2 * shift + 1)) - shift
        dy = int(uniform(key, stream, s * DRAWS + 1) * (2 * shift + 1)) - shift
        draw += 2
        for i in range(side * side):
            src = ops.shifted_pixel(i, dx, dy, side)
            tmp[i] = raw[src] if src >= 0 else 0.0
        for i in range(side * side):
            raw[i] = tmp[i]
    mask = int(reg[C.R_SYMMETRY])
    if mask > 0:
        g = ops.pick_symmetry(mask, uniform(key, stream, s * DRAWS + draw))
        draw += 1
        raw[0], raw[1] = ops.symmetry(g, raw[0], raw[1])
    sigma = reg[C.R_JITTER]
    if sigma > 0.0:
        for i in range(d_raw):
            raw[i] += sigma * normal(key, stream, s * DRAWS + draw)
            draw += 1
    return draw


@cuda.jit(device=True)
def _load_training_inputs(X, r, features, A, raw, tmp, training, reg, keep0, key, stream, s):
    """A[0:d_in] <- inputs of row r; while training also augmentation, input noise and input dropout."""
    d_raw = X.shape[1]
    for c in range(d_raw):
        raw[c] = X[r, c]
    draw = _augment(raw, tmp, d_raw, reg, key, stream, s) if training else 0
    identity = features[0] == C.IDENTITY
    d_in = d_raw if identity else features.size
    for f in range(d_in):
        v = raw[f] if identity else ops.feature(features[f], raw[0], raw[1])
        if training:
            if reg[C.R_NOISE] > 0.0:
                v += reg[C.R_NOISE] * normal(key, stream, s * DRAWS + draw)
                draw += 1
            if keep0 < 1.0:
                v *= ops.dropout(keep0, uniform(key, stream, s * DRAWS + draw))
                draw += 1
        A[f] = v


@cuda.jit
def sample_kernel(params, sizes, acts, loss_code, features, X, T, perm, start, b, training, reg, keep, key,
                  stream, grad, losses):
    """One thread per minibatch sample: inputs, forward, loss into losses[0, s], 1 into losses[1, s] when
    its prediction is right, gradient added to grad."""
    s = cuda.grid(1)
    if s >= b:
        return
    A = cuda.local.array(LOCAL_UNITS, np.float64)
    D = cuda.local.array(LOCAL_UNITS, np.float64)
    dZ = cuda.local.array(LOCAL_UNITS, np.float64)
    Z = cuda.local.array(LOCAL_RAW, np.float64)
    raw = cuda.local.array(LOCAL_RAW, np.float64)
    tmp = cuda.local.array(LOCAL_RAW, np.float64)
    r = perm[start + s]
    _load_training_inputs(X, r, features, A, raw, tmp, training, reg, keep[0], key, stream, s)
    o0 = forward_layers(params, sizes, acts, A, D, Z, True, training, keep, key, stream, s)
    k = sizes[sizes.size - 1]
    losses[0, s] = output_delta(loss_code, acts[acts.size - 1], A, Z, o0, k, T, r, dZ, 1.0 / b)
    losses[1, s] = accuracy_count(loss_code, A, o0, k, T, r)
    backward_layers(params, sizes, A, D, dZ, grad)


@cuda.jit
def mean_into(values, n, out, index):
    """out[index] = mean of values[0, :n], out[index + 1] = sum of values[1, :n] (a single thread:
    minibatches are small)."""
    if cuda.grid(1) == 0:
        total = 0.0
        hits = 0.0
        for s in range(n):
            total += values[0, s]
            hits += values[1, s]
        out[index] = total / n
        out[index + 1] = hits


@cuda.jit
def zero(a):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = 0.0


def train_steps(params, sizes, acts, loss_code, features, X, T, perm, counters, n_steps, settings, opt_state,
                rng, X_val, T_val, best_params, scores, out_losses, history):
    """The fused training loop of kernels.cpu.train_steps, with every array on the device."""
    batch_size = int(settings[C.P_BATCH])
    shuffle = settings[C.P_SHUFFLE] > 0.0
    opt_code = int(settings[C.P_OPT])
    base_lr = settings[C.P_LR]
    sched_code = int(settings[C.P_SCHED])
    opt_hyper = np.ascontiguousarray(settings[C.P_HYPER:C.P_HYPER + C.N_OPT_HYPER])
    sched_hyper = np.ascontiguousarray(settings[C.P_SCHED_HYPER:C.P_SCHED_HYPER + C.N_SCHED_HYPER])
    reg = np.ascontiguousarray(settings[C.P_REG:C.P_REG + C.N_REG])
    keep = np.ascontiguousarray(settings[C.P_KEEP:])
    n = X.shape[0]
    B = min(batch_size, n)
    P = params.size
    TPB = THREADS_PER_BLOCK
    dev = {name: cuda.to_device(np.ascontiguousarray(a)) for name, a in (
        ("sizes", sizes), ("acts", acts), ("features", features), ("X", X), ("T", T), ("reg", reg),
        ("keep", keep), ("hyper", opt_hyper), ("is_bias", bias_mask(sizes, P)))}
    d_params, d_state = cuda.to_device(params), cuda.to_device(opt_state)
    d_grad = cuda.device_array(P, params.dtype)
    d_perm = cuda.to_device(perm)
    d_losses = cuda.device_array((2, B), np.float64)
    d_out = cuda.device_array(2 * max(1, n_steps), np.float64)
    d_penalty = cuda.device_array(P, np.float64)
    # the counter-based streams are keyed by the seed's stream state (not advanced here, so minibatch
    # order stays the CPU's) and indexed by the global step, which never repeats
    key = np.uint64(rng[0])
    patience = int(reg[C.R_PATIENCE])
    counters[C.C_ROWS] = 0
    done = 0
    while done < n_steps and counters[C.C_STATUS] == C.RUNNING:
        pos = counters[C.C_POS]
        if pos == 0 and shuffle:  # on the host, with the CPU's stream: the same order as kernels.cpu
            host_rng.shuffle(perm, rng)
            d_perm = cuda.to_device(perm)
        b = min(B, n - pos)
        lr = lr_at(sched_code, sched_hyper, base_lr, counters[C.C_EPOCH])
        zero[blocks(P), TPB](d_grad)
        sample_kernel[blocks(b), TPB](d_params, dev["sizes"], dev["acts"], loss_code, dev["features"], dev["X"],
                                      dev["T"], d_perm, pos, b, True, dev["reg"], dev["keep"], key,
                                      counters[C.C_STEP], d_grad, d_losses)
        add_penalty[blocks(P), TPB](d_params, dev["is_bias"], reg[C.R_L1], reg[C.R_L2], reg[C.R_BIAS] > 0.0,
                                    d_grad, d_penalty)
        mean_into[1, 1](d_losses, b, d_out, 2 * done)
        loss, hits = d_out[2 * done:2 * done + 2].copy_to_host()
        out_losses[done] = loss
        done += 1
        if not math.isfinite(loss):
            stop_diverged(counters, scores, loss, history, lr)
            break
        pos = count_step(counters, scores, loss, hits, b)
        launch_update(opt_code, dev["hyper"], opt_hyper, lr, counters[C.C_OPT_STEP], d_params, d_grad, d_state)
        if pos >= n and end_epoch(counters, scores, reg, history, lr) and X_val.shape[0] > 0:
            current = d_params.copy_to_host()
            val, acc = dataset_loss(current, sizes, acts, loss_code, features, X_val, T_val)
            record_validation(counters, history, val, acc)
            verdict = judge_validation(counters, scores, val, patience)
            if verdict > 0:
                best_params[:] = current
            elif verdict < 0:
                d_params = cuda.to_device(best_params)
    d_params.copy_to_host(params)
    d_state.copy_to_host(opt_state)
    return done
