"""sympy expressions compiled to torch: the translation shared by the symbolic systems and the symbolic models.

``sympy`` is imported inside the functions, so ``import physwm`` stays light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import real

# sympy function name -> torch function. Everything lambdify may print for these expressions.
_TORCH_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin, "acos": torch.acos,
    "atan": torch.atan, "atan2": torch.atan2, "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh,
    "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "Abs": torch.abs, "sign": torch.sign, "sec": lambda x: 1 / torch.cos(x),
    "csc": lambda x: 1 / torch.sin(x), "cot": lambda x: 1 / torch.tan(x),
}
_TORCH_NAMESPACE: dict[str, Any] = {**_TORCH_FUNCTIONS, "pi": math.pi, "E": math.e}


def _symbols(name: str, syms: Any) -> list:
    import sympy as sp

    if isinstance(syms, sp.Symbol):
        syms = [syms]
    if isinstance(syms, (str, bytes)) or not isinstance(syms, Sequence) or not syms:
        raise ArgumentTypeError(f"`{name}` must be a sympy Symbol or a non-empty sequence of Symbols, got {syms!r}")
    bad = [s for s in syms if not isinstance(s, sp.Symbol)]
    if bad:
        raise ArgumentTypeError(f"`{name}` must hold sympy Symbols, got {bad!r}")
    return list(syms)


def _symbol_pair(names: tuple[str, str], a: Any, b: Any) -> tuple[list, list]:
    """Coordinates and their conjugates (momenta or velocities): Symbols, as many of each."""
    sa, sb = _symbols(names[0], a), _symbols(names[1], b)
    if len(sa) != len(sb):
        raise ArgumentValueError(f"`{names[0]}` and `{names[1]}` must have the same number of symbols, got {len(sa)} and {len(sb)}")
    return sa, sb


def _prepare(expr: Any, what: str, coords: list, params: Mapping | None, free_params: Sequence = (),
             params_name: str = "params"):
    """Sympify, substitute the values in ``params`` (the argument ``params_name``), and check that only the
    coordinates (and the symbols ``free_params``, which stay free) remain."""
    import sympy as sp

    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError) as err:
        raise ArgumentTypeError(f"`{what}` must be a sympy expression, got {type(expr).__name__}") from err
    subs = {}
    for k, v in (params or {}).items():
        sym = sp.Symbol(k) if isinstance(k, str) else k
        if not isinstance(sym, sp.Symbol):
            raise ArgumentTypeError(f"`{params_name}` keys must be sympy Symbols or names, got {k!r}")
        subs[sym] = real(f"{params_name}[{sym}]", v)
    if len(set(coords)) != len(coords):
        raise ArgumentValueError(f"the coordinate symbols must be distinct, got {coords}")
    clash = set(subs) & set(coords)
    if clash:
        raise ArgumentValueError(f"`{params_name}` must not set the coordinates {sorted(map(str, clash))}")
    expr = expr.subs(subs)
    free = expr.free_symbols - set(coords) - set(free_params)
    if free:
        where = f"`{params_name}`" + (" (or learnable parameters)" if free_params else "")
        raise ArgumentValueError(f"`{what}` has symbols {sorted(map(str, free))} that are neither coordinates nor in {where}; "
                                 f"give them values in `{params_name}`")
    unknown = {type(f).__name__ for f in expr.atoms(sp.Function)} - set(_TORCH_FUNCTIONS)
    if unknown:
        raise ArgumentValueError(f"`{what}` uses functions without a torch translation: {sorted(unknown)}; supported: "
                                 f"{sorted(_TORCH_FUNCTIONS)}")
    return expr


def _euler_lagrange_terms(expr: Any, qs: list, vs: list) -> tuple[list, list, list, Any]:
    """``∂L/∂q̇`` (momenta), the mass matrix ``∂²L/∂q̇²`` (row-major), the right-hand side
    ``∂L/∂q - (∂²L/∂q̇∂q) q̇`` and the Noether energy ``q̇·∂L/∂q̇ - L``, symbolically."""
    import sympy as sp

    n = len(qs)
    dl_dv = [sp.diff(expr, v) for v in vs]
    mass = [sp.diff(dl_dv[i], vs[j]) for i in range(n) for j in range(n)]
    rhs = [sp.diff(expr, qs[i]) - sum(sp.diff(dl_dv[i], qs[j]) * vs[j] for j in range(n)) for i in range(n)]
    energy = sum(v * d for v, d in zip(vs, dl_dv)) - expr
    return dl_dv, mass, rhs, energy


def _compile(coords: list, exprs: list) -> Callable[..., list]:
    import sympy as sp

    return sp.lambdify(coords, exprs, modules=[_TORCH_NAMESPACE])


def _evaluate(fn: Callable[..., list], cols: list[Tensor], like: Tensor) -> list[Tensor]:
    """Call a lambdified list of expressions; constants come back broadcast to the batch."""
    out = fn(*cols)
    batch = like.shape[:-1]
    return [v.to(like).expand(batch) if isinstance(v, Tensor) else torch.full(batch, float(v), dtype=like.dtype,
                                                                              device=like.device) for v in out]


def _columns(x: Tensor) -> list[Tensor]:
    return list(x.unbind(-1))
