def merge(nums1, m, nums2, n):
    del nums1[m:]
    i = 0
    for v in nums2:
        while i < len(nums1) and nums1[i] <= v:
            i += 1
        nums1.insert(i, v)
        i += 1
