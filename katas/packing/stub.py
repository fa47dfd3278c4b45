"""Sequence packing and padding removal. Read the task with `kata show packing`."""
import torch


def pack_greedy(lengths: list[int], capacity: int) -> list[list[int]]:
    """Next-fit in input order: bins of sample indices, each summing to ≤ capacity; a sample that
    does not fit the current bin closes it and opens a new one. ValueError for a length ≤ 0,
    a length > capacity, or capacity ≤ 0."""
    raise NotImplementedError("pack_greedy: write your solution here")


def pack_ffd(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit decreasing: samples by length descending (ties: lower index first), each into the
    first open bin with room, else a new bin. Bins in the order they were opened. Same errors."""
    raise NotImplementedError("pack_ffd: write your solution here")


def collate_packed(samples: list[list[int]], bins: list[list[int]], capacity: int, pad_id: int = 0) -> dict:
    """One row per bin: the bin's samples concatenated in bin order, right-padded to capacity.
    Returns input_ids, attention_mask, position_ids, labels ((rows, capacity) int64),
    cu_seqlens (int32, (num_samples + 1,)) and max_seqlen (a Python int)."""
    raise NotImplementedError("collate_packed: write your solution here")


def unpad_input(hidden: torch.Tensor, attention_mask: torch.Tensor):
    """(hidden (B, L, ...), mask (B, L)) -> (hidden at the mask's tokens (T, ...), indices (T,) int64
    into the flattened B·L positions, cu_seqlens (B + 1,) int32, max_seqlen int)."""
    raise NotImplementedError("unpad_input: write your solution here")


def pad_input(unpadded: torch.Tensor, indices: torch.Tensor, batch: int, seqlen: int) -> torch.Tensor:
    """Scatter (T, ...) rows back to their positions in zeros of shape (batch, seqlen, ...)."""
    raise NotImplementedError("pad_input: write your solution here")


def varlen_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor,
                     causal: bool = False) -> torch.Tensor:
    """q, k, v (T, heads, d): segment [cu[i], cu[i+1]) attends only within itself, scale 1/sqrt(d),
    causal within the segment if asked. Returns (T, heads, d)."""
    raise NotImplementedError("varlen_attention: write your solution here")
