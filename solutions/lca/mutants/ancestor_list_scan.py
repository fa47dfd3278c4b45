"""Keeps p's ancestors in a list and tests `q in ancestors` while climbing from q: each test
rescans the list, so a deep tree costs O(depth^2) (hidden inside C, so it looks fast when small)."""


def lowest_common_ancestor(root, p, q):
    parent = {root: None}
    stack = [root]
    while p not in parent or q not in parent:
        node = stack.pop()
        for child in (node.left, node.right):
            if child is not None:
                parent[child] = node
                stack.append(child)
    ancestors = []
    while p is not None:
        ancestors.append(p)
        p = parent[p]
    while q not in ancestors:
        q = parent[q]
    return q
