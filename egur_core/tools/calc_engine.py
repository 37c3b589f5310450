"""The calculator's engine: exact arithmetic and light symbolic math with sympy, safely.

Never hands raw text to ``sympify``/``eval`` (both execute Python): each line is parsed with
:mod:`ast`, only whitelisted node types, names and functions are accepted, and sizes are capped
before they are computed, so inputs like ``9**9**9`` or ``factorial(10**9)`` are refused at once.
What no cap can foresee (``diff(sin(x), x, 10**9)``, a huge ``expand``) is why the tool runs this
module in the sandbox, out of the host process (``calculator.py``): it is shipped there as text, so
it imports nothing but the standard library and sympy.
"""

from __future__ import annotations

import ast
import math
import re

import sympy

MAX_LINE_CHARS = 2_000
MAX_LINES = 100
MAX_DIGITS = 10_000  # largest integer (in decimal digits) an operation may produce
MAX_SYMBOLIC_POWER = 100
# Largest integer argument per function, so no single call can run for minutes.
_ARG_LIMITS = {"factorial": 3_000, "binomial": 10**5, "prime": 10**6, "nextprime": 10**30,
               "factorint": 10**30, "divisors": 10**18, "totient": 10**30, "isprime": 10**300}

_CONSTANTS = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E, "I": sympy.I, "oo": sympy.oo}
_FUNCTIONS = {
    name: getattr(sympy, name)
    for name in ("sqrt", "cbrt", "root", "factorial", "binomial", "gcd", "lcm", "floor", "ceiling", "Abs",
                 "log", "exp", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
                 "Rational", "Min", "Max", "isprime", "prime", "nextprime", "factorint", "divisors",
                 "totient", "mod_inverse", "expand", "factor", "simplify", "diff", "integrate", "limit",
                 "re", "im", "conjugate")
}
_FUNCTIONS |= {"abs": sympy.Abs, "ln": sympy.log, "min": sympy.Min, "max": sympy.Max, "round": None}
_SYMBOL_NAME = re.compile(r"^[a-zA-Z]$")
_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: sympy.floor(a / b),
           ast.Mod: lambda a, b: sympy.Mod(a, b)}
_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)


class CalcError(ValueError):
    """A refused or failed expression; the message is shown to the model as is."""


def _log10(n: int) -> float:
    return math.log10(n) if n > 0 else 0.0


def _size(base: sympy.Expr) -> float:
    """Decimal digits of ``base`` (or of 1/base): how fast its powers grow."""
    if base.is_Rational:
        return max(_log10(abs(base.p)), _log10(base.q))
    magnitude = sympy.N(sympy.Abs(base), 15)
    if not magnitude.is_Number or magnitude == 0:
        return 0.0
    return abs(float(sympy.log(magnitude) / math.log(10)))


def _as_sympy(value: object) -> sympy.Basic:
    """Number-theory functions answer in plain Python (``prime(10)`` is the int 29, ``factorint`` a dict,
    ``divisors`` a list, ``isprime`` a bool): make every result a sympy object."""
    if isinstance(value, bool):
        return sympy.true if value else sympy.false
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, dict):
        return sympy.Dict({_as_sympy(k): _as_sympy(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return sympy.Tuple(*(_as_sympy(v) for v in value))
    return value  # type: ignore[return-value]


def _checked(value: object) -> sympy.Expr:
    value = _as_sympy(value)
    if value.is_Rational and _size(value) > MAX_DIGITS:
        raise CalcError(f"result too large (more than {MAX_DIGITS} digits)")
    return value


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """Refuse powers whose result would be huge before computing them (9**9**9 would hang)."""
    if exponent.is_Number:
        power = abs(float(exponent))
        if base.is_number and not base.is_Float and power * _size(base) > MAX_DIGITS:
            raise CalcError(f"power too large (the result would exceed {MAX_DIGITS} digits)")
        if not base.is_number and power > MAX_SYMBOLIC_POWER:
            raise CalcError(f"symbolic power too large (exponent above {MAX_SYMBOLIC_POWER})")
    return _checked(sympy.Pow(base, exponent))


def _call(name: str, args: list[sympy.Expr]) -> sympy.Expr:
    limit = _ARG_LIMITS.get(name)
    for arg in args:
        if limit is not None and arg.is_Integer and abs(arg) > limit:
            raise CalcError(f"{name} argument above {limit} is not allowed")
    if name == "round":
        if len(args) != 1 or not args[0].is_number:
            raise CalcError("round takes one number")
        return sympy.Integer(round(args[0])) if args[0].is_Rational else sympy.Integer(round(float(args[0])))
    return _checked(_FUNCTIONS[name](*args))


def _literal(node: ast.Constant, line: str) -> sympy.Expr:
    """Numbers stay exact: '0.1' is 1/10, so 0.1 + 0.2 is exactly 3/10."""
    if isinstance(node.value, bool) or not isinstance(node.value, int | float):
        raise CalcError(f"only numbers are allowed, not {node.value!r}")
    if isinstance(node.value, int):
        if node.value.bit_length() > MAX_DIGITS * 3.33:
            raise CalcError(f"number literal longer than {MAX_DIGITS} digits")
        return sympy.Integer(node.value)
    text = (ast.get_source_segment(line, node) or repr(node.value)).replace("_", "")
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa) > MAX_DIGITS or (exponent and abs(int(exponent)) > MAX_DIGITS):
        raise CalcError(f"number literal beyond {MAX_DIGITS} digits")
    return _checked(sympy.Rational(text))


def _eval(node: ast.AST, line: str) -> sympy.Expr:
    match node:
        case ast.Expression(body=body):
            return _eval(body, line)
        case ast.Constant():
            return _literal(node, line)
        case ast.Name(id=name) if name in _CONSTANTS:
            return _CONSTANTS[name]
        case ast.Name(id=name) if _SYMBOL_NAME.match(name):
            return sympy.Symbol(name)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_eval(operand, line)
        case ast.UnaryOp(op=ast.UAdd(), operand=operand):
            return _eval(operand, line)
        case ast.BinOp(op=ast.Pow(), left=left, right=right):
            return _power(_eval(left, line), _eval(right, line))
        case ast.BinOp(op=op, left=left, right=right) if type(op) in _BINOPS:
            a, b = _eval(left, line), _eval(right, line)
            if isinstance(op, _DIVISIONS) and b.is_zero:
                raise CalcError("division by zero")
            return _checked(_BINOPS[type(op)](a, b))
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in _FUNCTIONS:
            if any(isinstance(a, ast.Starred) for a in args):
                raise CalcError("*args are not allowed")
            return _call(name, [_eval(a, line) for a in args])
        case ast.Call(func=ast.Name(id=name)):
            raise CalcError(f"function {name!r} is not allowed")
        case ast.Name(id=name):
            raise CalcError(f"name {name!r} is not allowed (use single-letter symbols, pi, E, I)")
    raise CalcError(f"{type(node).__name__} is not allowed in the calculator")


def evaluate(line: str) -> sympy.Expr:
    """Parse one expression with the whitelist and evaluate it; raises CalcError when refused."""
    line = line.strip().rstrip("=").strip().replace("^", "**")  # math '^' is power, right-associative
    if len(line) > MAX_LINE_CHARS:
        raise CalcError(f"expression longer than {MAX_LINE_CHARS} characters")
    try:
        tree = ast.parse(line, mode="eval")
    except SyntaxError as exc:
        raise CalcError(f"not a valid expression: {exc.msg}") from None
    try:
        return _eval(tree, line)
    except (ZeroDivisionError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise CalcError(str(exc) or type(exc).__name__) from None


def format_value(value: sympy.Expr) -> str:
    """Exact form, plus a 15-digit decimal when the value is a number but not an integer."""
    if isinstance(value, sympy.Tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    exact = str(value)
    if value.is_Integer or value.is_Float or value.free_symbols or not value.is_number:
        return exact
    try:
        approx = sympy.N(value, 15)
    except (TypeError, ValueError):
        return exact
    text = str(approx)
    if approx.is_Float and "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")  # 0.500000000000000 -> 0.5
    return exact if text == exact else f"{exact} ≈ {text}"


def calculate(text: str) -> tuple[list[str], list[str]]:
    """Evaluate each non-empty line; return (result lines, error messages with line numbers)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(("```", "#"))]
    if len(lines) > MAX_LINES:
        return [], [f"too many lines ({len(lines)}); at most {MAX_LINES}"]
    results, errors = [], []
    for number, line in enumerate(lines, 1):
        try:
            results.append(format_value(evaluate(line)))
        except CalcError as exc:
            results.append(f"error: {exc}")
            errors.append(f"line {number}: {exc}")
    return results, errors
