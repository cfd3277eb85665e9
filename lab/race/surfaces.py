"""Test functions for optimizers: a value, an exact gradient, a plotting window and the minimum.

    >>> f = get("rosenbrock")
    >>> path = run(f, optimizers.get("adam", learning_rate=0.05), start=(-1.5, 2.0), steps=200)
    >>> g = parse("(1 - x)**2 + 100*(y - x**2)**2")

A point is a parameter vector of length 2 (length 1 for the 1-D lessons), so every optimizer in
``lab.optimizers`` runs on them unchanged.
"""

import math

import numpy as np
from numba import njit

from lab.race import formula
from lab.settings import short

JIT = dict(cache=True, nogil=True)


@njit(**JIT)
def _rosenbrock(x, y):
    v = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return v, -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


@njit(**JIT)
def _beale(x, y):
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y * y
    c = 2.625 - x + x * y**3
    v = a * a + b * b + c * c
    gx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y**3 - 1)
    gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y
    return v, gx, gy


@njit(**JIT)
def _himmelblau(x, y):
    a = x * x + y - 11
    b = x + y * y - 7
    return a * a + b * b, 4 * a * x + 2 * b, 2 * a + 4 * b * y


@njit(**JIT)
def _saddle(x, y):
    return x * x - y * y, 2 * x, -2 * y


@njit(**JIT)
def _camel(x, y):
    v = (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
    gx = 8 * x - 8.4 * x**3 + 2 * x**5 + y
    gy = x - 8 * y + 16 * y**3
    return v, gx, gy


@njit(**JIT)
def _rastrigin(x, y):
    w = 2 * math.pi
    v = 20 + x * x - 10 * math.cos(w * x) + y * y - 10 * math.cos(w * y)
    return v, 2 * x + 10 * w * math.sin(w * x), 2 * y + 10 * w * math.sin(w * y)


@njit(**JIT)
def _plateau(x, y):
    # a flat plateau around a bowl at the origin, and a cliff (a steep sigmoid wall) at x = 1.5
    r = math.exp(-0.5 * (x * x + y * y))
    s = 1.0 / (1.0 + math.exp(-20.0 * (x - 1.5)))
    v = 1 - r + 3 * s
    return v, x * r + 60 * s * (1 - s), y * r


class Surface:
    """f: R^dim -> R with value(p), grad(p), a plotting window, the known minima, and a log-scale hint."""

    def __init__(self, name, fn, dim=2, window=((-2, 2), (-2, 2)), minima=(), start=None,
                 log_scale=False, description=""):
        self.name = name
        self._fn = fn
        self.dim = dim
        self.window = window
        self.minima = [tuple(m) for m in minima]
        self.start = tuple(start) if start is not None else None
        self.log_scale = log_scale
        self.description = description

    def _point(self, p):
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (self.dim,):
            raise ValueError(f"{self.name} takes points of length {self.dim}, got shape {p.shape}")
        return p

    def value(self, p):
        return float(self._fn(*self._point(p))[0])

    def grad(self, p):
        return np.array(self._fn(*self._point(p))[1:], dtype=np.float64)

    def grid(self, resolution=100):
        """(xs, ys, values[i, j] at (xs[j], ys[i])) over the window, for contour plots (2-D only)."""
        (x0, x1), (y0, y1) = self.window
        xs = np.linspace(x0, x1, resolution)
        ys = np.linspace(y0, y1, resolution)
        return xs, ys, self.values(*np.meshgrid(xs, ys))

    def values(self, X, Y):
        out = np.empty(X.shape)
        for idx in np.ndindex(X.shape):
            out[idx] = self._fn(X[idx], Y[idx])[0]
        return out

    @property
    def minimum(self):
        """The (first) global minimiser, or None (the saddle has none)."""
        return self.minima[0] if self.minima else None

    def __repr__(self):
        return f"Surface({self.name!r})"


class Quadratic(Surface):
    """0.5 (u^2 + kappa v^2) with (u, v) the point rotated by ``angle`` degrees: condition number kappa."""

    def __init__(self, condition=10.0, angle=0.0):
        if not 1.0 <= condition <= 1e6:
            raise ValueError(f"condition number must be in [1, 1e6], got {condition}")
        self.condition = float(condition)
        self.angle = float(angle)
        t = math.radians(angle)
        R = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
        self.hessian = R.T @ np.diag([1.0, self.condition]) @ R
        H = self.hessian
        super().__init__("quadratic", lambda x, y: (0.5 * (H[0, 0] * x * x + 2 * H[0, 1] * x * y
                                                            + H[1, 1] * y * y),
                                                     H[0, 0] * x + H[0, 1] * y, H[0, 1] * x + H[1, 1] * y),
                         window=((-2, 2), (-2, 2)), minima=[(0, 0)], start=(-1.8, 1.2),
                         description="Ill-conditioned bowl: why momentum helps in narrow valleys.")

    @property
    def eigenvalues(self):
        return np.array([1.0, self.condition])

    def values(self, X, Y):
        H = self.hessian
        return 0.5 * (H[0, 0] * X * X + 2 * H[0, 1] * X * Y + H[1, 1] * Y * Y)


class Formula(Surface):
    """A user formula f(x, y) from the safe grammar, with its symbolic gradient."""

    def __init__(self, text):
        tree = formula.parse_tree(text)
        self.text = text
        f = formula.compile_tree(tree)
        fx = formula.compile_tree(formula.derivative(tree, "x"))
        fy = formula.compile_tree(formula.derivative(tree, "y"))
        self.gradient_source = (fx.source, fy.source)
        super().__init__("formula", lambda x, y: (f(x, y), fx(x, y), fy(x, y)), window=((-3, 3), (-3, 3)),
                         start=(-2.0, 2.0), description=f"f(x, y) = {text}")
        self._f = f
        self._check_finite(fx, fy)

    def _check_finite(self, fx, fy, resolution=41):
        """A ValueError naming the first point of the window (or the start) where f or its gradient is
        not a finite number: racers could not move there, and the colour scale would be meaningless."""
        (x0, x1), (y0, y1) = self.window
        X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        X = np.concatenate([[self.start[0]], X.ravel()])
        Y = np.concatenate([[self.start[1]], Y.ravel()])
        with np.errstate(all="ignore"):
            parts = [np.broadcast_to(np.asarray(g(X, Y), dtype=np.float64), X.shape) for g in (self._f, fx, fy)]
        for what, values in zip(("f", "its gradient", "its gradient"), parts):
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                i = bad[0]
                raise ValueError(f"{what} is not a finite number near (x, y) = ({X[i]:.3g}, {Y[i]:.3g}) "
                                 "(an overflow, a NaN or an infinity): try a smaller exponent, or keep log and "
                                 "sqrt arguments positive over the window -3..3")

    def values(self, X, Y):
        return np.broadcast_to(np.asarray(self._f(X, Y), dtype=np.float64), X.shape).copy()


_LSQ_X = np.arange(1.0, 6.0)


def _parabola(u):
    return u * u + u + 1, 2 * u + 1


def _least_squares(c):
    return float(np.sum((_LSQ_X - c) ** 2)), float(-2 * np.sum(_LSQ_X - c))


BUILDERS = {
    "quadratic": Quadratic,
    "rosenbrock": lambda: Surface("rosenbrock", _rosenbrock, window=((-2, 2), (-1, 3)), minima=[(1, 1)],
                                  start=(-1.5, 2.0), log_scale=True,
                                  description="(1 - x)^2 + 100 (y - x^2)^2: a curved, flat-bottomed valley."),
    "beale": lambda: Surface("beale", _beale, window=((-4.5, 4.5), (-4.5, 4.5)), minima=[(3, 0.5)],
                             start=(1.0, 1.5), log_scale=True, description="Beale's function."),
    "himmelblau": lambda: Surface("himmelblau", _himmelblau, window=((-5, 5), (-5, 5)),
                                  minima=[(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                          (3.584428, -1.848126)],
                                  start=(0.0, 0.0), log_scale=True, description="Four equal minima."),
    "saddle": lambda: Surface("saddle", _saddle, window=((-2, 2), (-2, 2)), start=(-1.5, 0.01),
                              description="x^2 - y^2: no minimum; how fast does each optimizer escape?"),
    "six_hump_camel": lambda: Surface("six_hump_camel", _camel, window=((-2, 2), (-1, 1)),
                                      minima=[(0.0898, -0.7126), (-0.0898, 0.7126)], start=(-1.5, 0.8),
                                      description="Six-hump camel: several local minima."),
    "rastrigin": lambda: Surface("rastrigin", _rastrigin, window=((-5.12, 5.12), (-5.12, 5.12)),
                                 minima=[(0, 0)], start=(3.2, 2.3),
                                 description="Rastrigin: a bowl covered in local minima."),
    "plateau": lambda: Surface("plateau", _plateau, window=((-4, 3), (-3.5, 3.5)), minima=[(0, 0)],
                               start=(-3.5, 2.5),
                               description="A flat plateau (vanishing gradient) and a cliff at x = 1.5."),
    "parabola": lambda: Surface("parabola", _parabola, dim=1, window=((-25, 25),), minima=[(-0.5,)],
                                start=(20.0,), description="J(u) = u^2 + u + 1, minimum at u = -1/2."),
    "least_squares": lambda: Surface("least_squares", _least_squares, dim=1, window=((-2, 8),),
                                     minima=[(3.0,)], start=(0.0,),
                                     description="J(c) = sum (x_i - c)^2 for x_i = 1..5: minimum at the mean, 3."),
}


def names():
    return list(BUILDERS)


def get(name, **settings):
    """A surface by name (quadratic takes condition= and angle=)."""
    if name not in BUILDERS:
        raise ValueError(f"unknown surface {short(name)!r}; choose one of {names()} or use parse()")
    return BUILDERS[name](**settings)


def parse(text):
    """A Surface from a formula in x and y (see lab.formula for the grammar); ValueError when invalid."""
    return Formula(text)


def run(surface, optimizer, start=None, steps=200):
    """(steps+1, dim) iterates of ``optimizer`` from ``start``; stops early (NaN rows) if it diverges."""
    x = np.array(surface.start if start is None else start, dtype=np.float64)
    if x.shape != (surface.dim,):
        raise ValueError(f"start must have length {surface.dim}, got {x.shape}")
    path = np.full((int(steps) + 1, surface.dim), np.nan)
    path[0] = x
    state = optimizer.init(x)
    for i in range(1, int(steps) + 1):
        x, state = optimizer.step(x, surface.grad(x), state)
        if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e12:
            break
        path[i] = x
    return path
