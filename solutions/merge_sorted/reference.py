"""Reference solution for merge_sorted: fill nums1 from the back, where the free slots are."""


def merge(nums1: list[int], m: int, nums2: list[int], n: int) -> None:
    i, j, k = m - 1, n - 1, m + n - 1
    while j >= 0:
        # Take from nums1 only while it has values left and its largest beats nums2's.
        if i >= 0 and nums1[i] > nums2[j]:
            nums1[k] = nums1[i]
            i -= 1
        else:
            nums1[k] = nums2[j]
            j -= 1
        k -= 1
    # When nums2 is used up, nums1[0..i] is already in place.
