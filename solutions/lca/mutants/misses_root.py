"""Collects p's ancestors with `while parent[p] is not None`, which stops below the root: when
the answer is the root, the climb from q runs off the top of the tree."""


def lowest_common_ancestor(root, p, q):
    parent = {root: None}
    stack = [root]
    while p not in parent or q not in parent:
        node = stack.pop()
        for child in (node.left, node.right):
            if child is not None:
                parent[child] = node
                stack.append(child)
    ancestors = set()
    while parent[p] is not None:
        ancestors.add(p)
        p = parent[p]
    while q not in ancestors:
        q = parent[q]
    return q
