"""Paths from the root: an iterative DFS keeps the current root-to-node path, saves a copy when it
meets p and when it meets q, and the answer is the last node the two paths share."""


def lowest_common_ancestor(root, p, q):
    path, saved = [], {}
    stack = [(root, 0)]
    while stack and len(saved) < 2 - (p is q):
        node, depth = stack.pop()
        del path[depth:]          # back up to this node's parent
        path.append(node)
        if node is p or node is q:
            saved[node] = list(path)
        for child in (node.left, node.right):
            if child is not None:
                stack.append((child, depth + 1))
    to_p, to_q = saved[p], saved[q]
    answer = root
    for a, b in zip(to_p, to_q):
        if a is not b:
            break
        answer = a
    return answer
