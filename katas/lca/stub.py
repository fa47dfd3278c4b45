"""Lowest common ancestor in a binary tree. Read the task with `kata show lca`."""
from __future__ import annotations


class TreeNode:
    """A node like the checker's, for your own experiments: only val, left and right exist."""
    __slots__ = ("val", "left", "right")

    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right


def lowest_common_ancestor(root: TreeNode, p: TreeNode, q: TreeNode) -> TreeNode:
    """Return the lowest node of the tree that has both p and q as descendants.

    p and q are nodes of the tree (possibly the same node); a node is a descendant of itself.
    Return the node object itself, not its value, and leave the tree exactly as it was.
    The tree may be a chain 10^5 deep: Python's recursion limit (1000) is not enough for it.
    """
    raise NotImplementedError("lowest_common_ancestor: write your solution here")
