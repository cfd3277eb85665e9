"""Tunables of the kernels, in one place (as stumpy keeps its config)."""

# LLVM fast-math flags: reassociation lets reductions vectorise. 'nnan'/'ninf' are left out on
# purpose: the training kernel must still see a NaN loss to stop a diverging run.
FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}

# CUDA launch shape
THREADS_PER_BLOCK = 128
