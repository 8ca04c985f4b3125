"""Where a training run executes: its device, its rank among ``torchrun``'s processes, and the
process-wide torch switches it sets for its duration and puts back when it ends."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from reid.errors import ReidError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` is the GPU when there is one (this rank's, under torchrun), else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":  # under torchrun each rank takes its own GPU
        name = f"cuda:{local_rank}"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ReidError(f"--device {name}: no CUDA device is available here")
    return device


def recorded_device(choice: str, device: torch.device) -> str:
    """The ``device`` value to record: what ``auto`` chose (cuda or cpu; each rank adds its own index)."""
    return device.type if choice == "auto" else choice


@dataclass(frozen=True)
class DistributedContext:
    """This process's place among the ranks that ``torchrun`` started (one rank without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> "DistributedContext":
        """Read what ``torchrun`` put in the environment; joins nothing yet (see ``join_process_group``)."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size == 1:
            return cls()
        return cls(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))


def join_process_group(ctx: DistributedContext, device: torch.device) -> None:
    """Join the process group of ``ctx``'s ranks: NCCL for GPUs, gloo for CPUs; nothing for one rank."""
    if ctx.world_size == 1:
        return
    use_nccl = device.type == "cuda"
    if use_nccl:
        torch.cuda.set_device(ctx.local_rank)
    if not dist.is_initialized():
        # rank 0 evaluates while the others wait at the next collective: allow for a long evaluation
        dist.init_process_group("nccl" if use_nccl else "gloo", timeout=timedelta(hours=2))


def leave_process_group(ctx: DistributedContext) -> None:
    """Leave together: rank 0 may still be evaluating when the others finish."""
    if ctx.world_size > 1:
        dist.barrier()
        dist.destroy_process_group()


def agreed_by_rank0(flag: bool, ctx: DistributedContext, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank, so that every rank takes the same decision (such as to stop)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([float(flag)], device=device)  # NCCL broadcasts device tensors only
    dist.broadcast(value, src=0)
    return bool(value.item())


def mean_over_ranks(sums: dict[str, float], batches: int, ctx: DistributedContext,
                    device: torch.device) -> dict[str, float]:
    """Per-batch means of summed values (the loss parts) over every rank's batches, not over rank 0's alone."""
    keys = sorted(sums)
    totals = torch.tensor([sums[k] for k in keys] + [float(batches)], dtype=torch.float64)
    if ctx.world_size > 1:
        totals = totals.to(device)  # NCCL reduces device tensors only
        dist.all_reduce(totals)
        totals = totals.cpu()
    count = max(float(totals[-1]), 1.0)
    return {key: float(total) / count for key, total in zip(keys, totals[:-1])}


class DeterminismFlags:
    """torch's process-wide determinism switches: set for a run, put back as they were when it ends."""

    def __init__(self, deterministic: bool, device: torch.device):
        self.saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark,
                      os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
        if deterministic and device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS requires
        torch.use_deterministic_algorithms(deterministic)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = not deterministic

    def restore(self) -> None:
        algorithms, benchmark, workspace = self.saved
        torch.use_deterministic_algorithms(algorithms)
        torch.backends.cudnn.benchmark = benchmark
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace
