"""Breadth-first with a deque: parent and depth of every node, then lift the deeper of p and q to
the other's depth and climb both together until they meet."""
from collections import deque


def lowest_common_ancestor(root, p, q):
    parent, depth = {root: None}, {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in (node.left, node.right):
            if child is not None:
                parent[child] = node
                depth[child] = depth[node] + 1
                queue.append(child)
    while depth[p] > depth[q]:
        p = parent[p]
    while depth[q] > depth[p]:
        q = parent[q]
    while p is not q:
        p, q = parent[p], parent[q]
    return p
