def merge(nums1, m, nums2, n):
    head = nums1[:m]
    i = j = 0
    for k in range(m + n):
        if j >= n or (i < m and head[i] <= nums2[j]):
            nums1[k] = head[i]
            i += 1
        else:
            nums1[k] = nums2[j]
            j += 1
