"""Two loops from the back: merge while both sides have values, then copy nums2's leftover one by one."""


def merge(nums1, m, nums2, n):
    i, j = m - 1, n - 1
    # i + j + 2 values are still to place, so the next free slot from the back is i + j + 1.
    while i >= 0 and j >= 0:
        if nums1[i] <= nums2[j]:
            nums1[i + j + 1] = nums2[j]
            j -= 1
        else:
            nums1[i + j + 1] = nums1[i]
            i -= 1
    while j >= 0:  # nums1's values ran out first: the rest of nums2 goes to the front
        nums1[j] = nums2[j]
        j -= 1
