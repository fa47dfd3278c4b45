def lowest_common_ancestor(root, p, q):
    stack, paths = [(root, [root])], {}
    while stack:
        node, path = stack.pop()
        if node is p:
            paths["p"] = path
        if node is q:
            paths["q"] = path
        if len(paths) == 2:
            break
        for child in (node.left, node.right):
            if child is not None:
                stack.append((child, path + [child]))
    answer = root
    for a, b in zip(paths["p"], paths["q"]):
        if a is not b:
            break
        answer = a
    return answer
