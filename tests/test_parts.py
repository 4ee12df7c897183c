from branch_crm.engine.parts import pack_branches

BRANCHES = {"Chaoyang": 396_749, "Haidian": 275_654, "Pudong": 327_597}


def test_one_worker_gets_one_part_of_every_branch_the_smallest_first_then_the_largest():
	assert pack_branches(BRANCHES, parts=1, at_least=100_000) == [
		{"branches": ["Haidian", "Chaoyang", "Pudong"], "profiles": 1_000_000}
	]


def test_two_workers_get_two_parts_as_even_as_the_branches_allow_largest_first():
	assert pack_branches(BRANCHES, parts=2, at_least=100_000) == [
		{"branches": ["Haidian", "Pudong"], "profiles": 603_251},
		{"branches": ["Chaoyang"], "profiles": 396_749},
	]


def test_within_a_part_the_smallest_branch_leads_and_the_rest_follow_largest_first():
	sizes = {"A": 50, "B": 400, "C": 10, "D": 300, "E": 200}
	assert pack_branches(sizes, parts=1, at_least=1)[0]["branches"] == ["C", "B", "D", "E", "A"]


def test_never_more_parts_than_branches():
	packed = pack_branches(BRANCHES, parts=8, at_least=100_000)
	assert [part["branches"] for part in packed] == [["Chaoyang"], ["Pudong"], ["Haidian"]]


def test_parts_stay_at_least_the_part_size_where_the_branches_allow():
	small = {f"B{i:02d}": 1_000 for i in range(10)}
	assert len(pack_branches(small, parts=8, at_least=5_000)) == 2
	assert len(pack_branches(small, parts=8, at_least=50_000)) == 1


def test_many_branches_are_spread_evenly_and_each_is_in_exactly_one_part():
	branches = {f"B{i:03d}": 1_000 + 37 * i for i in range(100)}
	packed = pack_branches(branches, parts=8, at_least=10_000)
	assert len(packed) == 8
	assert sorted(b for part in packed for b in part["branches"]) == sorted(branches)
	sizes = [part["profiles"] for part in packed]
	assert sum(sizes) == sum(branches.values())
	assert max(sizes) - min(sizes) <= max(branches.values())


def test_no_branches_no_parts():
	assert pack_branches({}, parts=2, at_least=100) == []
