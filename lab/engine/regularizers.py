"""Regularization settings, packed into the vector the fused training kernel reads.

* L1: penalty l1 sum|w| (subgradient 0 at 0); L2: penalty l2 sum w^2. Biases are excluded unless
  ``include_bias``.
* Dropout: keep probability per layer (inputs, then each hidden layer). Inverted dropout: at training
  time a kept unit is divided by its keep probability p, so at prediction time nothing changes. This is
  equivalent to the classic form, which trains without rescaling and multiplies each unit's outgoing
  weights by p at prediction time.
* Input noise: Gaussian noise of standard deviation ``noise`` added to every input feature while
  training, never at evaluation.
* Early stopping: stop when the validation loss has not improved for ``patience`` epochs and restore
  the best weights.
* Augmentation: ``jitter`` (Gaussian noise on the raw 2-D point, before feature maps), ``symmetries``
  (random rotation/reflection drawn from the data set's own symmetry group, labels kept) and
  ``image_shift`` (digits moved by up to that many pixels).
"""

import numpy as np
import param

from kernels import codes as C
from kernels.cpu.nn import add_penalty


class Regularization(param.Parameterized):
    l1 = param.Number(0.0, bounds=(0.0, 10.0), softbounds=(0.0, 0.1), step=1e-4,
                      doc="L1 rate lambda: adds lambda * sum|w| to the loss.")
    l2 = param.Number(0.0, bounds=(0.0, 10.0), softbounds=(0.0, 0.1), step=1e-4,
                      doc="L2 rate lambda: adds lambda * sum w^2 to the loss.")
    include_bias = param.Boolean(False, doc="Also penalise biases with L1/L2.")
    keep_input = param.Number(1.0, bounds=(0.0, 1.0), inclusive_bounds=(False, True), step=0.05,
                              doc="Dropout keep probability of input units (1 = no dropout; 0.8 typical).")
    keep_hidden = param.Number(1.0, bounds=(0.0, 1.0), inclusive_bounds=(False, True), step=0.05,
                               doc="Dropout keep probability of hidden units (1 = no dropout; 0.5 typical).")
    keep_per_layer = param.List(default=None, allow_None=True, item_type=(int, float),
                                doc="Keep probabilities for inputs and each hidden layer; overrides the two above.")
    noise = param.Number(0.0, bounds=(0.0, 10.0), softbounds=(0.0, 1.0), step=0.01,
                         doc="Standard deviation of Gaussian noise injected into the inputs while training.")
    patience = param.Integer(0, bounds=(0, 10000),
                             doc="Early stopping: epochs without validation improvement before stopping (0 = off).")
    jitter = param.Number(0.0, bounds=(0.0, 10.0), softbounds=(0.0, 1.0), step=0.01,
                          doc="Augmentation: Gaussian jitter added to raw 2-D points while training.")
    symmetries = param.Boolean(False, doc="Augmentation: random rotations/reflections under which the data set "
                                          "is symmetric.")
    image_shift = param.Integer(0, bounds=(0, 4), doc="Augmentation: shift images by up to this many pixels.")

    def keep_vector(self, sizes):
        """Keep probabilities, one per layer of ``sizes`` (inputs, hidden..., output = 1)."""
        n_hidden = len(sizes) - 2
        if self.keep_per_layer is not None:
            keep = list(self.keep_per_layer)
            if len(keep) != n_hidden + 1:
                raise ValueError(f"keep_per_layer needs {n_hidden + 1} values (inputs and "
                                 f"{n_hidden} hidden layers), got {len(keep)}")
        else:
            keep = [self.keep_input] + [self.keep_hidden] * n_hidden
        for i, p in enumerate(keep):
            if not 0.0 < p <= 1.0:
                raise ValueError(f"keep probability of layer {i} must be in (0, 1], got {p}")
        return np.array(keep + [1.0], dtype=np.float64)

    def pack(self, symmetry_mask=0, image_side=0):
        """The kernel's regularizer vector (layout kernels.codes.R_*)."""
        if self.image_shift and not image_side:
            raise ValueError("image_shift needs square image inputs (e.g. the digits data set)")
        if self.symmetries and not symmetry_mask:
            raise ValueError("this data set has no symmetries to augment with; turn 'symmetries' off")
        reg = np.zeros(C.N_REG)
        reg[C.R_L1], reg[C.R_L2] = self.l1, self.l2
        reg[C.R_BIAS] = float(self.include_bias)
        reg[C.R_NOISE] = self.noise
        reg[C.R_JITTER] = self.jitter
        reg[C.R_SYMMETRY] = symmetry_mask if self.symmetries else 0
        reg[C.R_SHIFT] = self.image_shift
        reg[C.R_SIDE] = image_side
        reg[C.R_PATIENCE] = self.patience
        return reg

    def penalty(self, params, sizes):
        """(penalty, gradient of the penalty) for a flat parameter vector."""
        grad = np.zeros_like(params)
        value = add_penalty(params, np.asarray(sizes, np.int64), self.l1, self.l2,
                            self.include_bias, grad)
        return value, grad


def get(**settings):
    """A Regularization from keyword settings; ValueError for unknown names or bad values."""
    unknown = set(settings) - set(Regularization.param)
    if unknown:
        raise ValueError(f"unknown regularizer setting {sorted(unknown)}; known: "
                         f"{[p for p in Regularization.param if p != 'name']}")
    return Regularization(**settings)
