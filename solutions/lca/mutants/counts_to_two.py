"""Waits until two targets have been found; when p is q only one node ever matches, so it
never answers and returns None."""


def lowest_common_ancestor(root, p, q):
    parent = {root: None}
    stack = [root]
    found = 0
    while stack and found < 2:
        node = stack.pop()
        if node is p or node is q:
            found += 1
        for child in (node.left, node.right):
            if child is not None:
                parent[child] = node
                stack.append(child)
    if found < 2:
        return None
    ancestors = set()
    while p is not None:
        ancestors.add(p)
        p = parent[p]
    while q not in ancestors:
        q = parent[q]
    return q
