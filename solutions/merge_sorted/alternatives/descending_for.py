"""One for loop over the write slots from the back, stopping as soon as nums2 is used up."""


def merge(nums1: list, m: int, nums2: list, n: int) -> None:
    i, j = m, n  # counts of values not yet placed
    for slot in reversed(range(m + n)):
        if j == 0:
            return  # what is left of nums1 already sits in place
        if i and nums1[i - 1] > nums2[j - 1]:
            i -= 1
            nums1[slot] = nums1[i]
        else:
            j -= 1
            nums1[slot] = nums2[j]
