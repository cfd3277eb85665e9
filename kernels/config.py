"""Tunables of the kernels, in one place (as stumpy keeps its config)."""

# LLVM fast-math flags: reassociation lets reductions vectorise. 'nnan'/'ninf' are left out on
# purpose: the training kernel must still see a NaN loss to stop a diverging run.
FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}

# NumPy's error model: a float division by zero gives inf/nan instead of raising. Python's model adds a
# check (and a possible exception) to every division, which stops loops from vectorising (10x on tanh).
ERROR_MODEL = "numpy"

# dense layers with at least this many multiply-adds per call go through BLAS (np.dot, needs SciPy)
BLAS_MIN_MACS = 32768

# CUDA launch shape
THREADS_PER_BLOCK = 128
