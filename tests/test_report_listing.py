"""Listing a report's rows in order sorts only the keys; it must list what a full sort would."""

import numpy as np
import pandas as pd
import pytest

from branch_crm.reports.base import every_row_or, limited, listed_in_order


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("limit", [None, 1, 7, 500])
def test_listed_in_order_lists_what_a_full_sort_lists(seed, limit):
	rng = np.random.default_rng(seed)
	n = 300
	score = rng.integers(0, 5, n).astype(float)  # many ties
	score[rng.random(n) < 0.1] = np.nan
	rows = pd.DataFrame(
		{
			"customer": rng.choice([f"C{i:03d}" for i in range(60)], n),
			"score": score,
			"value": rng.integers(0, 3, n) * 1.5,
			"text": [f"row {i}" for i in range(n)],
		},
		index=rng.permutation(n) + 1000,  # not positions
	)
	filters = {"limit": limit} if limit else {}
	ascending = [False, True, True]
	expected = limited(
		rows.sort_values(
			["score", "value", "customer"], ascending=ascending, kind="stable", na_position="last"
		),
		filters,
	)
	listed = listed_in_order(
		rows,
		{"score": rows["score"], "value": rows["value"], "customer": rows["customer"]},
		ascending,
		filters,
		extra={"position": np.arange(n)},
	)
	pd.testing.assert_frame_equal(listed.drop(columns="position"), expected)
	assert (rows.iloc[listed["position"].to_numpy()]["text"].to_numpy() == listed["text"].to_numpy()).all()


def test_every_row_or_copies_only_when_rows_are_left_out():
	frame = pd.DataFrame({"a": [1, 2, 3]})
	assert every_row_or(frame, np.array([True, True, True])) is frame
	assert every_row_or(frame, np.array([True, False, True]))["a"].tolist() == [1, 3]
