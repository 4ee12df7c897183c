import pandas as pd

from branch_crm.engine.masking import mask_id_numbers, mask_mobiles, mask_one


def test_id_numbers_keep_their_last_four_characters():
	masked = mask_id_numbers(pd.Series(["110105198005170001", "E12345678", " 11010519800517001X "]))
	assert masked.tolist() == ["**************0001", "*****5678", "**************001X"]


def test_mobiles_keep_the_first_three_and_last_four_digits():
	assert mask_mobiles(pd.Series(["13800138000", "+8613800138000"])).tolist() == [
		"138****8000",
		"+86*******8000",
	]


def test_short_empty_and_missing_values():
	assert mask_id_numbers(pd.Series(["1234", "", None, float("nan")])).tolist() == ["****", None, None, None]
	assert mask_mobiles(pd.Series(["1234567"])).tolist() == ["*******"]


def test_masking_keeps_the_index_and_one_value_masks_alike():
	values = pd.Series(["13800138000", "13911110000"], index=[7, 3])
	masked = mask_mobiles(values)
	assert masked.index.tolist() == [7, 3]
	assert mask_one("13911110000", "mobile_no") == masked[3] == "139****0000"
	assert mask_one(None, "id_number") is None
