"""Integer codes that select activations, losses, optimizers, schedules and feature maps inside kernels.

The kernels receive their configuration as data (these codes plus float hyperparameter arrays), so one
compiled kernel serves every combination. The name -> code tables at the bottom are the registries
``lab`` reads; nothing else maps names to codes.
"""

# activations (hidden layers and output heads); the math of each is in kernels.ops
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTMAX, GELU, SILU, SOFTPLUS, ELU = range(10)
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0

# losses
BCE, CROSS_ENTROPY, HINGE, MSE = 0, 1, 2, 3

# optimizers
SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADAMW, LION = range(8)
# layout of the optimizer hyperparameter vector (the learning rate travels separately, scheduled)
H_MOMENTUM, H_DECAY, H_EPS, H_BETA1, H_BETA2, H_WEIGHT_DECAY = range(6)
N_OPT_HYPER = 6
N_OPT_STATE = 2  # rows of optimizer state, each shaped like the parameter vector

# learning-rate schedules; t counts epochs
CONSTANT, STEP, INVERSE, EXPONENTIAL, COSINE = 0, 1, 2, 3, 4
S_GAMMA, S_EVERY, S_RATE, S_PERIOD, S_MIN = 0, 1, 2, 3, 4
N_SCHED_HYPER = 5

# regularizer vector layout
R_L1, R_L2, R_BIAS, R_NOISE, R_JITTER, R_SYMMETRY, R_SHIFT, R_SIDE, R_PATIENCE, R_LOSS_LIMIT = range(10)
N_REG = 10
# scores vector of a training state: best validation loss, running sum and count of this epoch's minibatch
# losses, correct predictions and samples seen this epoch (training accuracy, dropout and all, as Keras)
SC_BEST, SC_SUM, SC_COUNT, SC_HITS, SC_SEEN = range(5)
N_SCORES = 5

# a run's settings, packed once into one float64 vector (lab.engine.training.Trainer.pack): batch size,
# shuffle, optimizer code, base learning rate, schedule code, then the optimizer's hyperparameters (H_*),
# the schedule's (S_*), the regularizer vector (R_*) and the keep probabilities, one per layer
P_BATCH, P_SHUFFLE, P_OPT, P_LR, P_SCHED = range(5)
P_HYPER = 5
P_SCHED_HYPER = P_HYPER + N_OPT_HYPER
P_REG = P_SCHED_HYPER + N_SCHED_HYPER
P_KEEP = P_REG + N_REG  # len(sizes) values follow

# per-epoch history rows the training kernel writes: mean minibatch loss, training accuracy, validation
# loss and accuracy (NaN without validation data), the learning rate the epoch used, the epoch's number
HI_LOSS, HI_ACC, HI_VAL_LOSS, HI_VAL_ACC, HI_LR, HI_EPOCH = range(6)
N_HISTORY = 6

# input feature maps for 2-D data; IDENTITY in slot 0 means "use the raw columns"
IDENTITY = -1
X1, X2, X1_SQ, X2_SQ, X1_X2, SIN_X1, SIN_X2 = 0, 1, 2, 3, 4, 5, 6

# counters vector of a training state: minibatch updates so far, position in the sample order, epoch,
# status, epochs without validation improvement, best epoch, updates since the optimizer (re)started,
# history rows written by the last kernel call
C_STEP, C_POS, C_EPOCH, C_STATUS, C_BAD_EPOCHS, C_BEST_EPOCH, C_OPT_STEP, C_ROWS = range(8)
N_COUNTERS = 8
# status values
RUNNING, DIVERGED, EARLY_STOPPED = 0, 1, 2

# ----- registries: the names the lab accepts ----------------------------------------------------------
ACTIVATIONS = {"linear": LINEAR, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU,
               "gelu": GELU, "silu": SILU, "softplus": SOFTPLUS, "elu": ELU}
OUTPUTS = {"sigmoid": SIGMOID, "softmax": SOFTMAX, "tanh": TANH, "linear": LINEAR}
LOSSES = {"bce": BCE, "cross_entropy": CROSS_ENTROPY, "hinge": HINGE, "mse": MSE}
FEATURES = {"x1": X1, "x2": X2, "x1^2": X1_SQ, "x2^2": X2_SQ, "x1*x2": X1_X2, "sin(x1)": SIN_X1,
            "sin(x2)": SIN_X2}
