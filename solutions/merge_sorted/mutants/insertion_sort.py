def merge(nums1, m, nums2, n):
    for j in range(n):
        nums1[m + j] = nums2[j]
    for a in range(m, m + n):
        v = nums1[a]
        b = a - 1
        while b >= 0 and nums1[b] > v:
            nums1[b + 1] = nums1[b]
            b -= 1
        nums1[b + 1] = v
