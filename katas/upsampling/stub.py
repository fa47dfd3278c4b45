"""Upsampling: pixel shuffle, interpolate, transposed convolution. Read the task with `kata show upsampling`."""
import torch


def pixel_shuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """(N, C·r², H, W) -> (N, C, H·r, W·r) in torch's layout:
    out[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w]. ValueError if C·r² is not divisible by r²."""
    raise NotImplementedError("pixel_shuffle: write your solution here")


def pixel_unshuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """The inverse of pixel_shuffle: (N, C, H·r, W·r) -> (N, C·r², H, W).
    ValueError if H or W is not divisible by r."""
    raise NotImplementedError("pixel_unshuffle: write your solution here")


def interpolate(x: torch.Tensor, size=None, scale_factor=None, mode: str = "bilinear",
                align_corners=None) -> torch.Tensor:
    """torch.nn.functional.interpolate for (N, C, H, W) input, modes "bilinear", "nearest" and
    "nearest-exact", with recompute_scale_factor=None and antialias=False. Exactly one of size
    (int or (h, w)) and scale_factor (number or pair) is given; align_corners only for bilinear."""
    raise NotImplementedError("interpolate: write your solution here")


def conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0,
                     output_padding=0, dilation=1) -> torch.Tensor:
    """torch.nn.functional.conv_transpose2d with groups = 1: x (N, C_in, H, W), weight
    (C_in, C_out, kH, kW), bias (C_out,) or None; stride, padding, output_padding, dilation are
    ints or pairs. ValueError if output_padding is not smaller than stride or dilation."""
    raise NotImplementedError("conv_transpose2d: write your solution here")
