def _contains(top, target):
    stack = [top]
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if node is not None:
            stack.append(node.left)
            stack.append(node.right)
    return False


def lowest_common_ancestor(root, p, q):
    node = root
    while True:
        if node is p or node is q:
            return node
        p_left, q_left = _contains(node.left, p), _contains(node.left, q)
        if p_left and q_left:
            node = node.left
        elif not p_left and not q_left:
            node = node.right
        else:
            return node
