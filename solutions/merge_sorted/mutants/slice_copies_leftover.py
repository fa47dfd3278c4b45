"""Back-to-front merge that finishes with nums1[:j + 1] = nums2[:j + 1]: the slice is a new list
of everything left in nums2 (all of it when nums2's values are all below nums1's, or m = 0)."""


def merge(nums1, m, nums2, n):
    i, j, k = m - 1, n - 1, m + n - 1
    while i >= 0 and j >= 0:
        if nums1[i] > nums2[j]:
            nums1[k] = nums1[i]
            i -= 1
        else:
            nums1[k] = nums2[j]
            j -= 1
        k -= 1
    nums1[:j + 1] = nums2[:j + 1]
