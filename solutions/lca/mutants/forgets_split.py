"""Textbook recursion with `return left or right`: when p and q are on different sides of a
node it returns the one found on the left instead of the node itself."""


def lowest_common_ancestor(root, p, q):
    if root is None or root is p or root is q:
        return root
    left = lowest_common_ancestor(root.left, p, q)
    right = lowest_common_ancestor(root.right, p, q)
    return left or right
