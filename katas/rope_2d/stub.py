"""Rotary position embeddings, 1D and MoonViT's 2D, for packed images. Read the task with `kata show rope_2d`."""
import torch


def rope_frequencies(dim: int, base: float = 10000.0) -> torch.Tensor:
    """float64 (dim // 2,): theta_i = base ** (-2i / dim). ValueError unless dim is positive and even."""
    raise NotImplementedError("rope_frequencies: write your solution here")


def apply_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0,
               layout: str = "interleaved") -> torch.Tensor:
    """x (..., T, dim), positions (T,) int64: pair j of token t turns by positions[t] · theta_j.
    layout "interleaved" pairs (2j, 2j+1) (Meta LLaMA); "half" pairs (j, j + dim/2) (HF rotate_half).
    Angles in float64; the result has x's shape and dtype. ValueError for odd dim or another layout."""
    raise NotImplementedError("apply_rope: write your solution here")


def apply_rope_2d(x: torch.Tensor, h_pos: torch.Tensor, w_pos: torch.Tensor,
                  base: float = 10000.0) -> torch.Tensor:
    """MoonViT's 2D RoPE. x (..., T, dim), dim % 4 == 0 (else ValueError); theta_i = base ** (-4i / dim),
    i < dim / 4; interleaved pairs: dims (4i, 4i+1) turn by w_pos · theta_i, (4i+2, 4i+3) by h_pos · theta_i."""
    raise NotImplementedError("apply_rope_2d: write your solution here")


def patch_positions(grid_hw: list) -> tuple:
    """[(h, w), ...] of packed images -> (h_pos (T,) int64, w_pos (T,) int64, cu_seqlens (n + 1,) int32):
    raster order within each image, restarting at 0 per image; cu_seqlens = 0, h1·w1, h1·w1 + h2·w2, ..."""
    raise NotImplementedError("patch_positions: write your solution here")
