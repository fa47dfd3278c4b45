"""Two loops from the back: merge while both sides have values, then copy nums2's leftover one by one."""


def merge(nums1, m, nums2, n):
    i, j, k = m - 1, n - 1, m + n - 1
    while i >= 0 and j >= 0:
        if nums1[i] <= nums2[j]:
            nums1[k] = nums2[j]
            j -= 1
        else:
            nums1[k] = nums1[i]
            i -= 1
        k -= 1
    while j >= 0:  # nums1's values ran out first: the rest of nums2 goes to the front
        nums1[j] = nums2[j]
        j -= 1
