"""Euler tour: walk the tree iteratively, listing every node each time the walk is at it with
its depth; the LCA is the shallowest entry between the first visits of p and q."""


def lowest_common_ancestor(root, p, q):
    tour, depths, first = [], [], {}
    stack = [(root, 0, False)]
    while stack:
        node, depth, returning = stack.pop()
        tour.append(node)
        depths.append(depth)
        if returning:
            continue
        first[node] = len(tour) - 1
        # Children are visited after the node, and the walk comes back to it after each one.
        for child in (node.right, node.left):
            if child is not None:
                stack.append((node, depth, True))
                stack.append((child, depth + 1, False))
    a, b = sorted((first[p], first[q]))
    best = min(range(a, b + 1), key=depths.__getitem__)
    return tour[best]
