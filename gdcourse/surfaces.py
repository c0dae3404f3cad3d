r"""Two-dimensional test surfaces, each with its value, gradient and known critical points.

A :class:`Surface` evaluates on one point, shape ``(2,)``, or on a whole grid,
shape ``(..., 2)``, so the same object feeds an optimiser and a contour plot.

========================  ==========================================================
``quadratic(H, center)``  f(θ) = ½ (θ − c)ᵀ H (θ − c); one minimum at c (H positive definite)
``ill_conditioned()``     f = 0.1·θ₁² + 2·θ₂²: curvatures 0.2 and 4, condition number 20
``rosenbrock()``          f = (a − θ₁)² + b(θ₂ − θ₁²)²: a curved, flat-bottomed valley; minimum (a, a²)
``non_convex()``          f = (θ₁² − 1)² + s·θ₁ + θ₂²: a global minimum, a shallower local
                          minimum and a saddle between them
========================  ==========================================================
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_positive, check_matrix, check_vector

__all__ = ["Surface", "quadratic", "ill_conditioned", "rosenbrock", "non_convex", "mse_surface",
           "SURFACES", "get_surface"]


class Surface:
    """A smooth function of two variables with its gradient and critical points.

    Attributes
    ----------
    name : str
    minimisers : ndarray, shape (k, 2)
        Every local minimiser, the global one first.
    saddles : ndarray, shape (s, 2)
        Saddle points (may be empty).
    xlim, ylim : tuple
        A plotting window that shows the interesting part.
    start : ndarray, shape (2,)
        A start point used in the lessons; any other may be passed.
    fast_value, fast_grad : callable
        f and ∇f on points of shape (..., 2) without argument checks: the
        fast paths the panels and loops call after checking once.
    """

    def __init__(self, name, value, grad, hessian, minimisers, saddles=(), *, xlim, ylim, start,
                 formula=""):
        self.name = name
        # the unchecked kernels (points of shape (..., 2) in, no checks), named like Loss.fast_value;
        # _value and _grad are their older names, kept for code that uses them
        self.fast_value = self._value = value
        self.fast_grad = self._grad = grad
        self._hessian = hessian
        self.minimisers = np.atleast_2d(np.asarray(minimisers, dtype=float))
        self.saddles = np.asarray(saddles, dtype=float).reshape(-1, 2)
        self.xlim = tuple(float(v) for v in xlim)
        self.ylim = tuple(float(v) for v in ylim)
        self.start = np.asarray(start, dtype=float)
        self.formula = formula

    @property
    def minimiser(self) -> np.ndarray:
        """The global minimiser, shape (2,)."""
        return self.minimisers[0].copy()

    @property
    def minimum(self) -> float:
        """The value at the global minimiser."""
        return float(self._value(self.minimisers[0]))

    def _points(self, theta, name="theta"):
        arr = np.asarray(theta, dtype=float)
        if arr.ndim == 0 or arr.shape[-1] != 2:
            raise ValueError(
                f"{name} must have shape (2,) for one point or (..., 2) for a grid of points on "
                f"the surface {self.name!r}, but got shape {arr.shape}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must contain only finite numbers, but got {arr.tolist() if arr.size < 7 else 'NaN or inf entries'}.")
        return arr

    def value(self, theta):
        """f(θ); a float for one point, an array of shape (...) for a grid (..., 2)."""
        arr = self._points(theta)
        out = self._value(arr)
        return float(out) if arr.ndim == 1 else out

    def grad(self, theta) -> np.ndarray:
        """∇f(θ), the same shape as θ."""
        return self._grad(self._points(theta))

    def hessian(self, theta) -> np.ndarray:
        """The 2×2 Hessian at one point."""
        arr = self._points(theta)
        if arr.ndim != 1:
            raise ValueError(f"theta must be one point of shape (2,) for the Hessian, but got shape {arr.shape}.")
        return self._hessian(arr)

    def grid(self, num: int = 120, xlim=None, ylim=None):
        """Mesh ``(T1, T2, F)`` over the plotting window, for contour and surface plots."""
        xlim = self.xlim if xlim is None else xlim
        ylim = self.ylim if ylim is None else ylim
        t1 = np.linspace(*xlim, num)
        t2 = np.linspace(*ylim, num)
        T1, T2 = np.meshgrid(t1, t2)
        F = self._value(np.stack([T1, T2], axis=-1))
        return T1, T2, F

    def __repr__(self):
        return f"Surface({self.name!r}: {self.formula})"

    # the surfaces are called in tight optimiser loops: make them usable as loss_fn/grad_fn
    def __call__(self, theta):
        return self.value(theta)


def quadratic(H, center=(0.0, 0.0), *, name="quadratic") -> Surface:
    """f(θ) = ½ (θ − c)ᵀ H (θ − c) with a given symmetric positive-definite Hessian H.

    The minimiser is c; gradient descent is stable for 0 < α < 2/λ_max(H).
    """
    H = check_matrix(H, "H", n_cols=2)
    if H.shape != (2, 2):
        raise ValueError(f"H must be a 2x2 matrix, but got shape {H.shape}.")
    if not np.allclose(H, H.T):
        raise ValueError(f"H must be symmetric, but got {H.tolist()}. Fix: use (H + H.T) / 2.")
    eig = np.linalg.eigvalsh(H)
    if eig[0] <= 0:
        raise ValueError(
            f"H must be positive definite (all eigenvalues > 0) for the quadratic to have a "
            f"minimum, but its eigenvalues are {eig.tolist()}."
        )
    c = check_vector(center, "center", length=2)
    H = H.copy()

    def value(t):
        d = t - c
        return 0.5 * np.einsum("...i,ij,...j->...", d, H, d)

    (h00, h01), (h10, h11) = H.tolist()
    c0, c1 = c.tolist()

    def grad(t):
        if t.ndim == 1:  # one point: Python floats beat numpy's per-call cost on 2 numbers
            d0, d1 = t[0] - c0, t[1] - c1
            return np.array([h00 * d0 + h01 * d1, h10 * d0 + h11 * d1])
        return (t - c) @ H  # H is symmetric

    radius = 3.0 / np.sqrt(eig[0]) ** 0.5 + 2.0
    return Surface(
        name, value, grad, lambda t: H.copy(), [c],
        xlim=(c[0] - radius, c[0] + radius), ylim=(c[1] - radius, c[1] + radius),
        start=c + np.array([-0.8 * radius, 0.6 * radius]),
        formula=f"½(θ−c)ᵀH(θ−c), H={H.tolist()}, c={c.tolist()}",
    )


def ill_conditioned(a: float = 0.1, b: float = 2.0) -> Surface:
    """f(θ) = a·θ₁² + b·θ₂² (defaults 0.1 and 2): curvatures 2a and 2b, condition number b/a.

    The running example of lessons 3 and 6: a step size safe for the steep θ₂
    direction crawls along the shallow θ₁ direction.
    """
    a = check_positive(a, "a")
    b = check_positive(b, "b")
    s = quadratic(np.diag([2 * a, 2 * b]), name="ill_conditioned")
    s.formula = f"{a:g}·θ₁² + {b:g}·θ₂²"
    s.xlim, s.ylim = (-5.5, 5.5), (-2.5, 2.5)
    s.start = np.array([-5.0, -2.0])
    return s


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """f(θ) = (a − θ₁)² + b·(θ₂ − θ₁²)²; minimiser (a, a²) in a narrow curved valley."""
    a = float(check_array(a, "a", ndim=0))
    b = check_positive(b, "b")

    def value(t):
        x, y = t[..., 0], t[..., 1]
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(t):
        # written into a preallocated array: np.stack of two scalars costs ~8x more per call,
        # and optimiser paths on a slider call this hundreds of times per redraw
        if t.ndim == 1:  # one point, the optimiser's case: plain floats are ~5x cheaper
            x, y = t.tolist()
            inner = y - x * x
            return np.array([-2.0 * (a - x) - 4.0 * b * x * inner, 2.0 * b * inner])
        x, y = t[..., 0], t[..., 1]
        inner = y - x * x
        out = np.empty(t.shape)
        out[..., 0] = -2.0 * (a - x) - 4.0 * b * x * inner
        out[..., 1] = 2.0 * b * inner
        return out

    def hessian(t):
        x, y = t
        return np.array([[2.0 - 4.0 * b * (y - 3.0 * x * x), -4.0 * b * x],
                         [-4.0 * b * x, 2.0 * b]])

    return Surface("rosenbrock", value, grad, hessian, [[a, a * a]],
                   xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), start=np.array([-1.5, 2.0]),
                   formula=f"({a:g} − θ₁)² + {b:g}(θ₂ − θ₁²)²")


def non_convex(tilt: float = 0.5) -> Surface:
    """f(θ) = (θ₁² − 1)² + tilt·θ₁ + θ₂²: two valleys and a saddle between them.

    With tilt > 0 the left valley is the global minimum and the right one a
    shallower local minimum; plain gradient descent started on the right stays
    there, which is what lessons 3, 4 and 6 show.  The critical points are the
    real roots of 4θ₁³ − 4θ₁ + tilt = 0 on the line θ₂ = 0.
    """
    tilt = float(check_array(tilt, "tilt", ndim=0))
    roots = np.roots([4.0, 0.0, -4.0, tilt])
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    if len(real) != 3:
        raise ValueError(
            f"tilt must be small enough (|tilt| < 1.5) for the surface to have two minima, but got {tilt}."
        )

    def value(t):
        x, y = t[..., 0], t[..., 1]
        return (x * x - 1.0) ** 2 + tilt * x + y * y

    def grad(t):
        if t.ndim == 1:
            x, y = t.tolist()
            return np.array([4.0 * x * (x * x - 1.0) + tilt, 2.0 * y])
        x = t[..., 0]
        out = np.empty(t.shape)
        out[..., 0] = 4.0 * x * (x * x - 1.0) + tilt
        out[..., 1] = 2.0 * t[..., 1]
        return out

    def hessian(t):
        x = t[0]
        return np.array([[12.0 * x * x - 4.0, 0.0], [0.0, 2.0]])

    left, middle, right = real
    minima = [[left, 0.0], [right, 0.0]]
    if value(np.array(minima[1])) < value(np.array(minima[0])):
        minima.reverse()
    return Surface("non_convex", value, grad, hessian, minima, [[middle, 0.0]],
                   xlim=(-1.8, 1.8), ylim=(-1.2, 1.2), start=np.array([1.5, 1.0]),
                   formula=f"(θ₁² − 1)² + {tilt:g}·θ₁ + θ₂²")


def mse_surface(X, y) -> Surface:
    """The cost J(θ) = 1/(2m)·‖Xθ − y‖² of a two-parameter linear model, as a surface.

    ``X`` must have two columns (bias and one feature).  J is a quadratic with
    Hessian XᵀX/m and minimiser the least-squares θ*; its value is vectorised
    over grids of θ, so the same object feeds the contour plot and the descent.
    """
    from ._validation import check_X_y

    X, y = check_X_y(X, y)
    if X.shape[1] != 2:
        raise ValueError(
            f"X must have exactly 2 columns (bias and one feature) for a 2-D cost surface, "
            f"but got shape {X.shape}."
        )
    m = X.shape[0]
    H = X.T @ X / m
    if np.linalg.matrix_rank(H) < 2:
        raise ValueError("X must have two independent columns; its columns are collinear, so J has no unique minimum.")
    theta_star = np.linalg.solve(X.T @ X, X.T @ y)
    # J(θ) = ½(θ − θ*)ᵀH(θ − θ*) + J(θ*): evaluating it this way is exact and cheap on grids
    r = X @ theta_star - y
    j_star = float(r @ r) / (2 * m)
    X = X.copy(); y = y.copy()

    def value(t):
        d = t - theta_star
        return 0.5 * np.einsum("...i,ij,...j->...", d, H, d) + j_star

    def grad(t):
        return (t - theta_star) @ H

    eig = np.linalg.eigvalsh(H)
    s = Surface("mse", value, grad, lambda t: H.copy(), [theta_star],
                xlim=(theta_star[0] - 3.2, theta_star[0] + 3.2),
                ylim=(theta_star[1] - 1.1, theta_star[1] + 1.1),
                start=np.zeros(2),
                formula="1/(2m)·Σ(θ0 + θ1·x_i − y_i)²")
    s.X, s.y, s.eigenvalues = X, y, eig
    return s


SURFACES = {
    "ill_conditioned": ill_conditioned,
    "rosenbrock": rosenbrock,
    "non_convex": non_convex,
    "bowl": lambda: quadratic(np.diag([2.0, 4.0]), name="bowl"),
}


def get_surface(name) -> Surface:
    """A surface by name, or a :class:`Surface` passed through."""
    if isinstance(name, Surface):
        return name
    if name not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)} or a Surface, but got {name!r}.")
    return SURFACES[name]()
