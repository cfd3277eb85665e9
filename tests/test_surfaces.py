"""Every surface's gradient against finite differences; the formula grammar's whitelist and limits."""

import numpy as np
import pytest

from lab import optimizers, surfaces


@pytest.mark.parametrize("name", surfaces.names())
def test_gradient_matches_finite_differences(name):
    f = surfaces.get(name)
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = np.array([rng.uniform(lo, hi) for lo, hi in f.window])
        h = 1e-6
        numeric = np.array([(f.value(p + h * e) - f.value(p - h * e)) / (2 * h) for e in np.eye(f.dim)])
        np.testing.assert_allclose(f.grad(p), numeric, rtol=1e-6, atol=1e-5)
    if f.minimum is not None:
        assert np.linalg.norm(f.grad(f.minimum)) < 1e-3


def test_one_dimensional_lessons_reproduce_the_seeds():
    path = surfaces.run(surfaces.get("parabola"), optimizers.get("sgd", learning_rate=0.3), (20.0,), 50)
    assert path[1, 0] == pytest.approx(20 - 0.3 * 41)
    assert path[-1, 0] == pytest.approx(-0.5, abs=1e-6)
    path = surfaces.run(surfaces.get("least_squares"), optimizers.get("sgd", learning_rate=0.05), (0.0,), 100)
    assert path[1, 0] == pytest.approx(0.05 * 30)
    assert path[-1, 0] == pytest.approx(3.0, abs=1e-6)


@pytest.mark.parametrize("text", ["(1 - x)**2 + 100*(y - x**2)**2", "sin(x)*cos(y) + exp(-x**2)",
                                  "sqrt(x**2 + y**2 + 1) + log(1 + x**2) + tanh(y) + abs(x - y)",
                                  "(1 + x**2)**y + tan(x/3) - -y", "2.5e-1 * x / (1 + y**2)"])
def test_parsed_formula_has_exact_gradient(text):
    f = surfaces.parse(text)
    p = np.array([0.7, 1.3])
    h = 1e-6
    numeric = np.array([(f.value(p + h * e) - f.value(p - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(f.grad(p), numeric, rtol=1e-6, atol=1e-8)
    xs, ys, v = f.grid(20)
    assert v.shape == (20, 20) and np.isfinite(v).any()


def test_parsed_rosenbrock_equals_builtin():
    parsed, builtin = surfaces.parse("(1 - x)**2 + 100*(y - x**2)**2"), surfaces.get("rosenbrock")
    for p in ([0.3, 0.2], [-1.5, 2.0]):
        assert parsed.value(p) == pytest.approx(builtin.value(p))
        np.testing.assert_allclose(parsed.grad(p), builtin.grad(p))


@pytest.mark.parametrize("text,message", [
    ("__import__('os')", "function not allowed at column 1 .'__import__'"),
    ("x.__class__", "Attribute is not allowed"),
    ("x + z", "unknown name 'z' at column 5"),
    ("lambda: 1", "Lambda is not allowed"),
    ("[x for x in (1, 2)]", "ListComp is not allowed"),
    ("{x: 1}", "Dict is not allowed"),
    ("'abc'", "only numbers"),
    ("x if y else 1", "IfExp"),
    ("sin(x, y)", "exactly one argument"),
    ("x @ y", "operator not allowed"),
    ("x // 2", "operator not allowed"),
    ("x" + "+x" * 200, "too long"),
    ("sin(" * 50 + "x" + ")" * 50, "nested too deeply"),
    ("sin(x", "syntax error"),
    ("", "enter a formula"),
])
def test_formula_rejects_outside_grammar(text, message):
    with pytest.raises(ValueError, match=message):
        surfaces.parse(text)


def test_constant_blowups_do_not_hang():
    with pytest.raises(ValueError, match="not a finite number"):  # refused at once, not computed
        surfaces.parse("9**9**9 + x")


@pytest.mark.parametrize("text", ["x**99999999", "exp(exp(exp(x*y)))", "log(x)", "sqrt(x - 5)", "1/(x - x)"])
def test_formulas_that_are_not_finite_over_the_window_are_refused(text):
    with pytest.raises(ValueError, match="not a finite number near"):
        surfaces.parse(text)
