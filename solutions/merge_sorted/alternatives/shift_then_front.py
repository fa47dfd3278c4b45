"""Index arithmetic from the front: move nums1's values to the back in place (last first, so
nothing is overwritten unread), then merge forwards into the freed front."""


def merge(nums1, m, nums2, n):
    for t in range(m - 1, -1, -1):
        nums1[t + n] = nums1[t]
    a, b = n, 0            # next unread value of nums1 (now at the back) and of nums2
    end = m + n
    for out in range(end):
        # The write position never passes a: out = (a - n) + b <= a.
        if b < n and (a == end or nums2[b] < nums1[a]):
            nums1[out] = nums2[b]
            b += 1
        else:
            nums1[out] = nums1[a]
            a += 1
