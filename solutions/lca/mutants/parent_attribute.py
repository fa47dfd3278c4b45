"""Stores a parent pointer on every node: the nodes have only val, left and right, so setting
.parent raises AttributeError."""


def lowest_common_ancestor(root, p, q):
    root.parent = None
    stack = [root]
    while stack:
        node = stack.pop()
        for child in (node.left, node.right):
            if child is not None:
                child.parent = node
                stack.append(child)
    ancestors = set()
    while p is not None:
        ancestors.add(p)
        p = p.parent
    while q not in ancestors:
        q = q.parent
    return q
