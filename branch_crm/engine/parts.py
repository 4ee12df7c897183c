"""How a night's branch-wise stages are split into parts (pure; ``jobs.pipeline`` runs them).

A branch cannot be split (its customers are each other's peers), and a part of several branches
overlaps one branch's write with the next one's read, so a stage wants as few parts as keep its
workers busy: one per worker, never smaller than the night's part size.
"""

from __future__ import annotations


def pack_branches(profiles: dict[str, int], parts: int, at_least: int) -> list[dict]:
	"""``profiles`` (branch → its profiles) packed into at most ``parts`` parts of at least
	``at_least`` profiles each where the branches allow it, as even as they can be: the largest
	branch first into the part with the fewest profiles so far. Each part is
	``{"branches": [...], "profiles": n}``; the largest part comes first, so that it starts first
	when there are workers for several.

	Within a part the smallest branch comes first and the others follow largest first: a part
	reads each branch while it writes the one before, so only the first branch's read and the last
	one's screening and write overlap nothing, and both are then as short as the part allows."""
	total = sum(profiles.values())
	count = max(1, min(parts, len(profiles), total // max(at_least, 1) or 1))
	bins: list[dict] = [{"branches": [], "profiles": 0} for _ in range(count)]
	for branch, size in sorted(profiles.items(), key=lambda item: (-item[1], item[0])):
		lightest = min(bins, key=lambda part: part["profiles"])
		lightest["branches"].append(branch)  # largest first
		lightest["profiles"] += size
	for part in bins:
		if part["branches"]:
			part["branches"].insert(0, part["branches"].pop())  # the smallest first
	return sorted((part for part in bins if part["branches"]), key=lambda part: -part["profiles"])
