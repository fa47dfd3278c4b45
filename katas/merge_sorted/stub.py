"""Merge two sorted arrays in place. Read the task with `kata show merge_sorted`."""


def merge(nums1: list[int], m: int, nums2: list[int], n: int) -> None:
    """Merge nums2 into nums1, in place, so nums1 holds all m + n values in non-decreasing order.

    nums1 has length m + n: its first m values are sorted, its last n slots hold arbitrary values
    that you may overwrite. nums2 holds n sorted values and must not change. Return None.
    Use O(1) extra space and O(m + n) time; `sorted` and `list.sort` are not allowed.
    """
    raise NotImplementedError("merge: write your solution here")
