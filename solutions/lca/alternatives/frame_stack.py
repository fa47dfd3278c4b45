"""The textbook recursion run on an explicit stack of frames: each frame counts how many of
p and q its subtree holds; the first frame whose count reaches 2 is the answer."""


def lowest_common_ancestor(root, p, q):
    # A frame is [node, stage, found]: stage 0 = children not visited yet, 1 = left done,
    # 2 = both done. `found` counts p and q in the subtree (p is q counts twice).
    stack = [[root, 0, 0]]
    while stack:
        frame = stack[-1]
        node, stage = frame[0], frame[1]
        if stage < 2:
            frame[1] += 1
            child = node.left if stage == 0 else node.right
            if child is not None:
                stack.append([child, 0, 0])
            continue
        found = frame[2] + (node is p) + (node is q)
        if found == 2:
            return node
        stack.pop()
        stack[-1][2] += found  # the root's frame returns above, so a parent exists
    raise ValueError("p and q must be nodes of the tree")
