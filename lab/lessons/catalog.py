"""The seed lessons. Adding one: a Lesson(...) definition here, and its name in LESSONS at the end."""

from lab.lessons.core import Lesson, Step


def plane(dataset, **settings):
    """A 2-D Playground setup: noise-free data, raw inputs, tanh units, batches of 10, seed 0, unless
    the lesson says otherwise (URL names; ``opt_learning_rate`` stands for ``opt.learning_rate``)."""
    base = {"dataset": dataset, "noise": 0.0, "activation": "tanh", "features": "x1,x2", "batch_size": 10, "seed": 0}
    return {**base, **{k.replace("opt_", "opt.", 1): v for k, v in settings.items()}}


def digits(**settings):
    """The primer's digits net: softmax and cross-entropy, 30% test, full-batch SGD at 0.3 to start."""
    return {"dataset": "digits", "test_ratio": 0.3, "activation": "tanh", "output": "softmax", "loss": "cross_entropy",
            "optimizer_name": "sgd", "opt.learning_rate": 0.3, "batch_size": 1024, "seed": 0, **settings}

def one_dimensional(preset, surface, start, learning_rate):
    """A race of plain gradient descent alone on a 1-D surface, one step per frame (a step table)."""
    return {"preset": preset, "surface": surface, "start": start, "racers": "sgd",
            "r0.learning_rate": learning_rate, "speed": 1}


GRADIENT_DESCENT_BY_HAND = Lesson(
    "gradient-descent-by-hand", "Gradient descent by hand", "race",
    "Fit one number c to x = 1..5 by gradient descent and follow every step in a table.",
    one_dimensional("least squares fit of c", "least_squares", 0.0, 0.05),
    (
        Step("We look for the number c closest to x = [1, 2, 3, 4, 5] in the least-squares sense:\n\n"
             "J(c) = Σ (x_i − c)², its derivative dJ/dc = −2 Σ (x_i − c), and gradient descent repeats "
             "**c ← c − 0.05 · dJ/dc** from c = 0.\n\nPress **Step** once and check the table: at c = 0, "
             "dJ/dc = −2 · 15 = −30, so c becomes 0 − 0.05 · (−30) = 1.5."),
        Step("One step, done for you: J fell from 55 to 21.25, and c = 1.5. Each step here halves the distance "
             "to the minimum: c ← c + 0.1 · (15 − 5c) = 0.5 c + 1.5.", actions=(("step", 1),)),
        Step("Ten steps: c approaches 3, the mean of the x_i, where dJ/dc = 0. The gap to 3 halves every "
             "step (0.5 = 1 − 10 · 0.05).", actions=(("step", 10),)),
        Step("Learning rate 0.15: each step now overshoots the minimum (1 − 10 · 0.15 = −0.5), so c "
             "**oscillates** around 3, and still converges.", {"r0.learning_rate": 0.15},
             actions=(("step", 10),)),
        Step("Learning rate 0.2: 1 − 10 · 0.2 = −1. c jumps between 0 and 6 for ever: it never settles.",
             {"r0.learning_rate": 0.2}, actions=(("step", 10),)),
        Step("Learning rate 0.25: every step lands 1.5 times further away (1 − 10 · 0.25 = −1.5): gradient "
             "descent **diverges**. Too large a learning rate does not speed learning up; it breaks it.",
             {"r0.learning_rate": 0.25}, actions=(("step", 60),)),
    ))

QUADRATIC_DESCENT = Lesson(
    "quadratic-descent", "Gradient descent on u² + u + 1", "race",
    "Plain gradient descent on a parabola: converge, oscillate for ever, diverge.",
    one_dimensional("GD on u^2 + u + 1", "parabola", 20.0, 0.3),
    (
        Step("J(u) = u² + u + 1 has its minimum at u = −1/2 (where dJ/du = 2u + 1 = 0). From u = 20, gradient "
             "descent with learning rate 0.3 repeats **u ← u − 0.3 (2u + 1)**.\n\nPress **Step** and fill the "
             "first row yourself: dJ/du = 41 at u = 20, so u becomes 20 − 12.3 = 7.7."),
        Step("Twenty steps: the distance to −1/2 shrinks by |1 − 2 · 0.3| = 0.4 each step, and u converges.",
             actions=(("step", 20),)),
        Step("Learning rate 1.0: 1 − 2 · 1.0 = −1, so u jumps from 20 to −21 and back, for ever. It never "
             "settles, and never diverges either.", {"r0.learning_rate": 1.0}, actions=(("step", 20),)),
        Step("Learning rate 1.1: |1 − 2 · 1.1| = 1.2 > 1, every step lands 20% further away: the run "
             "**diverges**, and the page says so.", {"r0.learning_rate": 1.1}, actions=(("step", 100),)),
    ))

MOMENTUM_VS_RMSPROP = Lesson(
    "momentum-vs-rmsprop", "Momentum against RMSprop", "race",
    "Drag momentum from 0 to 0.99 against RMSprop on a narrow valley, then on Rosenbrock.",
    {"preset": "momentum vs RMSprop on a narrow valley", "surface": "quadratic", "condition": 50, "angle": 30,
     "start": "-1.8,1.2", "racers": "momentum,rmsprop", "r0.learning_rate": 0.02, "r0.momentum": 0.0,
     "r1.learning_rate": 0.02, "r1.decay": 0.9, "speed": 2},
    (
        Step("A narrow valley: the bowl is 50 times steeper across than along (condition number 50). Blue "
             "is momentum, here with momentum 0, which is plain gradient descent; red is RMSprop.\n\n"
             "Press **Play**: gradient descent zig-zags across the valley and crawls along it.",
             actions=("play",)),
        Step("Momentum 0.5: each step keeps half of the previous one. The zig-zags partly cancel and the "
             "steps along the valley add up.", {"r0.momentum": 0.5}, actions=("play",)),
        Step("Momentum 0.9: much faster along the valley, at the price of overshooting across it.",
             {"r0.momentum": 0.9}, actions=("play",)),
        Step("Momentum 0.99: too much memory; the path spirals and takes long to settle. On the convergence "
             "map (right) each dot is a racer's (learning rate, momentum): dark is fast, bright is slow, "
             "above 1 it diverges. Drag the blue dot and watch the path change.",
             {"r0.momentum": 0.99}, actions=("play",)),
        Step("RMSprop divides each coordinate's step by a running average of its squared gradients, so "
             "the steep and the flat directions move at similar speeds. Its decay sets how long that "
             "average remembers: 0.5 forgets at once, 0.99 remembers ~100 steps.",
             {"r0.momentum": 0.9, "r1.decay": 0.5}, actions=("play",)),
        Step("RMSprop with decay 0.99, against momentum 0.9.", {"r1.decay": 0.99}, actions=("play",)),
        Step("The same two on Rosenbrock's curved valley from (−1.5, 2): momentum must follow a bend; "
             "RMSprop rescales each coordinate.",
             {"preset": "momentum vs RMSprop on Rosenbrock", "surface": "rosenbrock", "start": "-1.5,2",
              "condition": None, "angle": None, "r0.learning_rate": 0.001, "r1.learning_rate": 0.01,
              "r1.decay": 0.9},
             actions=("play",)),
    ), play=200)

RMSPROP_DIGITS = Lesson(
    "rmsprop-digits", "RMSprop on the digits", "playground",
    "The primer's net on 8×8 digits: batch gradient descent, momentum and RMSprop, test cost and error.",
    digits(hidden="64"),
    (
        Step("Handwritten digits (8×8 pixels, 10 classes), one hidden layer of 64 tanh units, a softmax "
             "output and the cross-entropy loss. **Batch gradient descent**: every step uses all training "
             "images (batch size above the training set). Watch the test cost and the error rate.",
             actions=(("step", 30),)),
        Step("**Momentum** 0.9 with the same batches: the same number of steps, a lower test cost.",
             {"optimizer_name": "momentum", "opt.learning_rate": 0.1, "opt.momentum": 0.9},
             actions=("reset", ("step", 30))),
        Step("**RMSprop** with decay 0.99 and momentum 0.9 (the primer's TensorFlow setting): each weight "
             "gets its own step size.",
             {"optimizer_name": "rmsprop", "opt.learning_rate": 0.001, "opt.decay": 0.99, "opt.momentum": 0.9},
             actions=("reset", ("step", 30))),
    ), print_every=10)

KERAS_HINGE = Lesson(
    "keras-hinge", "A 2-5-1 tanh net with hinge loss", "playground",
    "Keras from scratch: hinge loss and ±1 targets, then one forward pass by hand, then a hand-set model.",
    {"dataset": "sum_2d", "noise": 0.0, "n_points": 500, "test_ratio": 0.2, "hidden": "5", "activation": "tanh",
     "output": "tanh", "loss": "hinge", "optimizer_name": "adam", "opt.learning_rate": 0.01, "batch_size": 32,
     "seed": 0},
    (
        Step("Points in the unit square, labelled +1 when x1 + x2 > 0.5 and −1 otherwise. A 2-5-1 network "
             "with tanh units and a tanh output is trained with the **hinge loss** max(0, 1 − t·y), with "
             "Adam; 20% of the points are held out for validation (the test set here).",
             actions=(("step", 30),)),
        Step("The forward pass by hand for the input (0.3, 0.1): each hidden unit computes z = w1·x1 + w2·x2 "
             "+ b and a = tanh(z); the output unit does the same with the five a's. Check one unit with a "
             "calculator: the panel lists every number.", trace=(0.3, 0.1)),
        Step("A hand-set model: the first hidden unit computes tanh(10 (x1 + x2 − 0.5)), the output "
             "tanh(5 a1), every other weight is 0. Its sign is the label exactly: **accuracy 1.000**, set "
             "with set_weights, no training.",
             weights=([[10.0, 0, 0, 0, 0], [10.0, 0, 0, 0, 0]], [-5.0, 0, 0, 0, 0],
                      [[5.0], [0.0], [0.0], [0.0], [0.0]], [0.0]), trace=(0.3, 0.1)),
    ))

NUMPY_PRIMER = Lesson(
    "numpy-primer", "The NumPy primer's MLP, one change at a time", "playground",
    "Digits with softmax and cross-entropy: batch size, momentum, decay schedules and regularizers.",
    digits(hidden="32"),
    (
        Step("The primer's MLP: indicator (one-hot) targets, softmax outputs, cross-entropy, and the test "
             "error rate. **Full batch**: one step per epoch.", actions=(("step", 20),)),
        Step("**Minibatches of 32**: ~40 steps per epoch, each noisier and much cheaper. The same epochs "
             "reach a far lower error.", {"batch_size": 32, "opt.learning_rate": 0.05},
             actions=("reset", ("step", 20))),
        Step("**Momentum** 0.9: velocity accumulates along consistent directions.",
             {"optimizer_name": "momentum", "opt.learning_rate": 0.02, "opt.momentum": 0.9},
             actions=("reset", ("step", 20))),
        Step("**Step decay**: the learning rate halves every 5 epochs (the rate curve shows it).",
             {"schedule_name": "step", "sched.gamma": 0.5, "sched.every": 5}, actions=("reset", ("step", 20))),
        Step("**Inverse decay**: lr / (1 + rate · epoch).",
             {"schedule_name": "inverse", "sched.gamma": None, "sched.every": None, "sched.rate": 0.1},
             actions=("reset", ("step", 20))),
        Step("**Exponential decay**: lr · exp(−rate · epoch).", {"schedule_name": "exponential", "sched.rate": 0.05},
             actions=("reset", ("step", 20))),
        Step("**L2** (weight decay) 0.001, constant rate again: smaller weights, a smoother model.",
             {"schedule_name": "constant", "sched.rate": None, "reg.l2": 0.001}, actions=("reset", ("step", 20))),
        Step("**Dropout**: each hidden unit is kept with probability 0.8 while training.",
             {"reg.keep_hidden": 0.8}, actions=("reset", ("step", 20))),
        Step("**Noise injection**: Gaussian noise added to the inputs while training.",
             {"reg.keep_hidden": 1.0, "reg.noise": 0.1}, actions=("reset", ("step", 20))),
        Step("**Early stopping**: training stops when the test loss has not improved for 5 epochs, and the "
             "best weights come back.", {"reg.noise": 0.0, "reg.patience": 5}, actions=("reset", ("step", 60))),
    ))

XOR_NEEDS_A_HIDDEN_LAYER = Lesson(
    "xor-needs-a-hidden-layer", "XOR needs a hidden layer", "playground",
    "No straight line separates XOR: add a hidden layer, or the feature x1·x2.",
    plane("xor", hidden="", optimizer_name="sgd", opt_learning_rate=0.1),
    (
        Step("No hidden layer: the output is a sigmoid of a straight line, and no line separates the four "
             "XOR quadrants. Accuracy stays near one half.", actions=(("step", 50),)),
        Step("One hidden layer of 4 tanh units: each unit draws one line, the output combines them.",
             {"hidden": "4"}, actions=(("step", 50),)),
        Step("No hidden layer again, but with the input feature x1·x2: its sign is the XOR label, so one "
             "unit suffices.", {"hidden": "", "features": "x1*x2"}, actions=(("step", 50),)),
    ))

SPIRAL_FEATURES_OR_DEPTH = Lesson(
    "spiral-features-or-depth", "The spiral: features or depth", "playground",
    "Learn the two spirals with hand-made features, or with a deeper network on raw inputs.",
    plane("spiral", hidden="4", optimizer_name="adam", opt_learning_rate=0.01),
    (
        Step("Raw inputs and 4 hidden units: the spirals wind around each other and the network cannot "
             "follow them.", actions=(("step", 100),)),
        Step("All seven input features (squares, product, sines): the boundary can now curl.",
             {"features": "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)", "hidden": "8"}, actions=(("step", 100),)),
        Step("Raw inputs again, with depth instead: three hidden layers of 8. Slower to start, no "
             "hand-made features.", {"features": "x1,x2", "hidden": "8, 8, 8"}, actions=(("step", 200),)),
    ))

OVERFITTING_AND_REGULARIZATION = Lesson(
    "overfitting-and-regularization", "Overfitting and regularization", "playground",
    "Noisy data, few training points, a big net: the test loss rises. Then L2, dropout, early stopping.",
    plane("xor", noise=0.3, test_ratio=0.8, n_points=200, hidden="16, 16, 16", activation="relu",
          optimizer_name="adam", opt_learning_rate=0.01),
    (
        Step("20% of 200 noisy points for training, a 16-16-16 network: the training loss falls towards 0 "
             "while the **test loss rises**. The network learns the noise.", actions=(("step", 150),)),
        Step("**L2** 0.01: large weights cost loss, the boundary smooths and the test loss stays lower.",
             {"reg.l2": 0.01}, actions=("reset", ("step", 150))),
        Step("**Dropout** instead: every hidden unit kept with probability 0.7 while training.",
             {"reg.l2": 0.0, "reg.keep_hidden": 0.7}, actions=("reset", ("step", 150))),
        Step("**Early stopping** instead: stop when the test loss has not improved for 20 epochs, and "
             "restore the best weights.", {"reg.keep_hidden": 1.0, "reg.patience": 20},
             actions=("reset", ("step", 150))),
    ), print_every=25)

LEARNING_RATE_TOO_HIGH = Lesson(
    "learning-rate-too-high", "A learning rate too high", "playground",
    "The same network with learning rate 0.003 and 0.3: the second run diverges and stops itself.",
    plane("plane", hidden="4", activation="relu", optimizer_name="sgd", opt_learning_rate=0.003),
    (
        Step("A regression: the targets lie on a tilted plane over (x1, x2), learned with the mean squared "
             "error. Learning rate 0.003: the loss falls smoothly.",
             actions=(("step", 20),)),
        Step("Learning rate 0.3: every step overshoots further. The loss explodes, the run **stops itself** "
             "and says why: lower the learning rate and press reset.", {"opt.learning_rate": 0.3},
             actions=("reset", ("step", 20))),
    ))

ACTIVATIONS_COMPARED = Lesson(
    "activations-compared", "Activations compared", "playground",
    "Sigmoid, tanh and ReLU on the same data from the same initial weights.",
    plane("circle", hidden="6, 6", activation="sigmoid", optimizer_name="sgd", opt_learning_rate=0.1, seed=1),
    (
        Step("**Sigmoid** hidden units: outputs in (0, 1), gradients at most 1/4, so learning is slow.",
             actions=(("step", 50),)),
        Step("**Tanh**: zero-centred, gradients up to 1: faster from the same weights.",
             {"activation": "tanh"}, actions=(("step", 50),)),
        Step("**ReLU**: piecewise linear, the boundary is made of straight pieces.",
             {"activation": "relu"}, actions=(("step", 50),)),
    ))

SHARP_AND_FLAT_MINIMA = Lesson(
    "sharp-and-flat-minima", "Sharp and flat minima", "landscape",
    "Tiny batches settle in wider valleys than full batches: see it on the loss surface, and measure it.",
    plane("circle", noise=0.1, hidden="8, 8", activation="relu", optimizer_name="sgd", opt_learning_rate=0.1,
          batch_size=2, span=1.0, resolution=31),
    (
        Step("Batches of 2 points: every step follows a very noisy gradient. After 50 epochs look at the "
             "surface around the weights (filter-normalised directions, Li et al. 2018). The terminal "
             "version measures the **sharpness**: how much the training loss rises, on average, half a "
             "unit away along random directions.", actions=(("step", 50),)),
        Step("The full batch (all 250 training points) with the same learning rate, trained to about the "
             "same training loss (2,000 epochs of one step each). The minimum it finds is **sharper**: the "
             "surface rises faster around it (Keskar et al. 2017). Noisy small-batch steps cannot stay in "
             "a narrow valley.", {"batch_size": 500}, actions=("reset", ("step", 2000))),
    ))

LESSONS = [GRADIENT_DESCENT_BY_HAND, QUADRATIC_DESCENT, MOMENTUM_VS_RMSPROP, RMSPROP_DIGITS, KERAS_HINGE,
           NUMPY_PRIMER, XOR_NEEDS_A_HIDDEN_LAYER, SPIRAL_FEATURES_OR_DEPTH, OVERFITTING_AND_REGULARIZATION,
           LEARNING_RATE_TOO_HIGH, ACTIVATIONS_COMPARED, SHARP_AND_FLAT_MINIMA]
