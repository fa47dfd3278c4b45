"""Reference solution for lca: map each node to its parent, then climb from p and from q.

No recursion (a chain can be 10^5 deep), O(n) time and space, and the tree is only read.
Nodes hash by identity, so they can be dict keys and set members directly.
"""


def lowest_common_ancestor(root, p, q):
    # Walk down from the root, remembering every node's parent, until both p and q are seen.
    parent = {root: None}
    stack = [root]
    while p not in parent or q not in parent:
        node = stack.pop()
        for child in (node.left, node.right):
            if child is not None:
                parent[child] = node
                stack.append(child)
    # p's ancestors, p included (a node is its own ancestor) ...
    ancestors = set()
    while p is not None:
        ancestors.add(p)
        p = parent[p]
    # ... and the first of q's ancestors (q included) among them is the answer.
    while q not in ancestors:
        q = parent[q]
    return q
