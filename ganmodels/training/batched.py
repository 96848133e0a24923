"""Many private 2-D runs trained as ONE batched computation: the class's runs at a fraction of the cost.

A 2-D step of the default preset (two MLPs of 2 × 64 neurons, batch 256) costs a few milliseconds of one
core, most of it PyTorch's per-call overhead rather than arithmetic: thirty students' runs stepped one
after another cost thirty times that.  Runs whose networks have the same shapes and that train with the
same loss, optimizer, k_D, k_G, batch, noise and labels are stepped together here: each layer's weights of
R runs are stacked into one (R, out, in) tensor, the R forward passes are one batched matrix product
(``torch.baddbmm``), and the R Adam (or SGD) updates are a few vectorised operations — with each run's own
learning rates, betas and Adam step count.  Every run keeps its own data (its drawn points, its dataset),
its own z, its own losses and curves; the result is the run each would have trained alone, to float
rounding (``tests/test_training_class.py`` checks it step by step against ``train_loop``).

``train_group(trainers, budget_s)`` is what ``classroom.Scheduler`` calls instead of ``run_slice`` when
it finds several such runs ready: it gathers their parameters and optimizer state, trains for about
``budget_s`` seconds, and writes everything back, so that every other part of a run (snapshots, Step D
only, saving, Reset) sees an ordinary ``live.Trainer``.  Pause and Reset wait at most one batched step.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
import torch.nn.functional as F

from ganmodels import losses as L
from ganmodels.training.loop import NonFiniteLoss

GROUP_MAX = 64            # runs in one batched computation at most
ADAM_EPS = 1e-8           # torch.optim.Adam's default (make_optimizer keeps it)


def _linears(net: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in net.modules() if isinstance(m, torch.nn.Linear)]


def shapes(net: torch.nn.Module) -> tuple:
    """The shapes of a network's parameters, in order: what two runs' networks must share to be stacked."""
    return tuple(tuple(p.shape) for p in net.parameters())


class _Stack:
    """One network of R runs: each parameter stacked along a new first axis, with its optimizer state."""

    def __init__(self, nets: list[torch.nn.Module], opts: list[torch.optim.Optimizer], adam: bool):
        self.nets, self.opts, self.adam = nets, opts, adam
        self.own = [list(n.parameters()) for n in nets]                  # run → its parameters
        n_par = len(self.own[0])
        self.params = [torch.stack([ps[i].detach() for ps in self.own]).requires_grad_(True) for i in range(n_par)]
        groups = [o.param_groups[0] for o in opts]
        col = (len(nets),) + (1,)           # (R, 1): broadcast per run over a parameter's other axes
        dt = self.params[0].dtype
        self.lr = torch.tensor([g["lr"] for g in groups], dtype=dt).view(col)
        if adam:
            self.b1 = torch.tensor([g["betas"][0] for g in groups], dtype=dt).view(col)
            self.b2 = torch.tensor([g["betas"][1] for g in groups], dtype=dt).view(col)
            self.m, self.v, self.t = [], [], []
            for i in range(n_par):
                st = [o.state.get(ps[i], {}) for o, ps in zip(opts, self.own)]
                z = torch.zeros_like(self.own[0][i])
                self.m.append(torch.stack([s["exp_avg"] if "exp_avg" in s else z for s in st]))
                self.v.append(torch.stack([s["exp_avg_sq"] if "exp_avg_sq" in s else z for s in st]))
                self.t.append(torch.tensor([float(s["step"]) if "step" in s else 0.0 for s in st], dtype=dt).view(col))

    @staticmethod
    def _expand(col: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return col.view(col.shape[0], *([1] * (p.ndim - 1)))

    @torch.no_grad()
    def update(self, grads, clip: float = 0.0) -> None:
        """One optimizer step of every run (Adam as torch.optim.Adam computes it, or plain SGD)."""
        for i, (p, g) in enumerate(zip(self.params, grads)):
            lr = self._expand(self.lr, p)
            if self.adam:
                b1, b2 = self._expand(self.b1, p), self._expand(self.b2, p)
                self.t[i] += 1
                t = self._expand(self.t[i], p)
                m, v = self.m[i], self.v[i]
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                denom = (v.sqrt() / (1 - b2 ** t).sqrt()).add_(ADAM_EPS)
                p.sub_(lr / (1 - b1 ** t) * m / denom)
            else:
                p.sub_(lr * g)
            if clip:
                p.clamp_(-clip, clip)

    @torch.no_grad()
    def write_back(self) -> None:
        """Every run's parameters (and Adam state) back into its own network and optimizer."""
        for r, (ps, opt) in enumerate(zip(self.own, self.opts)):
            for i, p in enumerate(ps):
                p.copy_(self.params[i][r])
                if not self.adam:
                    continue
                st = opt.state[p]
                if "exp_avg" in st:
                    st["exp_avg"].copy_(self.m[i][r])
                    st["exp_avg_sq"].copy_(self.v[i][r])
                    st["step"].fill_(float(self.t[i][r]))
                else:                            # as torch.optim.Adam (fused, on the CPU) creates its state
                    st["step"] = torch.tensor(float(self.t[i][r]), dtype=torch.float32)
                    st["exp_avg"] = self.m[i][r].clone()
                    st["exp_avg_sq"] = self.v[i][r].clone()


def _mlp(params: list[torch.Tensor], x: torch.Tensor, act: Callable) -> torch.Tensor:
    """R stacked MLPs on (R, B, in): Linear (weight (R, out, in), bias (R, out)), act between layers."""
    n = len(params) // 2
    for i in range(n):
        w, b = params[2 * i], params[2 * i + 1]
        x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
        if i < n - 1:
            x = act(x)
    return x


def _relu(x):
    return F.relu(x)


def _lrelu(x):
    return F.leaky_relu(x, 0.2)     # ToyDiscriminator's slope


class Group:
    """R runs' networks, optimizers, data and objectives stacked for batched steps (see the module docstring).

    ``runs``: ``live._Run`` objects (the networks are ToyGenerator/ToyDiscriminator).  All share
    the loss, optimizer, k, k_g, batch, noise, labels and shapes (``live.Trainer.batch_key``)."""

    def __init__(self, runs: list):
        self.runs = runs
        cfg = runs[0].cfg
        self.loss, self.k, self.k_g, self.batch = cfg.loss, max(1, int(cfg.k)), max(1, int(cfg.k_g)), cfg.batch
        obj = runs[0].objective
        self.real_label, self.fake_label, self.gp_weight = obj.real_label, obj.fake_label, obj.gp_weight
        self.clip = obj.clip_c
        adam = cfg.optimizer != "sgd"
        self.G = _Stack([r.G for r in runs], [r.optimizers["G"] for r in runs], adam)
        self.D = _Stack([r.D for r in runs], [r.optimizers["D"] for r in runs], adam)
        self._d_loss = torch.func.vmap(lambda r, f: L.d_loss(self.loss, r, f, self.real_label, self.fake_label))
        self._g_loss = torch.func.vmap(lambda f: L.g_loss(self.loss, f))

    def _real(self) -> torch.Tensor:
        return torch.stack([next(r.data) for r in self.runs])                  # (R, B, 2)

    def _z(self) -> torch.Tensor:
        return torch.stack([r.objective.sample_z(self.batch, None) for r in self.runs])   # (R, B, z_dim)

    def _bad(self, per: torch.Tensor) -> list[int]:
        ok = torch.isfinite(per)
        return [] if bool(ok.all()) else [i for i, v in enumerate(ok.tolist()) if not v]

    def step(self) -> tuple[torch.Tensor | None, dict[int, dict]]:
        """One iteration of every run (k D updates, then k_G G updates).  Returns each run's logs
        (R, len(LOG_KEYS)), or (None, {run index: that update's logs}) when a loss became NaN/inf: then this
        iteration updated nobody after the last finite update (as ``train_loop``, which stops before
        stepping on a non-finite loss)."""
        B = self.batch
        Gp, Dp = self.G.params, self.D.params
        d_logs = None
        for _ in range(self.k):
            x = self._real()
            z = self._z()
            with torch.no_grad():
                fake = _mlp(Gp, z, _relu)
            out = _mlp(Dp, torch.cat([x, fake], 1), _lrelu).squeeze(-1)        # (R, 2B): real then generated
            r, f = out[:, :B], out[:, B:]
            per = self._d_loss(r, f)                                           # (R,)
            gp = None
            if self.loss == "wgan-gp":
                eps = torch.rand(len(self.runs), B, 1)
                x_hat = (eps * x + (1 - eps) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(_mlp(Dp, x_hat, _lrelu).sum(), x_hat, create_graph=True)
                gp = ((grad.norm(dim=2) - 1.0) ** 2).mean(1)
                per = per + self.gp_weight * gp
            bad = self._bad(per)
            if bad:
                return None, {i: self._d_dict(i, per, r, f, gp) for i in bad}
            self.D.update(torch.autograd.grad(per.sum(), Dp), self.clip)
            d_logs = (per.detach(), r.detach(), f.detach(), gp)
        for _ in range(self.k_g):
            for run in self.runs:             # train_loop draws a real batch for every G update too (unused here)
                next(run.data)
            f = _mlp(Dp, _mlp(Gp, self._z(), _relu), _lrelu).squeeze(-1)       # (R, B)
            per = self._g_loss(f)
            bad = self._bad(per)
            if bad:
                return None, {i: {**self._d_dict(i, *d_logs), "g_loss": float(per[i])} for i in bad}
            self.G.update(torch.autograd.grad(per.sum(), Gp))
            g_logs = (per.detach(), f.detach())
        with torch.no_grad():
            per_d, r, f_d, gp = d_logs
            per_g, f_g = g_logs
            nan = torch.full_like(per_d, float("nan"))
            cols = [per_d, per_g, L.d_prob(r).mean(1), L.d_prob(f_d).mean(1), gp if gp is not None else nan,
                    r.mean(1), f_d.mean(1), L.d_prob(f_g).mean(1)]
            return torch.stack(cols, 1), {}

    @staticmethod
    def _d_dict(i, per, r, f, gp) -> dict:
        d = {"d_loss": float(per[i]), "d_real": float(L.d_prob(r[i]).mean()), "d_fake": float(L.d_prob(f[i]).mean())}
        if gp is not None:
            d["gp"] = float(gp[i])
        return d

    def write_back(self) -> None:
        self.G.write_back()
        self.D.write_back()


# the columns of Group.step's logs: live.HISTORY_COLUMNS[1:] and G's view of D(G(z))
LOG_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "gp", "score_real", "score_fake", "d_fake_g")


def logs_dict(row: list[float]) -> dict:
    """One run's logs of one step (a row of ``Group.step``'s result) as train_loop's on_step gets them."""
    return {k: v for k, v in zip(LOG_KEYS, row) if not (k == "gp" and v != v)}


def train_group(trainers: list, budget_s: float, between: Callable[[], object] | None = None,
                yield_every_s: float = 0.01) -> int:
    """Train scheduled ``live.Trainer`` s together for about ``budget_s`` seconds (see the module
    docstring).  Those that are no longer running, or no longer share the first one's ``batch_key``,
    are left out.  ``between()`` is called every ``yield_every_s`` of work (the app gives way to
    interactive requests there).  Returns how many runs were trained."""
    key = None
    jobs = []
    for tr in trainers[:GROUP_MAX]:
        job = tr._group_join(key)
        if job is not None:
            key = key or job[-1]
            jobs.append((tr, job[:-1]))
    if not jobs:
        return 0
    t0 = time.perf_counter()
    R = len(jobs)
    start = [job[3] for _, job in jobs]
    remaining = min(tr.cfg.max_steps - s for (tr, _), s in zip(jobs, start))
    rows: list[torch.Tensor] = []
    errors: dict[int, NonFiniteLoss] = {}
    failed: Exception | None = None
    group = None
    last_yield = t0
    deadline = t0 + budget_s
    try:
        group = Group([job[2] for _, job in jobs])
        while len(rows) < remaining:
            out, bad_logs = group.step()
            if out is None:
                errors = {i: NonFiniteLoss(start[i] + len(rows) + 1, lg) for i, lg in bad_logs.items()}
                break
            rows.append(out)
            if any(tr._group_halted(job) for tr, job in jobs):
                break
            now = time.perf_counter()
            if now > deadline:
                break
            if between is not None and now - last_yield >= yield_every_s:
                between()
                last_yield = time.perf_counter()
    except Exception as e:  # noqa: BLE001 -- the runs must keep working; each says what happened
        failed = e
    table = [[] for _ in range(R)]
    try:
        if group is not None:
            group.write_back()
            if rows:
                table = torch.stack(rows, 1).tolist()        # run → step → columns
    except Exception as e:  # noqa: BLE001 -- (as above) never leave a run marked busy
        failed = failed or e
    dt = time.perf_counter() - t0
    for r, (tr, job) in enumerate(jobs):
        err = None
        if r in errors:
            err = f"Paused: {errors[r]}"
        elif failed is not None:
            err = f"Paused: training failed at step {start[r] + len(rows) + 1}: {type(failed).__name__}: {failed}"
        tr._group_leave(job, [logs_dict(row) for row in table[r]], err, own_s=dt / R)
    return R
