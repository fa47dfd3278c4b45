"""Handles m == 0 by rebinding the local name nums1, which leaves the caller's list untouched."""


def merge(nums1, m, nums2, n):
    if n == 0:
        return
    if m == 0:
        nums1 = nums2[:]
        return
    i, j, k = m - 1, n - 1, m + n - 1
    while j >= 0:
        if i >= 0 and nums1[i] > nums2[j]:
            nums1[k] = nums1[i]
            i -= 1
        else:
            nums1[k] = nums2[j]
            j -= 1
        k -= 1
