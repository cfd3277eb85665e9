"""Tunables of the kernels, in one place (as stumpy keeps its config)."""

# LLVM fast-math flags: reassociation lets reductions vectorise. 'nnan'/'ninf' are left out on
# purpose: the training kernel must still see a NaN loss to stop a diverging run.
FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}

# NumPy's error model: a float division by zero gives inf/nan instead of raising. Python's model adds a
# check (and a possible exception) to every division, which stops loops from vectorising (10x on tanh).
ERROR_MODEL = "numpy"

# options of every CPU kernel; nogil so page threads train while the server keeps serving
JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
# Hot-path helpers are inlined into their callers at Numba IR level. A call between compiled functions
# increfs and decrefs every array argument (atomic NRT calls), which at batch 32 cost more than the math.
INLINE = dict(JIT, inline="always")

# dense layers with at least this many multiply-adds per call go through BLAS (np.dot, needs SciPy)
BLAS_MIN_MACS = 32768

# CPU evaluation: data sets are processed in column chunks of this many samples (workspace stays in
# cache); loss surfaces deal parameter vectors round-robin to this many parallel tasks
CHUNK = 256
WORKERS = 64

# CUDA launch shapes: threads per block for 1-D launches, (parameter vectors, samples) per block for
# evaluation; per-thread local arrays (all units of a network, raw input columns, layers)
THREADS_PER_BLOCK = 128
EVAL_TILE = (8, 32)
LOCAL_UNITS = 1536  # enough for 784-512-10
LOCAL_RAW = 1024    # 28 x 28 images
MAX_LAYERS = 32
MAX_LAYERS_PLUS_ONE = 33  # local array shapes must be literal constants on the CUDA target
