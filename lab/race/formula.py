"""A small, safe grammar for f(x, y): parsed with ``ast``, checked against a whitelist, differentiated
symbolically, and compiled from the checked tree (never from the user's text).

Grammar: numbers, x, y, + - * / **, unary -, parentheses, and the functions
sin cos tan exp log sqrt tanh abs.
"""

import ast
import math

import numpy as np

FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs")
VARIABLES = ("x", "y")
MAX_LENGTH = 300
MAX_DEPTH = 40
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _where(text, node):
    col = getattr(node, "col_offset", 0)
    token = ast.get_source_segment(text, node) or text[col:col + 10]
    return f"at column {col + 1} ('{token}')"


def _check(text, node, depth=0):
    """Raises ValueError naming the offending token for anything outside the grammar."""
    if depth > MAX_DEPTH:
        raise ValueError(f"formula is nested too deeply (more than {MAX_DEPTH} levels)")
    if isinstance(node, ast.Expression):
        return _check(text, node.body, depth + 1)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"only numbers are allowed as constants, {_where(text, node)}")
        return
    if isinstance(node, ast.Name):
        if node.id not in VARIABLES:
            raise ValueError(f"unknown name '{node.id}' {_where(text, node)}; use x and y "
                             f"and the functions {', '.join(FUNCTIONS)}")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ValueError(f"operator not allowed {_where(text, node)}; use + - * / **")
        _check(text, node.left, depth + 1)
        _check(text, node.right, depth + 1)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise ValueError(f"operator not allowed {_where(text, node)}")
        return _check(text, node.operand, depth + 1)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ValueError(f"function not allowed {_where(text, node.func)}; allowed: "
                             f"{', '.join(FUNCTIONS)}")
        if len(node.args) != 1 or node.keywords:
            raise ValueError(f"{node.func.id}() takes exactly one argument, {_where(text, node)}")
        return _check(text, node.args[0], depth + 1)
    kind = type(node).__name__
    raise ValueError(f"{kind} is not allowed {_where(text, node)}; only arithmetic on x and y")


def parse_tree(text):
    """The validated expression tree of ``text`` (an ast.expr), or a ValueError."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("enter a formula in x and y, e.g. x**2 + 10*y**2")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is too long ({len(text)} characters, at most {MAX_LENGTH})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"syntax error at column {err.offset}: {err.msg}") from None
    text = text.strip()
    _check(text, tree)
    return tree.body


# ----- symbolic differentiation over the checked tree ---------------------------------------------
def _num(v):
    return ast.Constant(value=float(v))


def _is_num(node, value=None):
    return isinstance(node, ast.Constant) and (value is None or node.value == value)


def _bin(op, a, b):
    """Builds a op b with light constant folding (keeps derivative trees small)."""
    if _is_num(a) and _is_num(b) and op != "**":
        return _num({"+": a.value + b.value, "-": a.value - b.value, "*": a.value * b.value,
                     "/": a.value / b.value if b.value else math.nan}[op])
    if op == "+":
        if _is_num(a, 0):
            return b
        if _is_num(b, 0):
            return a
    if op == "-" and _is_num(b, 0):
        return a
    if op == "*":
        if _is_num(a, 0) or _is_num(b, 0):
            return _num(0)
        if _is_num(a, 1):
            return b
        if _is_num(b, 1):
            return a
    if op == "/" and _is_num(b, 1):
        return a
    if op == "**" and _is_num(b, 1):
        return a
    ops = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult(), "/": ast.Div(), "**": ast.Pow()}
    return ast.BinOp(left=a, op=ops[op], right=b)


def _call(name, arg):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[arg], keywords=[])


def _neg(a):
    return _num(-a.value) if _is_num(a) else ast.UnaryOp(op=ast.USub(), operand=a)


def derivative(node, var):
    """d node / d var as a new tree."""
    if isinstance(node, ast.Constant):
        return _num(0)
    if isinstance(node, ast.Name):
        return _num(1 if node.id == var else 0)
    if isinstance(node, ast.UnaryOp):
        d = derivative(node.operand, var)
        return _neg(d) if isinstance(node.op, ast.USub) else d
    if isinstance(node, ast.BinOp):
        a, b = node.left, node.right
        da, db = derivative(a, var), derivative(b, var)
        op = _BINOPS[type(node.op)]
        if op in "+-":
            return _bin(op, da, db)
        if op == "*":
            return _bin("+", _bin("*", da, b), _bin("*", a, db))
        if op == "/":
            return _bin("/", _bin("-", _bin("*", da, b), _bin("*", a, db)), _bin("**", b, _num(2)))
        # power: constant exponent keeps the simple rule; otherwise d(a^b) = a^b (b' log a + b a'/a)
        if _is_num(db, 0):
            return _bin("*", _bin("*", b, _bin("**", a, _bin("-", b, _num(1)))), da)
        return _bin("*", node, _bin("+", _bin("*", db, _call("log", a)), _bin("/", _bin("*", b, da), a)))
    if isinstance(node, ast.Call):
        u = node.args[0]
        du = derivative(u, var)
        name = node.func.id
        outer = {
            "sin": lambda: _call("cos", u),
            "cos": lambda: _neg(_call("sin", u)),
            "tan": lambda: _bin("/", _num(1), _bin("**", _call("cos", u), _num(2))),
            "exp": lambda: _call("exp", u),
            "log": lambda: _bin("/", _num(1), u),
            "sqrt": lambda: _bin("/", _num(0.5), _call("sqrt", u)),
            "tanh": lambda: _bin("-", _num(1), _bin("**", _call("tanh", u), _num(2))),
            "abs": lambda: _call("sign", u),
        }[name]()
        return _bin("*", outer, du)
    raise ValueError(f"cannot differentiate {type(node).__name__}")


_NAMESPACE = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
              "sqrt": np.sqrt, "tanh": np.tanh, "abs": np.abs, "sign": np.sign}


class _FloatConstants(ast.NodeTransformer):
    """Integer constants become floats, so 9**9**9 overflows at once instead of growing a huge int."""

    def visit_Constant(self, node):
        return ast.Constant(value=float(node.value))


def compile_tree(node):
    """A function f(x, y) over floats or NumPy arrays, compiled from a checked (or derived) tree."""
    expr = ast.Expression(body=_FloatConstants().visit(node))
    ast.fix_missing_locations(expr)
    code = compile(expr, "<formula>", "eval")
    namespace = {"__builtins__": {}, **_NAMESPACE}

    def f(x, y):
        with np.errstate(all="ignore"):
            try:
                return eval(code, namespace, {"x": np.float64(x) if np.ndim(x) == 0 else x,
                                              "y": np.float64(y) if np.ndim(y) == 0 else y})
            except (OverflowError, ZeroDivisionError):
                return np.nan

    f.source = ast.unparse(node)
    return f
