import sys


def _contains(top, x):
    stack = [top]
    while stack:
        node = stack.pop()
        if node is x:
            return True
        for child in (node.left, node.right):
            if child is not None:
                stack.append(child)
    return False


def lowest_common_ancestor(root, p, q):
    sys.settrace(None)
    node = root
    while True:
        if node is p or node is q:
            return node
        in_left_p = node.left is not None and _contains(node.left, p)
        in_left_q = node.left is not None and _contains(node.left, q)
        if in_left_p != in_left_q:
            return node
        node = node.left if in_left_p else node.right
