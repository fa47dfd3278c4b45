import heapq


def merge(nums1, m, nums2, n):
    nums1[:] = heapq.merge(nums1[:m], nums2)
