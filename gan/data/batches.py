"""A stateless batch order: which images make batch `step` is a pure function of (seed, step)."""

from __future__ import annotations

import torch


class BatchOrder:
    """Epoch-wise shuffled batches whose order is a pure function of (seed, step): resuming at step s needs
    nothing but s. The last partial batch of an epoch is dropped, as DataLoader(drop_last=True) does."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the data set ({n} images)")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = n // batch_size
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)  # fits int64 for any seed
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm[i * self.batch_size : (i + 1) * self.batch_size]
