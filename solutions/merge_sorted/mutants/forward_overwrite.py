def merge(nums1, m, nums2, n):
    i = j = k = 0
    while j < n:
        if i < m + j and nums1[i] <= nums2[j]:
            i += 1
        else:
            nums1[k if k > i else i] = nums2[j]
            i += 1
            j += 1
        k += 1
