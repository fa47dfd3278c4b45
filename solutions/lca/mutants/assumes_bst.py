"""Treats the tree as a binary search tree (LeetCode 235): walks down by comparing values."""


def lowest_common_ancestor(root, p, q):
    node = root
    while node is not None:
        if p.val < node.val and q.val < node.val:
            node = node.left
        elif p.val > node.val and q.val > node.val:
            node = node.right
        else:
            return node
    return root
