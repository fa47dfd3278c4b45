def merge(nums1, m, nums2, n):
    nums1[n:] = nums1[:m]
    i, j = n, 0
    for k in range(m + n):
        if j >= n or (i < m + n and nums1[i] <= nums2[j]):
            nums1[k] = nums1[i]
            i += 1
        else:
            nums1[k] = nums2[j]
            j += 1
