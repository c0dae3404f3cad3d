"""Step functions ``step(theta, grad, state) -> (theta, state)``: from a package optimiser
(:func:`optimizer_step`) or from the learner's lesson-6 ``adam_step``, ``momentum_step`` and
``rmsprop_step`` (the ``*_step_fn`` adapters); :func:`learner_steps` finds those in the
learner's notebook, keeping each only if it passes its lesson-6 check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .._validation import check_callable, check_positive
from ..optim import get_optimizer


def optimizer_step(optimizer, **kwargs) -> Callable:
    """A step function ``step(theta, grad, state) -> (theta, state)`` from a package optimiser.

    ``optimizer`` is an :class:`~gdcourse.optim.Optimizer` or a name with its
    hyper-parameters, e.g. ``optimizer_step("adam", lr=1e-3)``.  ``state=None``
    starts from ``optimizer.init(theta)``.  The step is the fast in-place one:
    it overwrites ``theta``.
    """
    opt = get_optimizer(optimizer, **kwargs)

    def step(theta, grad, state):
        if state is None:
            state = opt.init(theta)
        return opt.update_inplace(theta, np.ascontiguousarray(grad, dtype=float), state)

    step.optimizer = opt
    step.__name__ = f"{opt.name}_step"
    return step


def _lr_of(lr, t):
    return float(lr(t)) if callable(lr) else lr


def _check_lr(lr):
    return lr if callable(lr) else check_positive(lr, "lr")


def adam_step_fn(adam_step, lr=1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Callable:
    """Wrap a lesson-6 ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)`` as ``step(theta, grad, state)``.

    The state is ``(m, v, t)``, zeros and 0 at the start.  ``lr`` may be a
    function of the step count t (0-based), as for the learning-rate range test.
    """
    check_callable(adam_step, "adam_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        m, v, t = state if state is not None else (np.zeros_like(theta), np.zeros_like(theta), 0)
        theta, m, v, t = adam_step(theta, grad, m, v, t, _lr_of(lr, t), beta1, beta2, eps)
        return np.asarray(theta, dtype=float), (m, v, t)

    step.__name__ = "adam"
    return step


def momentum_step_fn(momentum_step, lr=1e-2, mu: float = 0.9) -> Callable:
    """Wrap a lesson-6 ``momentum_step(theta, grad, velocity, lr, mu)``; the state is ``(velocity, t)``."""
    check_callable(momentum_step, "momentum_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        velocity, t = state if state is not None else (np.zeros_like(theta), 0)
        theta, velocity = momentum_step(theta, grad, velocity, _lr_of(lr, t), mu)
        return np.asarray(theta, dtype=float), (velocity, t + 1)

    step.__name__ = "momentum"
    return step


def rmsprop_step_fn(rmsprop_step, lr=1e-3, rho: float = 0.99, eps: float = 1e-8) -> Callable:
    """Wrap a lesson-6 ``rmsprop_step(theta, grad, s, lr, rho, eps)``; the state is ``(s, t)``."""
    check_callable(rmsprop_step, "rmsprop_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        s, t = state if state is not None else (np.zeros_like(theta), 0)
        theta, s = rmsprop_step(theta, grad, s, _lr_of(lr, t), rho, eps)
        return np.asarray(theta, dtype=float), (s, t + 1)

    step.__name__ = "rmsprop"
    return step


# --- the learner's own lesson-6 steps ------------------------------------------------

_STEP_NAMES = ("momentum_step", "rmsprop_step", "adam_step")


@dataclass
class LearnerSteps:
    """The lesson-6 step functions to train with: the learner's where they pass their check.

    ``functions[name]`` is the function used; ``origin[name]`` is ``"yours"`` or
    ``"reference"``; ``note`` is one line saying which, and why.
    """

    functions: dict
    origin: dict
    note: str
    notebook: Path | None = None

    def __getattr__(self, name):
        if name in _STEP_NAMES:
            return self.functions[name]
        raise AttributeError(name)

    def _repr_markdown_(self):
        return self.note

    def __repr__(self):
        return self.note


def _default_lesson6_notebook() -> Path | None:
    cwd = Path.cwd()
    for folder in (cwd / "exercises", cwd.parent / "exercises"):
        if (folder / "06_adam.ipynb").is_file():
            return folder / "06_adam.ipynb"
    try:
        from ..course import find_course
        path = find_course(allow_packaged=False) / "exercises" / "06_adam.ipynb"
    except (OSError, ValueError):
        return None
    return path if path.is_file() else None


def learner_steps(notebook=None) -> LearnerSteps:
    """Find the learner's ``momentum_step``, ``rmsprop_step`` and ``adam_step`` from lesson 6.

    Reads the answer cells of ``exercises/06_adam.ipynb`` (by default the one
    next to the current folder or in it, as the course is laid out), runs each
    answer in a fresh namespace and keeps it only if it passes its lesson-6
    check; otherwise the package's reference step is used.  The note says which.
    """
    from ..authoring import answer_id
    from ..exercises import get

    path = Path(notebook) if notebook is not None else _default_lesson6_notebook()
    found, why = {}, {}
    if path is not None and path.is_file():
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            cells = []
        for cell in cells:
            ex_id = answer_id(cell)
            if not ex_id or not ex_id.startswith("lesson06.") or ex_id.split(".")[1] not in _STEP_NAMES:
                continue
            name = ex_id.split(".")[1]
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            namespace = {"np": np, "__name__": "__lesson06__"}
            try:
                exec(compile(source, f"<{path.name}: {ex_id}>", "exec"), namespace)  # the learner's own answer
            except NotImplementedError:
                why[name] = "not done yet"
                continue
            except Exception as exc:
                why[name] = f"its cell raised {type(exc).__name__}"
                continue
            fn = namespace.get(name)
            result = get(ex_id).evaluate(fn)
            if result.passed:
                found[name] = fn
            else:
                why[name] = "not done yet" if result.status == "not_attempted" else "it does not pass its check yet"
    functions, origin = {}, {}
    for name in _STEP_NAMES:
        if name in found:
            functions[name], origin[name] = found[name], "yours"
        else:
            functions[name], origin[name] = get(f"lesson06.{name}").reference, "reference"
    mine = [n for n in _STEP_NAMES if origin[n] == "yours"]
    if len(mine) == len(_STEP_NAMES):
        note = f"Training with your own {', '.join(mine)} from {path.name}."
    elif not mine:
        where = path.name if path is not None else "exercises/06_adam.ipynb (not found)"
        note = (f"Your lesson-6 steps are not done yet ({where}): the package's reference steps are used; "
                f"finish exercises/06_adam.ipynb, save it, and rerun this cell to train with yours.")
    else:
        others = [f"{n} ({why.get(n, 'not found')})" for n in _STEP_NAMES if origin[n] != "yours"]
        note = (f"Training with your own {', '.join(mine)}; the package's reference is used for "
                f"{', '.join(others)}.")
    return LearnerSteps(functions, origin, note, path)
