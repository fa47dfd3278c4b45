def lowest_common_ancestor(root, p, q):
    cur, depth = root, 0
    first = best = None
    best_depth = 0
    while cur is not None:
        if cur.left is not None:
            pred, steps = cur.left, 1
            while pred.right is not None and pred.right is not cur:
                pred, steps = pred.right, steps + 1
            if pred.right is None:
                pred.right = cur  # thread back, to return here after the left subtree
                cur, depth = cur.left, depth + 1
                continue
            pred.right = None
            depth -= steps + 1  # came back up the thread from pred
        # cur is visited here, in in-order.
        if first is None:
            if cur is p or cur is q:
                first, best, best_depth = cur, cur, depth
                if p is q:
                    return cur
        else:
            if depth < best_depth:
                best, best_depth = cur, depth
            if cur is p or cur is q:
                return best
        cur, depth = cur.right, depth + 1
    return best
