"""Particle datasets for equivariant GNNs: the EGNN charged 5-body set and the SEGNN gravity 100-body protocol."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError, DataFormatError
from physwm._typing import ParticleModel
from physwm._validate import choice, inside_checked_call, integer, positive, positive_int
from physwm._validate import tensor as check_tensor
from physwm.nn.graph import fully_connected_graph, knn_graph
from physwm.state import particles_to_state, state_to_particles

__all__ = ["ParticleData", "ParticleGraph", "load_nbody_charged", "make_gravity_dataset", "NBODY_CHARGED_SPLITS",
           "CHARGED_FRAME_INTERVAL"]

#: Number of simulations per split of the EGNN charged set, as stored in ``shared/data/nbody-charged``.
NBODY_CHARGED_SPLITS = {"train": 3000, "valid": 2000, "test": 2000}
#: Time between consecutive frames of the charged set: 100 steps of 0.001.
CHARGED_FRAME_INTERVAL = 0.1


@dataclass
class ParticleGraph:
    """A mini-batch of particle systems as one disconnected graph (PyTorch Geometric layout).

    Attributes:
        x: positions ``(B*N, 3)``.
        v: velocities ``(B*N, 3)``.
        h: invariant node features ``(B*N, 1)``: the speed ``|v_i|``.
        edge_index: ``(2, E)``, messages ``edge_index[0] -> edge_index[1]``.
        edge_attr: ``(E, 1)``: the product of the particles' scalar properties (``q_i q_j`` or ``m_i m_j``).
        target: target positions ``(B*N, 3)``.
        batch_size: ``B``.
        n_bodies: ``N``.
    """

    x: Tensor
    v: Tensor
    h: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    target: Tensor
    batch_size: int
    n_bodies: int

    def inputs(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """``(x, v, h, edge_index, edge_attr)``: the arguments of the particle-graph models."""
        return self.x, self.v, self.h, self.edge_index, self.edge_attr


def _graph(x: Tensor, v: Tensor, properties: Tensor, target: Tensor, graph: str | int) -> ParticleGraph:
    """Systems ``(B, N, 3)`` as one disconnected graph: ``h = |v_i|``, ``edge_attr = c_i c_j`` (the EGNN protocol)."""
    bsz, n = x.shape[:2]
    if graph == "full":
        edge_index = fully_connected_graph(n, bsz, device=x.device)
    else:
        edge_index = knn_graph(x, graph)
    prop = properties.reshape(-1, 1)
    vf = v.reshape(-1, 3)
    return ParticleGraph(x=x.reshape(-1, 3), v=vf, h=vf.norm(dim=-1, keepdim=True), edge_index=edge_index,
                         edge_attr=prop[edge_index[0]] * prop[edge_index[1]], target=target.reshape(-1, 3),
                         batch_size=bsz, n_bodies=n)


@dataclass
class ParticleData:
    """Input and target states of ``S`` particle systems of ``N`` bodies.

    Attributes:
        x: positions at the input frame ``(S, N, 3)``.
        v: velocities at the input frame ``(S, N, 3)``.
        properties: one scalar per particle ``(S, N, 1)``: charge (charged set) or mass (gravity).
        target: positions at the target frame ``(S, N, 3)``.
        interval: time from the input frame to the target frame (time units), or ``None`` if unknown;
            needed by :meth:`rollout`.

    Raises:
        TypeError: a field that is not a floating tensor, or fields of different dtypes.
        ValueError: shapes that do not agree, NaN or inf entries (named with their count).
    """

    x: Tensor
    v: Tensor
    properties: Tensor
    target: Tensor
    interval: float | None = None

    def __post_init__(self):
        for name in ("x", "v", "properties", "target"):
            check_tensor(name, getattr(self, name), finite=True)
            if getattr(self, name).dtype != self.x.dtype:
                raise ArgumentTypeError(f"`{name}` must have the dtype of `x` ({self.x.dtype}), got {getattr(self, name).dtype}")
        s, n = self.x.shape[:2] if self.x.dim() == 3 else (-1, -1)
        for name in ("x", "v", "target"):
            a = getattr(self, name)
            if a.shape != (s, n, 3):
                raise ArgumentValueError(f"`{name}` must have shape (S, N, 3) = ({s}, {n}, 3), got {tuple(a.shape)}")
        if self.properties.shape != (s, n, 1):
            raise ArgumentValueError(f"`properties` must have shape (S, N, 1) = ({s}, {n}, 1), got "
                                     f"{tuple(self.properties.shape)}")
        if self.interval is not None:
            self.interval = positive("interval", self.interval)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def n_bodies(self) -> int:
        return self.x.shape[1]

    def to(self, device=None, dtype=None) -> ParticleData:
        """Move/cast all tensors (``device``, ``dtype`` as for :meth:`torch.Tensor.to`).

        Raises:
            ValueError: an unknown device or dtype (the message is torch's).
        """
        try:
            moved = {k: getattr(self, k).to(device=device, dtype=dtype) for k in ("x", "v", "properties", "target")}
        except (RuntimeError, TypeError) as exc:
            raise ArgumentValueError(f"ParticleData.to(device={device!r}, dtype={dtype!r}): {exc}") from None
        return replace(self, **moved)

    def subset(self, index: Tensor | slice | int) -> ParticleData:
        """The systems ``index`` (a slice, an int count from the start, or an index tensor)."""
        if isinstance(index, int):
            index = slice(0, index)
        return replace(self, x=self.x[index], v=self.v[index], properties=self.properties[index], target=self.target[index])

    def graph(self, index: Tensor | slice | None = None, *, graph: str | int = "full") -> ParticleGraph:
        """The systems ``index`` (all by default) as one :class:`ParticleGraph`.

        Args:
            index: which systems.
            graph: ``"full"`` (every ordered pair, the EGNN protocol) or an int ``k``
                (k-nearest neighbours by position, the SEGNN gravity protocol uses ``k = 6``).
        """
        d = self if index is None else self.subset(index)
        return _graph(d.x, d.v, d.properties, d.target, graph)

    def predict(self, model: ParticleModel, *, batch_size: int = 100, graph: str | int = "full") -> Tensor:
        """``model``'s prediction for every system, in batches without gradients, ``(S, N, 3)``.

        ``model`` is a :class:`~physwm._typing.ParticleModel` called as ``model(x, v, h, edge_index, edge_attr)``.
        """
        positive_int("batch_size", batch_size)
        return self._predict(model, self.x, self.v, batch_size, graph)

    def _predict(self, model: ParticleModel, x: Tensor, v: Tensor, batch_size: int, graph: str | int) -> Tensor:
        out = []
        with torch.no_grad(), inside_checked_call():  # the data are checked finite; so is the result, by the caller
            for start in range(0, len(self), batch_size):
                part = slice(start, start + batch_size)
                g = _graph(x[part], v[part], self.properties[part], x[part], graph)
                out.append(model(*g.inputs()).reshape(g.batch_size, g.n_bodies, 3))
        return torch.cat(out)

    def rollout(self, model: ParticleModel, steps: int, *, batch_size: int = 100, graph: str | int = "full") -> tuple[Tensor, Tensor]:
        r"""Roll a one-shot position model (EGNN, SEGNN) forward autoregressively from the input frame.

        Each step predicts the positions one :attr:`interval` :math:`\Delta` later,
        :math:`x_{k+1} = \mathrm{model}(x_k, v_k, \dots)`, with the graph and its features rebuilt as
        in training (:meth:`graph`: ``h = |v|``, ``edge_attr = c_i c_j``). The model predicts positions
        only, so the next velocity is the secant one, :math:`v_{k+1} = (x_{k+1} - x_k)/\Delta`: the mean
        velocity over the step, a first-order estimate of the velocity at its end (exact for uniform
        motion). The trajectories can then be scored like any other with :mod:`physwm.diagnostics`
        (momenta ``p = m v`` from the secant velocities).

        Args:
            model: a :class:`~physwm._typing.ParticleModel` with position output.
            steps: number of prediction steps.
            batch_size: systems per forward pass.
            graph: ``"full"`` or ``k`` nearest neighbours, as in training.

        Returns:
            positions and velocities ``(steps + 1, S, N, 3)``; index 0 is the input frame. A system whose
            rollout leaves the finite numbers stays NaN from there on (the systems' graphs are disjoint, so
            the others go on), as with :func:`physwm.integrate.rollout`;
            :func:`~physwm.diagnostics.valid_prediction_time` counts those frames as failed.

        Raises:
            ValueError: no :attr:`interval`, or a model whose output is not a position.
        """
        positive_int("steps", steps)
        if self.interval is None:
            raise ArgumentValueError("rollout needs the data's `interval` (time from input to target frame)")
        if getattr(model, "irreps_out", ["cartesian_points"])[0] != "cartesian_points":
            raise ArgumentValueError(f"rollout needs a model that predicts positions (irreps_out = ['cartesian_points']), "
                                     f"got irreps_out = {model.irreps_out}")
        xs, vs = [self.x], [self.v]
        for _ in range(steps):
            # a system that blew up is fed zeros (a k-nearest-neighbour graph cannot be built on NaN) and its
            # prediction set back to NaN, without reading anything back from the device
            bad = ~(torch.isfinite(xs[-1]).all(-1).all(-1) & torch.isfinite(vs[-1]).all(-1).all(-1))[:, None, None]
            nxt = self._predict(model, xs[-1].masked_fill(bad, 0.0), vs[-1].masked_fill(bad, 0.0), batch_size, graph)
            nxt = nxt.masked_fill(bad, float("nan"))
            vs.append((nxt - xs[-1]) / self.interval)
            xs.append(nxt)
        return torch.stack(xs), torch.stack(vs)


def load_nbody_charged(path: str | Path, split: str = "train", *, frame_in: int = 30, frame_out: int = 40,
                       max_samples: int | None = None, dtype: torch.dtype = torch.float32) -> ParticleData:
    """Load one split of the EGNN charged 5-body set (``shared/data/nbody-charged``, see its README).

    The files hold ``loc``/``vel`` of shape ``(S, 49, 3, 5)`` (simulation, frame, xyz, particle) and
    ``charges`` ``(S, 5, 1)``; axes are reordered to particle-major ``(S, 5, 3)``. The benchmark task
    (Satorras et al. 2021, §5.1) predicts positions at frame 40 from positions, velocities and charges
    at frame 30.

    Args:
        path: the folder holding ``train.npz``, ``valid.npz``, ``test.npz``.
        split: ``"train"`` (3000), ``"valid"`` (2000) or ``"test"`` (2000).
        frame_in: input frame index.
        frame_out: target frame index, ``> frame_in``.
        max_samples: keep only the first simulations.
        dtype: floating dtype of the tensors.

    Returns:
        :class:`ParticleData` with ``properties`` = charges.

    Raises:
        FileNotFoundError: no such folder or split file.
        ValueError: unknown split, bad frames.
        DataFormatError: an empty, truncated or corrupt file; arrays missing, of the wrong shape, or
            holding NaN or inf (each message names the file).

    Example:
        >>> data = load_nbody_charged("../shared/data/nbody-charged", "test")  # doctest: +SKIP
        >>> data.x.shape  # doctest: +SKIP
        torch.Size([2000, 5, 3])
    """
    choice("split", split, NBODY_CHARGED_SPLITS)
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"`path` {str(folder)!r} is not a folder (expected one holding {split}.npz)")
    file = folder / f"{split}.npz"
    if not file.is_file():
        raise FileNotFoundError(f"no {split}.npz in {str(folder)!r}")
    try:
        with np.load(file, allow_pickle=False) as z:
            missing = {"loc", "vel", "charges"} - set(z.files)
            if missing:
                raise DataFormatError(f"{file}: missing arrays {sorted(missing)} (has {sorted(z.files)})")
            loc, vel, charges = z["loc"], z["vel"], z["charges"]
    except DataFormatError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise DataFormatError(f"{file}: not a readable .npz archive (empty, truncated or corrupt): "
                              f"{type(exc).__name__}: {exc}") from exc
    for name, a in (("loc", loc), ("vel", vel), ("charges", charges)):
        if not np.issubdtype(a.dtype, np.number):
            raise DataFormatError(f"{file}: `{name}` must hold numbers, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise DataFormatError(f"{file}: `{name}` holds {int((~np.isfinite(a)).sum())} NaN or inf entries of {a.size}")
    if loc.ndim != 4 or loc.shape[2] != 3 or vel.shape != loc.shape:
        raise DataFormatError(f"{file}: `loc` and `vel` must have shape (S, frames, 3, N), got {loc.shape} and {vel.shape}")
    s, n_frames, _, n = loc.shape
    if charges.shape != (s, n, 1):
        raise DataFormatError(f"{file}: `charges` must have shape (S, N, 1) = ({s}, {n}, 1), got {charges.shape}")
    integer("frame_in", frame_in, minimum=0, maximum=n_frames - 2)
    integer("frame_out", frame_out, minimum=frame_in + 1, maximum=n_frames - 1)
    if max_samples is not None:
        s = min(s, positive_int("max_samples", max_samples))

    def frame(a: np.ndarray, k: int) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(a[:s, k].transpose(0, 2, 1))).to(dtype)

    return ParticleData(x=frame(loc, frame_in), v=frame(vel, frame_in),
                        properties=torch.from_numpy(charges[:s]).to(dtype), target=frame(loc, frame_out),
                        interval=(frame_out - frame_in) * CHARGED_FRAME_INTERVAL)


def make_gravity_dataset(n_sims: int, *, n_bodies: int = 100, G: float = 1.0, softening: float = 0.1, dt: float = 0.001,
                         frame_in: int = 30, frame_out: int = 40, frame_every: int = 100,
                         generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                         device: torch.device | str | None = None) -> ParticleData:
    """Gravitational ``N``-body systems in the SEGNN protocol (Brandstetter et al. 2022), simulated by physwm.

    Unit masses, positions and velocities standard normal (centre-of-mass velocity removed),
    Plummer-softened gravity (``G``, ``softening``) integrated by ``leapfrog`` with step ``dt`` in
    float64 via :class:`physwm.systems.NBody`; frame ``k`` is the state at time
    ``k * frame_every * dt``. The task: positions at ``frame_out`` from the state at ``frame_in``
    (defaults: t = 3 -> t = 4).

    Args:
        n_sims: number of systems.
        n_bodies: particles per system.
        G: gravitational constant.
        softening: Plummer softening length.
        dt: leapfrog step (time units).
        frame_in: input frame.
        frame_out: target frame, ``> frame_in``.
        frame_every: steps between frames.
        generator: random generator for the initial states.
        dtype: dtype of the returned tensors (the simulation runs in float64).
        device: device of the simulation and of the returned tensors.

    Returns:
        :class:`ParticleData` with ``properties`` = masses; ``x, v, target`` of shape ``(n_sims, n_bodies, 3)``.

    Raises:
        ValueError: bad counts or frames.

    Example:
        >>> data = make_gravity_dataset(2, n_bodies=10, frame_in=1, frame_out=2)
        >>> data.x.shape
        torch.Size([2, 10, 3])
    """
    import physwm
    from physwm.systems import NBody

    positive_int("n_sims", n_sims), integer("n_bodies", n_bodies, minimum=2), positive_int("frame_every", frame_every)
    integer("frame_in", frame_in, minimum=0), integer("frame_out", frame_out, minimum=frame_in + 1)
    dt = positive("dt", dt)
    system = NBody(torch.ones(n_bodies), G=G, softening=softening)
    q = torch.randn(n_sims, n_bodies, 3, generator=generator, dtype=torch.float64)
    v = torch.randn(n_sims, n_bodies, 3, generator=generator, dtype=torch.float64)
    v = v - v.mean(1, keepdim=True)
    y0 = particles_to_state(q, v).to(device)
    t = torch.tensor([frame_in, frame_out], dtype=torch.float64, device=device) * (frame_every * dt)
    if frame_in > 0:
        t = torch.cat([torch.zeros(1, dtype=t.dtype, device=device), t])
    with torch.no_grad():
        ys = physwm.solve(system, y0, t, method="leapfrog", dt=dt, max_steps=10**8).ys[-2:]
    (q_in, p_in), (q_out, _) = state_to_particles(ys[0], n_bodies), state_to_particles(ys[1], n_bodies)
    return ParticleData(x=q_in, v=p_in, properties=torch.ones(n_sims, n_bodies, 1, dtype=torch.float64, device=device),
                        target=q_out, interval=(frame_out - frame_in) * frame_every * dt).to(dtype=dtype)
