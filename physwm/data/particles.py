"""Particle datasets for equivariant GNNs: the EGNN charged 5-body set and the SEGNN gravity 100-body protocol."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from physwm._errors import DataFormatError
from physwm.nn.graph import fully_connected_graph, knn_graph

__all__ = ["ParticleData", "ParticleGraph", "load_nbody_charged", "make_gravity_dataset", "NBODY_CHARGED_SPLITS",
           "PUBLISHED_CHARGED_MSE", "PUBLISHED_GRAVITY_SEGNN_MSE"]

#: Number of simulations per split of the EGNN charged set, as stored in ``shared/data/nbody-charged``.
NBODY_CHARGED_SPLITS = {"train": 3000, "valid": 2000, "test": 2000}
#: Test MSE of position at frame 40 from frame 30 (EGNN paper Table 2; SEGNN paper).
PUBLISHED_CHARGED_MSE = {"Linear": 0.0819, "SE(3)-Transformer": 0.0244, "TFN": 0.0155, "GNN": 0.0107,
                         "Radial Field": 0.0104, "EGNN": 0.0071, "SEGNN": 0.0043}
#: SEGNN paper, gravity 100-body, position MSE.
PUBLISHED_GRAVITY_SEGNN_MSE = 0.265


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


@dataclass
class ParticleData:
    """Input and target states of ``S`` particle systems of ``N`` bodies.

    Attributes:
        x: positions at the input frame ``(S, N, 3)``.
        v: velocities at the input frame ``(S, N, 3)``.
        properties: one scalar per particle ``(S, N, 1)``: charge (charged set) or mass (gravity).
        target: positions at the target frame ``(S, N, 3)``.
    """

    x: Tensor
    v: Tensor
    properties: Tensor
    target: Tensor

    def __post_init__(self):
        s, n = self.x.shape[:2] if self.x.dim() == 3 else (-1, -1)
        for name in ("x", "v", "target"):
            a = getattr(self, name)
            if a.shape != (s, n, 3):
                raise ValueError(f"`{name}` must have shape (S, N, 3) = ({s}, {n}, 3), got {tuple(a.shape)}")
        if self.properties.shape != (s, n, 1):
            raise ValueError(f"`properties` must have shape (S, N, 1) = ({s}, {n}, 1), got {tuple(self.properties.shape)}")

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def n_bodies(self) -> int:
        return self.x.shape[1]

    def to(self, device=None, dtype=None) -> ParticleData:
        return ParticleData(*(a.to(device=device, dtype=dtype) for a in (self.x, self.v, self.properties, self.target)))

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
        bsz, n = d.x.shape[:2]
        if graph == "full":
            edge_index = fully_connected_graph(n, bsz, device=d.x.device)
        else:
            edge_index = knn_graph(d.x, graph)
        prop = d.properties.reshape(-1, 1)
        v = d.v.reshape(-1, 3)
        return ParticleGraph(x=d.x.reshape(-1, 3), v=v, h=v.norm(dim=-1, keepdim=True), edge_index=edge_index,
                             edge_attr=prop[edge_index[0]] * prop[edge_index[1]], target=d.target.reshape(-1, 3),
                             batch_size=bsz, n_bodies=n)


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
        DataFormatError: arrays missing or of the wrong shape.

    Example:
        >>> data = load_nbody_charged("../shared/data/nbody-charged", "test")  # doctest: +SKIP
        >>> data.x.shape  # doctest: +SKIP
        torch.Size([2000, 5, 3])
    """
    if split not in NBODY_CHARGED_SPLITS:
        raise ValueError(f"`split` must be one of {sorted(NBODY_CHARGED_SPLITS)}, got {split!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"`path` {str(folder)!r} is not a folder (expected one holding {split}.npz)")
    file = folder / f"{split}.npz"
    if not file.is_file():
        raise FileNotFoundError(f"no {split}.npz in {str(folder)!r}")
    with np.load(file) as z:
        missing = {"loc", "vel", "charges"} - set(z.files)
        if missing:
            raise DataFormatError(f"{file}: missing arrays {sorted(missing)} (has {sorted(z.files)})")
        loc, vel, charges = z["loc"], z["vel"], z["charges"]
    if loc.ndim != 4 or loc.shape[2] != 3 or vel.shape != loc.shape:
        raise DataFormatError(f"{file}: `loc` and `vel` must have shape (S, frames, 3, N), got {loc.shape} and {vel.shape}")
    s, n_frames, _, n = loc.shape
    if charges.shape != (s, n, 1):
        raise DataFormatError(f"{file}: `charges` must have shape (S, N, 1) = ({s}, {n}, 1), got {charges.shape}")
    for name, f in (("frame_in", frame_in), ("frame_out", frame_out)):
        if isinstance(f, bool) or not isinstance(f, int) or not 0 <= f < n_frames:
            raise ValueError(f"`{name}` must be an int in [0, {n_frames - 1}], got {f!r}")
    if not frame_out > frame_in:
        raise ValueError(f"`frame_out` ({frame_out}) must come after `frame_in` ({frame_in})")
    if max_samples is not None:
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"`max_samples` must be a positive int or None, got {max_samples!r}")
        s = min(s, max_samples)

    def frame(a: np.ndarray, k: int) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(a[:s, k].transpose(0, 2, 1))).to(dtype)

    return ParticleData(x=frame(loc, frame_in), v=frame(vel, frame_in),
                        properties=torch.from_numpy(charges[:s]).to(dtype), target=frame(loc, frame_out))


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

    for name, v, lo in (("n_sims", n_sims, 1), ("n_bodies", n_bodies, 2), ("frame_every", frame_every, 1),
                        ("frame_in", frame_in, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"`{name}` must be an int >= {lo}, got {v!r}")
    if isinstance(frame_out, bool) or not isinstance(frame_out, int) or frame_out <= frame_in:
        raise ValueError(f"`frame_out` must be an int > frame_in = {frame_in}, got {frame_out!r}")
    system = NBody(torch.ones(n_bodies), G=G, softening=softening)
    q = torch.randn(n_sims, n_bodies, 3, generator=generator, dtype=torch.float64)
    v = torch.randn(n_sims, n_bodies, 3, generator=generator, dtype=torch.float64)
    v = v - v.mean(1, keepdim=True)
    y0 = NBody.merge(q, v).to(device)
    t = torch.tensor([frame_in, frame_out], dtype=torch.float64, device=device) * (frame_every * dt)
    if frame_in > 0:
        t = torch.cat([torch.zeros(1, dtype=t.dtype, device=device), t])
    with torch.no_grad():
        ys = physwm.solve(system, y0, t, method="leapfrog", dt=dt, max_steps=10**8).ys[-2:]
    (q_in, p_in), (q_out, _) = system.split_particles(ys[0]), system.split_particles(ys[1])
    return ParticleData(x=q_in, v=p_in, properties=torch.ones(n_sims, n_bodies, 1, dtype=torch.float64, device=device),
                        target=q_out).to(dtype=dtype)
