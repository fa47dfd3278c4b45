def lowest_common_ancestor(root, p, q):
    # Post-order with an explicit stack; found[node] = how many of p, q lie strictly below it.
    found = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if node is None:
            continue
        if not done:
            stack += [(node, True), (node.left, False), (node.right, False)]
            continue
        left = found.get(node.left, 0) if node.left else 0
        right = found.get(node.right, 0) if node.right else 0
        if left and right:
            return node
        found[node] = left + right + (node is p) + (node is q)
    return None
