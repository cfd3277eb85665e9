"""The fused training kernel: K minibatch steps per call, no Python in between, GIL released.

Each step: gather a minibatch (augmentation, input noise, dropout), forward, loss, backward,
L1/L2 gradient, scheduled learning rate, optimizer update, per-step loss into ``out_losses``.
At each epoch end the permutation is reshuffled and, with early stopping on, the validation loss
decides whether to keep going; on stop the best parameters are restored.
"""

import math

import numpy as np
from numba import njit

from kernels import codes as C
from kernels import ops
from kernels.config import INLINE, JIT
from kernels.cpu import rng as R
from kernels.cpu.evaluate import dataset_loss
from kernels.cpu.losses import accuracy_count, output_delta
from kernels.cpu.nn import add_penalty, backward_layers, forward_layers, layer_offsets, load_inputs
from kernels.cpu.optim import lr_at, opt_update


@njit(**INLINE)
def count_step(counters, scores, loss, hits, advanced):
    """Bookkeeping after a minibatch of ``advanced`` samples with a finite loss and ``hits`` correct
    predictions; returns the new position. Shared with kernels.cuda.train's host loop, so both backends
    count alike."""
    scores[C.SC_SUM] += loss
    scores[C.SC_COUNT] += 1.0
    scores[C.SC_HITS] += hits
    scores[C.SC_SEEN] += advanced
    counters[C.C_STEP] += 1
    counters[C.C_OPT_STEP] += 1
    counters[C.C_POS] += advanced
    return counters[C.C_POS]


@njit(**INLINE)
def record_epoch(counters, scores, history, lr):
    """Writes the history row of the epoch that just ended (or stopped): its mean minibatch loss, training
    accuracy and learning rate; validation columns NaN until ``record_validation``. Rows past the
    history's end are not kept. Starts the next epoch's running sums."""
    row = counters[C.C_ROWS]
    if row < history.shape[0]:
        history[row, C.HI_LOSS] = scores[C.SC_SUM] / max(scores[C.SC_COUNT], 1.0)
        history[row, C.HI_ACC] = scores[C.SC_HITS] / max(scores[C.SC_SEEN], 1.0)
        history[row, C.HI_VAL_LOSS] = np.nan
        history[row, C.HI_VAL_ACC] = np.nan
        history[row, C.HI_LR] = lr
        history[row, C.HI_EPOCH] = counters[C.C_EPOCH]
    counters[C.C_ROWS] = row + 1
    epoch_loss = scores[C.SC_SUM] / max(scores[C.SC_COUNT], 1.0)
    scores[C.SC_SUM] = 0.0
    scores[C.SC_COUNT] = 0.0
    scores[C.SC_HITS] = 0.0
    scores[C.SC_SEEN] = 0.0
    return epoch_loss


@njit(**INLINE)
def record_validation(counters, history, val, acc):
    row = counters[C.C_ROWS] - 1
    if row < history.shape[0]:
        history[row, C.HI_VAL_LOSS] = val
        history[row, C.HI_VAL_ACC] = acc


@njit(**INLINE)
def end_epoch(counters, scores, reg, history, lr):
    """The last minibatch of an epoch ran: its history row, next epoch, fresh running sums. The run is
    marked diverged when the epoch's mean loss passed reg[R_LOSS_LIMIT] (> 0). Returns True when the
    validation loss is wanted now (validation data given; then ``record_validation`` and, with early
    stopping on, ``judge_validation``)."""
    counters[C.C_POS] = 0
    epoch_loss = record_epoch(counters, scores, history, lr)
    counters[C.C_EPOCH] += 1
    if reg[C.R_LOSS_LIMIT] > 0.0 and epoch_loss > reg[C.R_LOSS_LIMIT]:
        counters[C.C_STATUS] = C.DIVERGED
        return False
    return True


@njit(**INLINE)
def stop_diverged(counters, scores, loss, history, lr):
    """A minibatch loss was NaN or inf: the run stops, and the cut epoch gets its (non-finite) row."""
    scores[C.SC_SUM] += loss
    scores[C.SC_COUNT] += 1.0
    record_epoch(counters, scores, history, lr)
    counters[C.C_STATUS] = C.DIVERGED


@njit(**INLINE)
def judge_validation(counters, scores, val, patience):
    """The verdict on this epoch's validation loss: 1 keep these weights as the best (also with early
    stopping off, patience 0, for a checkpoint of the best weights), -1 stop and restore the best
    weights, 0 go on."""
    if val < scores[C.SC_BEST]:
        scores[C.SC_BEST] = val
        counters[C.C_BAD_EPOCHS] = 0
        counters[C.C_BEST_EPOCH] = counters[C.C_EPOCH]
        return 1
    if patience <= 0:
        return 0
    counters[C.C_BAD_EPOCHS] += 1
    if counters[C.C_BAD_EPOCHS] >= patience:
        counters[C.C_STATUS] = C.EARLY_STOPPED
        return -1
    return 0


@njit(**INLINE)
def _augment(raw, tmp, reg, rng):
    """Training-time augmentation of one raw sample in place (image shift, symmetry, jitter)."""
    shift = int(reg[C.R_SHIFT])
    if shift > 0:
        side = int(reg[C.R_SIDE])
        dx = R.below(rng, 2 * shift + 1) - shift
        dy = R.below(rng, 2 * shift + 1) - shift
        for i in range(side * side):
            src = ops.shifted_pixel(i, dx, dy, side)
            tmp[i] = raw[src] if src >= 0 else 0.0
        for i in range(side * side):
            raw[i] = tmp[i]
    mask = int(reg[C.R_SYMMETRY])
    if mask > 0:
        raw[0], raw[1] = ops.symmetry(ops.pick_symmetry(mask, R.uniform(rng)), raw[0], raw[1])
    sigma = reg[C.R_JITTER]
    if sigma > 0.0:
        for i in range(raw.size):
            raw[i] += sigma * R.normal(rng)


@njit(**JIT)
def _load_training_inputs(X, idx, start, n, features, reg, keep0, A, raw, tmp, rng):
    """Input rows of A for a training minibatch: augmentation, features, noise, input dropout."""
    augment = reg[C.R_SHIFT] > 0 or reg[C.R_SYMMETRY] > 0 or reg[C.R_JITTER] > 0.0
    noise = reg[C.R_NOISE]
    if not augment and noise == 0.0 and keep0 >= 1.0:
        load_inputs(X, idx, start, n, features, A)
        return
    identity = features[0] == C.IDENTITY
    d_in = X.shape[1] if identity else features.size
    for s in range(n):
        r = idx[start + s]
        for c in range(X.shape[1]):
            raw[c] = X[r, c]
        if augment:
            _augment(raw, tmp, reg, rng)
        for f in range(d_in):
            v = raw[f] if identity else ops.feature(features[f], raw[0], raw[1])
            if noise > 0.0:
                v += noise * R.normal(rng)
            if keep0 < 1.0:
                v *= ops.dropout(keep0, R.uniform(rng))
            A[f, s] = v


@njit(**JIT)
def train_steps(params, sizes, acts, loss_code, features, X, T, perm, counters, n_steps, settings, opt_state,
                rng, X_val, T_val, best_params, scores, out_losses, history):
    """Runs up to n_steps minibatch steps in place; returns how many ran.

    params (P,), opt_state (2, P), best_params (P,): model dtype. X (n, d_raw), T (n, k): model dtype.
    perm (n,) int64 sample order, reshuffled at each epoch start when shuffling;
    counters (codes.N_COUNTERS,) int64: update count, position in perm, epoch, status (codes.RUNNING /
    DIVERGED / EARLY_STOPPED), epochs without improvement, best epoch, updates since the optimizer started
    (Adam's t: an optimizer swapped in mid-run starts at 1), history rows written by this call.
    settings (codes.P_KEEP + len(sizes),) float64: the run's settings packed once (layout codes.P_*).
    rng (1,) uint64. scores (codes.N_SCORES,) float64: best validation loss and this epoch's running sums.
    out_losses (>= n_steps,) float64 minibatch data losses. history (rows, codes.N_HISTORY) float64: one
    row per epoch that ends in this call (layout codes.HI_*), with the validation loss and accuracy when
    X_val has rows; rows past its end are counted in counters[C_ROWS] but not kept.
    Stops early (status set) on a non-finite loss, when an epoch's mean loss exceeds
    reg[R_LOSS_LIMIT] (> 0: a run that blew up without overflowing), or when early stopping fires.
    """
    batch_size = int(settings[C.P_BATCH])
    shuffle = settings[C.P_SHUFFLE] > 0.0
    opt_code = int(settings[C.P_OPT])
    base_lr = settings[C.P_LR]
    sched_code = int(settings[C.P_SCHED])
    opt_hyper = settings[C.P_HYPER:C.P_HYPER + C.N_OPT_HYPER]
    sched_hyper = settings[C.P_SCHED_HYPER:C.P_SCHED_HYPER + C.N_SCHED_HYPER]
    reg = settings[C.P_REG:C.P_REG + C.N_REG]
    keep = settings[C.P_KEEP:]
    n = X.shape[0]
    k = sizes[-1]
    U = 0
    for l in range(sizes.size):
        U += sizes[l]
    B = min(batch_size, n)
    A = np.empty((U, B), params.dtype)
    D = np.ones((U, B), params.dtype)
    dZ = np.empty((U, B), params.dtype)
    Zout = np.empty((k, B), params.dtype)
    grad = np.empty_like(params)
    raw = np.empty(X.shape[1], params.dtype)
    tmp = np.empty(X.shape[1], params.dtype)
    o0 = U - k
    offs = layer_offsets(sizes)
    L = sizes.size - 1
    out_code = acts[L - 1]
    patience = int(reg[C.R_PATIENCE])
    one = np.ones(1, params.dtype)
    counters[C.C_ROWS] = 0
    done = 0
    while done < n_steps and counters[C.C_STATUS] == C.RUNNING:
        pos = counters[C.C_POS]
        if pos == 0 and shuffle:
            R.shuffle(perm, rng)
        b = min(B, n - pos)
        lr = lr_at(sched_code, sched_hyper, base_lr, counters[C.C_EPOCH])
        _load_training_inputs(X, perm, pos, b, features, reg, keep[0], A, raw, tmp, rng)
        forward_layers(params, sizes, offs, acts, A, D, Zout, b, True, keep, rng)
        loss = output_delta(loss_code, out_code, A, Zout, o0, k, T, perm, pos, b, dZ, True) / b
        out_losses[done] = loss
        done += 1
        if not math.isfinite(loss):
            stop_diverged(counters, scores, loss, history, lr)
            break
        hits = accuracy_count(loss_code, A, o0, k, T, perm, pos, b)
        backward_layers(params, sizes, offs, A, D, dZ, b, grad)
        add_penalty(params, sizes, reg[C.R_L1], reg[C.R_L2], reg[C.R_BIAS] > 0.0, grad)
        pos = count_step(counters, scores, loss, hits, b)
        one[0] = lr
        opt_update(opt_code, opt_hyper, one[0], counters[C.C_OPT_STEP], params, grad, opt_state)
        if pos >= n and end_epoch(counters, scores, reg, history, lr) and X_val.shape[0] > 0:
            val, acc = dataset_loss(params, sizes, acts, loss_code, features, X_val, T_val)
            record_validation(counters, history, val, acc)
            verdict = judge_validation(counters, scores, val, patience)
            if verdict > 0:
                best_params[:] = params
            elif verdict < 0:
                params[:] = best_params
    return done
