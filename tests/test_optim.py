"""Tests for gdcourse.optim: formulas, identities, public figures, fast == reference, errors."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from gdcourse import optim
from gdcourse.optim import (OPTIMIZERS, NonFiniteGradientError, Optimizer, adagrad, adam, adamw,
                            get_optimizer, momentum, nesterov, rmsprop, run, sgd)
from gdcourse.schedules import cosine, exponential, step_decay
from gdcourse.surfaces import SURFACES, ill_conditioned

THETA0 = np.array([1.0, -2.0])
G1 = np.array([0.5, 4.0])
G2 = np.array([1.0, -1.0])


def two_steps(opt, theta=THETA0, g1=G1, g2=G2):
    state = opt.init(theta)
    th1, state = opt.update(theta, g1, state)
    th2, state = opt.update(th1, g2, state)
    return th1, th2, state


# --- hand-computed steps ------------------------------------------------------------

def test_sgd_first_steps_by_hand():
    th1, th2, state = two_steps(sgd(lr=0.1))
    np.testing.assert_allclose(th1, [1 - 0.05, -2 - 0.4], rtol=0, atol=1e-15)
    np.testing.assert_allclose(th2, [0.95 - 0.1, -2.4 + 0.1], rtol=0, atol=1e-15)
    assert state.count == 2


def test_sgd_weight_decay_adds_lambda_theta_to_the_gradient():
    th1, _, _ = two_steps(sgd(lr=0.1, weight_decay=0.1))
    # g + λθ = [0.5 + 0.1, 4 − 0.2] = [0.6, 3.8]
    np.testing.assert_allclose(th1, [1 - 0.06, -2 - 0.38], rtol=0, atol=1e-15)


def test_momentum_first_steps_by_hand():
    th1, th2, state = two_steps(momentum(lr=0.1, momentum=0.9))
    # step 1: b = g1 = [0.5, 4]; θ = θ0 − 0.1 b
    np.testing.assert_allclose(th1, [0.95, -2.4], rtol=0, atol=1e-15)
    # step 2: b = 0.9·[0.5, 4] + [1, −1] = [1.45, 2.6]; θ = [0.95 − 0.145, −2.4 − 0.26]
    np.testing.assert_allclose(state.velocity, [1.45, 2.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(th2, [0.805, -2.66], rtol=0, atol=1e-15)


def test_nesterov_first_steps_by_hand():
    th1, th2, state = two_steps(nesterov(lr=0.1, momentum=0.9))
    # step 1: b = g1; θ = θ0 − 0.1·(g1 + 0.9·g1) = θ0 − 0.19·g1
    np.testing.assert_allclose(th1, [1 - 0.095, -2 - 0.76], rtol=0, atol=1e-15)
    # step 2: b = [1.45, 2.6]; g2 + 0.9 b = [2.305, 1.34]
    np.testing.assert_allclose(state.velocity, [1.45, 2.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(th2, [0.905 - 0.2305, -2.76 - 0.134], rtol=0, atol=1e-14)


def test_adagrad_first_steps_by_hand():
    th1, th2, state = two_steps(adagrad(lr=0.1, eps=1e-10))
    # step 1: s = g1² = [0.25, 16]; θ = θ0 − 0.1·g1/|g1| (ε negligible)
    np.testing.assert_allclose(th1, [0.9, -2.1], rtol=0, atol=1e-9)
    # step 2: s = [1.25, 17]; θ = θ1 − 0.1·g2/√s
    np.testing.assert_allclose(state.sum_sq, [1.25, 17.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(th2, [0.9 - 0.1 / math.sqrt(1.25), -2.1 + 0.1 / math.sqrt(17.0)],
                               rtol=0, atol=1e-9)


def test_rmsprop_first_step_by_hand():
    th1, th2, state = two_steps(rmsprop(lr=0.01, rho=0.9, eps=1e-8))
    # step 1: s = 0.1·g² so √s = √0.1·|g|: every coordinate moves by ≈ 0.01/√0.1 = 0.0316227766
    # (ε = 1e-8 is not negligible next to √s = 0.158 at this precision, so keep it)
    np.testing.assert_allclose(th1, [1 - 0.005 / (0.158113883008 + 1e-8),
                                     -2 - 0.04 / (1.264911064067 + 1e-8)], rtol=0, atol=1e-11)
    np.testing.assert_allclose(THETA0 - th1, 0.0316227766 * np.sign(G1), rtol=1e-6)
    # step 2: s = 0.9·[0.025, 1.6] + 0.1·[1, 1] = [0.1225, 1.54]
    np.testing.assert_allclose(state.sq_avg, [0.1225, 1.54], rtol=0, atol=1e-15)
    np.testing.assert_allclose(th2, th1 - 0.01 * G2 / (np.sqrt([0.1225, 1.54]) + 1e-8), rtol=0, atol=1e-12)


def test_adam_first_two_steps_by_hand():
    th1, th2, state = two_steps(adam(lr=0.1))
    # step 1: m̂ = g, v̂ = g², so the step is 0.1·g/(|g| + ε) ≈ 0.1·sign(g)
    np.testing.assert_allclose(th1, THETA0 - 0.1 * G1 / (np.abs(G1) + 1e-8), rtol=0, atol=1e-15)
    np.testing.assert_allclose(th1, [0.9, -2.1], rtol=0, atol=1e-8)
    # step 2: m = 0.9·0.1·g1 + 0.1·g2 = [0.145, 0.26]
    #         v = 0.999·0.001·g1² + 0.001·g2² = [0.00124975, 0.016984]
    np.testing.assert_allclose(state.m, [0.145, 0.26], rtol=1e-14)
    np.testing.assert_allclose(state.v, [0.00124975, 0.016984], rtol=1e-12)
    m_hat = np.array([0.145, 0.26]) / (1 - 0.81)
    v_hat = np.array([0.00124975, 0.016984]) / (1 - 0.998001)
    np.testing.assert_allclose(th2, th1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=0, atol=1e-14)
    assert state.count == 2


def test_adamw_first_step_by_hand():
    th1, _, _ = two_steps(adamw(lr=0.1, weight_decay=0.5))
    # θ0·(1 − 0.1·0.5) − 0.1·sign(g1) = [0.95 − 0.1, −1.9 − 0.1]
    np.testing.assert_allclose(th1, [0.95 - 0.1 * 0.5 / (0.5 + 1e-8), -1.9 - 0.1 * 4 / (4 + 1e-8)],
                               rtol=0, atol=1e-15)


def test_adam_coupled_weight_decay_is_l2_in_the_gradient():
    opt = adam(lr=0.1, weight_decay=0.5)
    th1, state = opt.update(THETA0, G1, opt.init(THETA0))
    g = G1 + 0.5 * THETA0            # [1.0, 3.0]
    np.testing.assert_allclose(state.m, 0.1 * g, rtol=1e-14)
    np.testing.assert_allclose(th1, THETA0 - 0.1 * np.sign(g), rtol=0, atol=1e-9)


# --- identities ----------------------------------------------------------------------

def _quadratic_grad(theta):
    # a coupled quadratic so the trajectory depends on every earlier step
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    return A @ theta - np.array([1.0, -1.0])


@pytest.mark.parametrize("other", [momentum(lr=0.05, momentum=0.0), nesterov(lr=0.05, momentum=0.0)])
def test_zero_momentum_is_plain_sgd(other):
    ref = run(sgd(lr=0.05), _quadratic_grad, [4.0, -3.0], 60)
    got = run(other, _quadratic_grad, [4.0, -3.0], 60)
    np.testing.assert_array_equal(got.thetas, ref.thetas)


def test_adamw_with_zero_decay_is_adam():
    ref = run(adam(lr=0.05), _quadratic_grad, [4.0, -3.0], 60)
    got = run(adamw(lr=0.05, weight_decay=0.0), _quadratic_grad, [4.0, -3.0], 60)
    np.testing.assert_array_equal(got.thetas, ref.thetas)
    # and a nonzero decay does change the path (so the comparison above can fail)
    other = run(adamw(lr=0.05, weight_decay=0.1), _quadratic_grad, [4.0, -3.0], 60)
    assert not np.allclose(other.thetas, ref.thetas)


@pytest.mark.parametrize("shape", [(), (7,), (3, 4)])
def test_first_adam_step_is_lr_times_sign_of_grad(shape):
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(shape)
    # gradients over six orders of magnitude, both signs
    grad = rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-3, 3, size=shape)
    opt = adam(lr=0.01)
    new, _ = opt.update(theta, grad, opt.init(theta))
    np.testing.assert_allclose(theta - new, 0.01 * np.sign(grad), rtol=1e-4)


# --- the public figures of COURSE.md ---------------------------------------------------

def test_gd_on_x_squared_contracts_by_0_6():
    traj = run(sgd(lr=0.2), lambda x: 2.0 * x, [10.0], 10)
    np.testing.assert_allclose(traj.thetas[:, 0], 10.0 * 0.6 ** np.arange(11), rtol=1e-12)
    assert traj.theta[0] == pytest.approx(0.060466, abs=1e-6)


def test_gd_on_x_squared_diverges_for_lr_1_1():
    traj = run(sgd(lr=1.1), lambda x: 2.0 * x, [10.0], 10)
    assert traj.theta[0] == pytest.approx(61.917364, abs=1e-6)
    assert np.all(np.diff(np.abs(traj.thetas[:, 0])) > 0)


def test_gd_on_x1sq_plus_2x2sq():
    traj = run(sgd(lr=0.1), lambda t: np.array([2 * t[0], 4 * t[1]]), [-5.0, -2.0], 20)
    np.testing.assert_allclose(traj.theta, [-0.057646, -0.000073], atol=1e-6)


def test_gd_on_ill_conditioned_quadratic():
    surf = ill_conditioned()
    traj = run(sgd(lr=0.4), surf._grad, [-5.0, -2.0], 20)
    np.testing.assert_allclose(traj.theta, [-0.943467, -0.000073], atol=1e-6)
    bad = run(sgd(lr=0.6), surf._grad, [-5.0, -2.0], 20)
    # θ2 is multiplied by 1 − 0.6·4 = −1.4 each step: it grows, θ1 still shrinks
    np.testing.assert_allclose(np.abs(bad.thetas[:, 1]), 2.0 * 1.4 ** np.arange(21), rtol=1e-12)
    assert abs(bad.theta[0]) < 5.0


def test_momentum_on_ill_conditioned_quadratic():
    traj = run(momentum(lr=0.6, momentum=0.5), ill_conditioned()._grad, [-5.0, -2.0], 20)
    np.testing.assert_allclose(traj.theta, [0.007188, 0.002553], atol=1e-6)


# --- fast == reference --------------------------------------------------------------------

ALL_CONFIGS = [
    sgd(lr=0.05), sgd(lr=0.05, weight_decay=0.1),
    momentum(lr=0.05, momentum=0.9), momentum(lr=step_decay(0.05, 7, 0.5), momentum=0.8, weight_decay=0.01),
    nesterov(lr=0.05, momentum=0.9), nesterov(lr=0.05, momentum=0.5, weight_decay=0.2),
    adagrad(lr=0.3), adagrad(lr=exponential(0.3, 0.99), eps=1e-6, weight_decay=0.05),
    rmsprop(lr=0.01), rmsprop(lr=0.02, rho=0.5, eps=1e-3, weight_decay=0.1),
    adam(lr=0.05), adam(lr=cosine(0.05, 30), betas=(0.5, 0.9), eps=1e-4, weight_decay=0.1),
    adamw(lr=0.05), adamw(lr=0.05, betas=(0.0, 0.5), weight_decay=0.3),
]


@pytest.mark.parametrize("opt", ALL_CONFIGS, ids=repr)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3), (2, 3, 2)])
def test_fast_update_equals_reference_loop(opt, shape):
    rng = np.random.default_rng(sum(shape) + 11)
    theta = rng.standard_normal(shape)
    fast_theta, fast_state = theta.copy(), opt.init(theta)
    ref_theta, ref_state = theta.copy(), opt.init(theta)
    for _ in range(40):
        # the gradient of a quadratic bowl plus noise, so paths react to θ
        noise = rng.standard_normal(shape)
        fast_theta, fast_state = opt.update(fast_theta, 1.5 * fast_theta + noise, fast_state)
        ref_theta, ref_state = opt.reference_update(ref_theta, 1.5 * ref_theta + noise, ref_state)
    assert fast_state.count == ref_state.count == 40
    np.testing.assert_allclose(fast_theta, ref_theta, rtol=0, atol=1e-12)
    for fast_arr, ref_arr in zip(fast_state[1:-1], ref_state[1:-1]):
        np.testing.assert_allclose(fast_arr, ref_arr, rtol=1e-12, atol=1e-12)
    assert fast_theta.shape == shape


@pytest.mark.parametrize("opt", ALL_CONFIGS[::2], ids=repr)
def test_update_inplace_equals_update_and_update_leaves_inputs_alone(opt):
    rng = np.random.default_rng(5)
    theta = rng.standard_normal((4, 3))
    grad = rng.standard_normal((4, 3))
    state = opt.init(theta)
    theta_copy, grad_copy = theta.copy(), grad.copy()
    new_theta, new_state = opt.update(theta, grad, state)
    np.testing.assert_array_equal(theta, theta_copy)
    np.testing.assert_array_equal(grad, grad_copy)
    assert state.count == 0 and all(np.all(a == 0) for a in state[1:-1])
    fast_theta, fast_state = opt.update_inplace(theta.copy(), grad, opt.init(theta))
    np.testing.assert_array_equal(fast_theta, new_theta)
    for a, b in zip(fast_state[1:-1], new_state[1:-1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_grad_that_is_theta_itself_is_handled(name):
    # ∇½‖θ‖² = θ: a grad_fn returning its argument must not see θ change under it
    opt = get_optimizer(name, lr=0.1)
    aliased = run(opt, lambda th: th, [1.0, -2.0], 25)
    copied = run(opt, lambda th: th.copy(), [1.0, -2.0], 25)
    np.testing.assert_array_equal(aliased.thetas, copied.thetas)


# --- schedules as learning rates ------------------------------------------------------

def test_schedule_lr_uses_zero_based_step_count():
    # constant gradient 1: θ_k = −Σ_{j<k} 0.5^j, i.e. update k uses lr(k − 1)
    traj = run(sgd(lr=exponential(1.0, 0.5)), lambda th: np.ones_like(th), [0.0], 6)
    expected = -np.array([0.0, 1.0, 1.5, 1.75, 1.875, 1.9375, 1.96875])
    np.testing.assert_allclose(traj.thetas[:, 0], expected, rtol=0, atol=1e-15)


def test_plain_function_is_accepted_as_lr():
    opt = sgd(lr=lambda t: 0.1 / (t + 1))
    assert opt.lr_at(0) == 0.1 and opt.lr_at(1) == 0.05


# --- convergence table ---------------------------------------------------------------------

# sensible settings per optimiser and surface; "long" surfaces get more steps
def _settings(name, surface):
    rosen = surface == "rosenbrock"
    return {
        "sgd": sgd(lr=1e-3 if rosen else {"ill_conditioned": 0.4, "non_convex": 0.05}.get(surface, 0.2)),
        "momentum": momentum(lr=1e-3 if rosen else 0.05, momentum=0.9 if rosen else 0.7),
        "nesterov": nesterov(lr=1e-3 if rosen else 0.05, momentum=0.9 if rosen else 0.7),
        "adagrad": adagrad(lr=1.0 if rosen else 0.5),
        "rmsprop": rmsprop(lr=cosine(0.003, 20000) if rosen else cosine(0.05, 3000), rho=0.99 if rosen else 0.9),
        # constant-α Adam keeps circling the Rosenbrock minimum at ~1e-3 (where it ends depends on
        # round-off); a decaying α lets it settle, as it does for AdamW below
        "adam": adam(lr=cosine(0.02, 20000) if rosen else 0.05),
        "adamw": adamw(lr=cosine(0.02, 20000) if rosen else 0.05, weight_decay=1e-2),
    }[name]


TOL = 1e-3


def test_convergence_table(capsys):
    rows = []
    failures = []
    for name in OPTIMIZERS:
        for surface_name, make in SURFACES.items():
            surface = make()
            num_steps = 20000 if surface_name == "rosenbrock" else 3000
            opt = _settings(name, surface_name)
            traj = run(opt, surface._grad, surface.start, num_steps, loss_fn=None)
            # distance to the nearest known minimiser (non_convex has a local one too)
            dist = np.linalg.norm(traj.thetas[:, None, :] - surface.minimisers[None], axis=2)
            nearest = dist.min(axis=1)
            which = "global" if dist[-1].argmin() == 0 else "local"
            reached = np.flatnonzero(nearest <= TOL)
            first = int(reached[0]) if len(reached) else None
            ok = (not traj.diverged) and nearest[-1] <= TOL
            rows.append(f"{name:<9} {surface_name:<16} {'ok' if ok else 'FAIL':<5} "
                        f"{nearest[-1]:9.1e} {which:<7} {str(first):>6} / {num_steps:<6} {opt!r}")
            if not ok:
                failures.append(rows[-1])
    table = "\n".join(
        [f"\nconvergence table: distance to the nearest minimiser at the end (tolerance {TOL:g}), "
         f"first step within tolerance",
         f"{'optimiser':<9} {'surface':<16} {'':<5} {'distance':>9} {'minimum':<7} {'first':>6}   steps  settings"]
        + rows)
    with capsys.disabled():
        print(table)
    assert len(rows) == len(OPTIMIZERS) * len(SURFACES)
    assert not failures, "\n".join(failures)


def test_non_convex_start_on_the_right_ends_in_the_local_minimum():
    surf = SURFACES["non_convex"]()
    traj = run(sgd(lr=0.05), surf._grad, [1.5, 1.0], 2000)
    np.testing.assert_allclose(traj.theta, surf.minimisers[1], atol=1e-8)


# --- divergence and NaN --------------------------------------------------------------------

def test_run_stops_on_divergence_with_a_message():
    surf = SURFACES["rosenbrock"]()
    traj = run(sgd(lr=0.1), surf._grad, surf.start, 500, loss_fn=surf._value)
    assert traj.diverged and traj.stop_reason == "diverged"
    assert "diverged" in traj.message and "lr" in traj.message
    assert np.all(np.isfinite(traj.thetas)) and np.all(np.isfinite(traj.losses))
    assert len(traj.thetas) == traj.n_steps + 1 < 501


def test_run_stops_on_nan_gradient():
    def grad_fn(theta):
        return np.array([np.nan, 1.0]) if theta[1] < 0.75 else np.array([0.0, 1.0])

    traj = run(adam(lr=0.1), grad_fn, [0.0, 1.0], 20)
    assert traj.diverged and "NaN" in traj.message
    assert np.all(np.isfinite(traj.thetas))


def test_checked_surface_grad_refusing_nan_theta_is_divergence():
    surf = SURFACES["rosenbrock"]()
    traj = run(sgd(lr=0.1), surf.grad, surf.start, 500)
    assert traj.diverged


def test_update_refuses_nan_gradient():
    opt = adam()
    theta = np.zeros(3)
    with pytest.raises(NonFiniteGradientError, match="grad must contain only finite"):
        opt.update(theta, np.array([0.0, np.nan, np.inf]), opt.init(theta))
    assert issubclass(NonFiniteGradientError, FloatingPointError)
    assert issubclass(NonFiniteGradientError, ValueError)


def test_run_equals_stepwise_update():
    surf = SURFACES["non_convex"]()
    opt = nesterov(lr=0.02, momentum=0.8)
    traj = run(opt, surf._grad, surf.start, 30)
    theta, state = surf.start.copy(), opt.init(surf.start)
    for k in range(30):
        theta, state = opt.update(theta, surf.grad(theta), state)
        np.testing.assert_array_equal(traj.thetas[k + 1], theta)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_bad_learning_rate(name, lr):
    with pytest.raises(ValueError, match="lr must be"):
        get_optimizer(name, lr=lr)


def test_schedule_lr_that_starts_at_zero_is_refused():
    with pytest.raises(ValueError, match=r"lr\(0\) must be > 0"):
        sgd(lr=lambda t: 0.0)


@pytest.mark.parametrize("factory, kwargs, match", [
    (adam, {"betas": (1.0, 0.999)}, r"betas\[0\] \(β1\) must be in \[0, 1\)"),
    (adam, {"betas": (0.9, -0.1)}, r"betas\[1\] \(β2\) must be in \[0, 1\)"),
    (adamw, {"betas": (0.9, 1.5)}, r"betas\[1\]"),
    (momentum, {"momentum": 1.0}, "momentum must be in"),
    (nesterov, {"momentum": -0.5}, "momentum must be in"),
    (rmsprop, {"rho": 1.0}, "rho must be in"),
    (adam, {"eps": 0.0}, "eps must be > 0"),
    (adagrad, {"eps": -1e-10}, "eps must be > 0"),
    (rmsprop, {"eps": 0.0}, "eps must be > 0"),
    (adamw, {"weight_decay": -0.01}, "weight_decay must be >= 0"),
    (sgd, {"weight_decay": -1.0}, "weight_decay must be >= 0"),
])
def test_bad_hyperparameters(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_betas_must_be_a_pair():
    with pytest.raises(TypeError, match="betas must be a pair"):
        adam(betas=0.9)


def test_state_from_another_optimiser_is_refused():
    theta = np.zeros(2)
    with pytest.raises(TypeError, match=r"state must be a MomentumState.*AdamState"):
        momentum().update(theta, theta, adam().init(theta))
    with pytest.raises(TypeError, match=r"state must be a AdamWState|state must be a AdamState"):
        adam().update(theta, theta, adamw().init(theta))
    with pytest.raises(TypeError, match="state must be"):
        sgd().update(theta, theta, None)


def test_grad_shape_must_match_theta():
    opt = rmsprop()
    with pytest.raises(ValueError, match=r"grad must have the same shape as theta, \(2,\)"):
        opt.update(np.zeros(2), np.zeros(3), opt.init(np.zeros(2)))
    with pytest.raises(ValueError, match="grad must have the same shape"):
        opt.update(np.zeros(2), np.zeros((2, 1)), opt.init(np.zeros(2)))


def test_state_for_other_parameters_is_refused():
    opt = adam()
    with pytest.raises(ValueError, match=r"state.m has shape \(3,\)"):
        opt.update(np.zeros(2), np.zeros(2), opt.init(np.zeros(3)))


def test_run_checks_its_arguments():
    with pytest.raises(ValueError, match="grad_fn\\(theta0\\) must have the same shape"):
        run(sgd(), lambda th: np.zeros(3), [0.0, 0.0], 10)
    with pytest.raises(TypeError, match="grad_fn must be a function"):
        run(sgd(), 3.0, [0.0], 10)
    with pytest.raises(ValueError, match="theta0 must contain only finite"):
        run(sgd(), lambda th: th, [np.nan], 10)
    with pytest.raises(ValueError, match="num_steps must be >= 0"):
        run(sgd(), lambda th: th, [1.0], -1)


def test_get_optimizer():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    opt = get_optimizer("adam", lr=0.1)
    assert isinstance(opt, Optimizer) and opt.lr == 0.1 and opt.betas == (0.9, 0.999)
    assert get_optimizer(opt) is opt
    with pytest.raises(ValueError, match="optimizer must be one of"):
        get_optimizer("adamax")
    with pytest.raises(TypeError, match="already an Optimizer"):
        get_optimizer(opt, lr=1.0)


def test_state_is_printable_and_inspectable():
    opt = momentum(lr=0.1, momentum=0.5)
    _, state = opt.update(np.array([1.0, 2.0]), np.array([2.0, -2.0]), opt.init(np.zeros(2)))
    assert repr(state) == "MomentumState(count=1, velocity=array([ 2., -2.]))"
    assert state._fields[:2] == ("count", "velocity")
    assert repr(opt) == "momentum(lr=0.1, momentum=0.5)"


def test_docstring_examples_run():
    from gdcourse import schedules
    for module in (optim, schedules):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 5


# --- optional oracle: torch.optim --------------------------------------------------------------

def _torch_pairs(torch):
    return [
        (sgd(lr=0.05, weight_decay=0.1), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1)),
        (momentum(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        (nesterov(lr=0.05, momentum=0.9, weight_decay=0.01),
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
        (adagrad(lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3)),
        (rmsprop(lr=0.01, rho=0.9, weight_decay=0.05),
         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, weight_decay=0.05)),
        (adam(lr=0.05, weight_decay=0.1), lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1)),
        (adamw(lr=0.05, weight_decay=0.3), lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3)),
    ]


def test_trajectories_match_torch_optim():
    torch = pytest.importorskip("torch")
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -1.0, 2.0])
    theta0 = np.array([4.0, -3.0, 1.0])
    for ours, make_torch in _torch_pairs(torch):
        traj = run(ours, lambda th: A @ th - b, theta0, 50)
        p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        opt = make_torch([p])
        At, bt = torch.tensor(A), torch.tensor(b)
        for k in range(50):
            opt.zero_grad()
            loss = 0.5 * p @ At @ p - bt @ p
            loss.backward()
            opt.step()
            np.testing.assert_allclose(p.detach().numpy(), traj.thetas[k + 1], rtol=1e-10, atol=1e-12,
                                       err_msg=f"{ours!r}, step {k + 1}")


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
@pytest.mark.parametrize("surface_name", ["rosenbrock", "ill_conditioned", "non_convex"])
def test_run_on_a_tiny_problem_matches_the_in_place_path(name, surface_name):
    """run() steps tiny θ with Python floats; it must walk the same path as update_inplace."""
    from gdcourse import schedules, surfaces

    s = surfaces.get_surface(surface_name)
    kwargs = {"lr": schedules.cosine(0.01, 200)}
    if name != "adamw":
        kwargs["weight_decay"] = 0.01
    opt = optim.get_optimizer(name, **kwargs)
    traj = optim.run(opt, s._grad, s.start, 200)
    theta = s.start.copy()
    state = opt.init(theta)
    path = [theta.copy()]
    with np.errstate(all="ignore"):  # some of these runs diverge on purpose
        for _ in range(200):
            theta, state = opt.update_inplace(theta, s._grad(theta), state)
            path.append(theta.copy())
    path = np.array(path)
    n = len(traj.thetas)
    np.testing.assert_allclose(traj.thetas, path[:n], rtol=1e-12, atol=1e-12)
    if traj.diverged:  # both stop where θ first stops being finite
        assert not np.all(np.isfinite(path[n]))
        return
    assert n == 201 and traj.state.count == state.count == 200
    for got, want in zip(traj.state[1:-1], state[1:-1]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- what the lesson 6 panels draw: run() by the descent stop rule, Adam without bias correction ----

def _adam_by_hand(lr, b1, b2, theta, lam, steps, correct, eps=1e-8):
    m = v = 0.0
    out = [theta]
    for t in range(1, steps + 1):
        g = lam * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        theta = theta - lr * mh / (math.sqrt(vh) + eps)
        out.append(theta)
    return np.array(out)


@pytest.mark.parametrize("b1, b2", [(0.9, 0.999), (0.9, 0.9), (0.0, 0.99), (0.99, 0.8)])
@pytest.mark.parametrize("correct", [True, False])
def test_adam_with_and_without_bias_correction_follows_the_formula(b1, b2, correct):
    opt = adam(lr=0.1, betas=(b1, b2), bias_correction=correct)
    path = optim.run(opt, lambda th: 1.0 * th, np.array([3.0]), 30).thetas[:, 0]
    np.testing.assert_allclose(path, _adam_by_hand(0.1, b1, b2, 3.0, 1.0, 30, correct), rtol=1e-12)
    # the in-place path of a larger θ takes the same steps as the per-coordinate one
    big = optim.run(opt, lambda th: 1.0 * th, np.full(20, 3.0), 30).thetas[:, 0]
    np.testing.assert_allclose(big, path, rtol=1e-12)
    assert ("bias_correction=False" in repr(opt)) is (not correct)


def test_adam_refuses_a_bias_correction_that_is_not_a_bool():
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        adam(bias_correction="no")


def test_run_with_a_divergence_factor_stops_by_the_descent_rule():
    f, g = (lambda th: float(th @ th)), (lambda th: 2 * th)
    # x ← x − 1.5·2x = −2x: |x| doubles, f quadruples each step; f0 = 1 → limit 1e8 passed at step 14
    traj = optim.run(sgd(lr=1.5), g, np.array([1.0]), 100, loss_fn=f, divergence_factor=1e8)
    assert traj.diverged and traj.stop_reason == "diverged" and traj.n_steps == 14
    assert traj.losses[-1] > 1e8 >= traj.losses[-2] and len(traj.thetas) == 15
    assert "diverged at step 14" in traj.message
    # the same as the descent loop
    from gdcourse.descent import gradient_descent
    h = gradient_descent(f, g, np.array([1.0]), 1.5, num_iters=100)
    np.testing.assert_allclose(traj.thetas, h.thetas)
    # without the factor only NaN or inf stops it
    plain = optim.run(sgd(lr=1.5), g, np.array([1.0]), 100, loss_fn=f)
    assert not plain.diverged and plain.n_steps == 100
    calm = optim.run(sgd(lr=0.1), g, np.array([1.0]), 50, loss_fn=f, divergence_factor=1e8)
    assert not calm.diverged and calm.n_steps == 50


def test_run_refuses_a_divergence_factor_without_a_loss():
    with pytest.raises(ValueError, match="divergence_factor needs loss_fn"):
        optim.run(sgd(lr=0.1), lambda th: th, np.array([1.0]), 5, divergence_factor=1e8)
    with pytest.raises(ValueError, match="divergence_factor"):
        optim.run(sgd(lr=0.1), lambda th: th, np.array([1.0]), 5, loss_fn=lambda th: 0.0,
                  divergence_factor=-1.0)
