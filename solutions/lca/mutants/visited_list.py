"""Breadth-first search with a `visited` list out of graph habit: `child in visited` rescans it,
so the search is O(n^2) inside C."""


def lowest_common_ancestor(root, p, q):
    parent = {root: None}
    visited = [root]
    queue = [root]
    i = 0
    while p not in parent or q not in parent:
        node = queue[i]
        i += 1
        for child in (node.left, node.right):
            if child is not None and child not in visited:
                visited.append(child)
                parent[child] = node
                queue.append(child)
    ancestors = set()
    while p is not None:
        ancestors.add(p)
        p = parent[p]
    while q not in ancestors:
        q = parent[q]
    return q
