"""nums1[:] = heapq.merge(nums1[:m], nums2): right values in linear time, but a copy of nums1's
values and a whole new list of m + n values before the slice assignment."""
import heapq


def merge(nums1, m, nums2, n):
    nums1[:] = heapq.merge(nums1[:m], nums2)
