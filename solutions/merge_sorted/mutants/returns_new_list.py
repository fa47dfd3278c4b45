def merge(nums1, m, nums2, n):
    out, i, j = [], 0, 0
    while i < m or j < n:
        if j >= n or (i < m and nums1[i] <= nums2[j]):
            out.append(nums1[i])
            i += 1
        else:
            out.append(nums2[j])
            j += 1
    return out
