"""Copies nums2 in and calls list.sort: the forbidden shortcut."""


def merge(nums1, m, nums2, n):
    nums1[m:] = nums2
    nums1.sort()
