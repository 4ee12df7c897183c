"""A realistic synthetic bank-branch network: branches, staff, products, customers, holdings and
monthly snapshots in the intake shapes of ``schema``, plus the planted patterns (``truth``) that the
needs-screening and churn features must find.

Used by the offline CLI, the site's ``demo-data`` command and the benchmarks, so everything is
vectorised with numpy: a million customers by 24 months generates in seconds.

Frame conventions (the same as ``engine.io`` produces when it reads the CSV files):

- every date column (``month``, ``date_of_birth``, ``acquired_on``, ``opened_on``, ``matures_on``,
  ``drift_start``) is ``datetime64[ns]``; months are first-of-month; a missing date is ``NaT``;
- text columns are ``object`` with ``None`` for no value; amounts are ``float64`` rounded to cents;
  counts are ``int32``; ``do_not_contact`` is ``int8`` 0/1;
- rows are ordered by customer (and month), customer numbers run in order of acquisition, so a
  referrer always has a lower number than the customer they referred.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from branch_crm.engine import schema
from branch_crm.engine.defaults import DEFAULT_PRODUCTS
from branch_crm.roles import ROLE_TYPE_TO_ROLE

PATTERNS = ("none", "drifting", "merchant", "salary_elsewhere")
# share of all customers that carries each planted pattern
PATTERN_SHARES = {"drifting": 0.06, "merchant": 0.02, "salary_elsewhere": 0.08}

# (branch, e-mail slug, city, district, 6-digit administrative code used in ID numbers)
BRANCH_CATALOGUE = (
	("Chaoyang Branch", "chaoyang", "北京市", "朝阳区", 110105),
	("Haidian Branch", "haidian", "北京市", "海淀区", 110108),
	("Pudong Branch", "pudong", "上海市", "浦东新区", 310115),
	("Xuhui Branch", "xuhui", "上海市", "徐汇区", 310104),
	("Tianhe Branch", "tianhe", "广州市", "天河区", 440106),
	("Futian Branch", "futian", "深圳市", "福田区", 440304),
	("Nanshan Branch", "nanshan", "深圳市", "南山区", 440305),
	("Xihu Branch", "xihu", "杭州市", "西湖区", 330106),
	("Jinjiang Branch", "jinjiang", "成都市", "锦江区", 510104),
	("Gulou Branch", "gulou", "南京市", "鼓楼区", 320106),
	("Yuzhong Branch", "yuzhong", "重庆市", "渝中区", 500103),
	("Jiang'an Branch", "jiangan", "武汉市", "江岸区", 420102),
)
# birthplaces of customers who moved to the branch's city
OTHER_REGIONS = np.array(
	[130102, 140105, 210102, 230103, 340102, 350102, 360102, 370102, 410105, 430102, 450103, 610103]
)

SURNAMES = np.array(
	list(
		"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
	)
)
MALE_GIVEN = np.array(
	list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳晨博文志建国峰亮成东")
)
FEMALE_GIVEN = np.array(
	list("芳娜敏静丽艳娟霞秀英慧巧美婷雪琳晶颖倩玲萍红燕洁欣怡佳梦琪悦璐瑶丹蕾薇月莹岚兰")
)

OCCUPATIONS = {
	"Salaried": (
		"软件工程师",
		"会计",
		"销售经理",
		"行政专员",
		"人事专员",
		"产品经理",
		"市场专员",
		"工程师",
		"护士",
		"客服主管",
	),
	"Civil Servant": ("公务员", "科员", "事业单位职员", "警察", "中学教师"),
	"Professional": ("医生", "律师", "注册会计师", "大学教师", "建筑师", "咨询顾问"),
	"Business Owner": ("企业主", "公司董事长", "商贸公司经理", "餐饮店老板"),
	"Self-employed": ("个体工商户", "网店店主", "自由职业者", "出租车司机", "独立设计师"),
	"Retired": ("退休人员",),
	"Student": ("学生", "研究生"),
	"Homemaker": ("全职家长",),
	"Other": ("其他", "务工人员", "农民"),
}
EMPLOYERS = {
	"Salaried": (
		"华为技术有限公司",
		"中国移动通信集团",
		"京东集团",
		"万科企业股份有限公司",
		"美团",
		"中国平安保险",
		"腾讯科技",
		"国家电网",
		"中建三局",
		"顺丰速运",
		"联想集团",
		"比亚迪股份有限公司",
	),
	"Civil Servant": ("区人民政府", "市税务局", "市第一中学", "区教育局", "市公安局"),
	"Professional": (
		"市第一人民医院",
		"金杜律师事务所",
		"普华永道",
		"市属大学",
		"市中医院",
		"建筑设计研究院",
	),
	"Business Owner": (
		"恒通贸易有限公司",
		"鑫源商贸有限公司",
		"华盛餐饮管理有限公司",
		"宏达建材有限公司",
		"金桥物流有限公司",
	),
}
# (median declared annual income in CNY, sigma of its log, share with no income declared)
INCOME_MODEL = {
	"Salaried": (140_000, 0.5, 0.05),
	"Civil Servant": (160_000, 0.35, 0.05),
	"Professional": (300_000, 0.55, 0.05),
	"Business Owner": (600_000, 0.8, 0.1),
	"Self-employed": (180_000, 0.7, 0.15),
	"Retired": (60_000, 0.4, 0.1),
	"Student": (12_000, 0.8, 0.7),
	"Homemaker": (30_000, 0.6, 0.85),
	"Other": (80_000, 0.5, 0.2),
}
# log-AUM offsets by occupation
AUM_OFFSET = {
	"Salaried": 0.0,
	"Civil Servant": 0.1,
	"Professional": 0.3,
	"Business Owner": 0.8,
	"Self-employed": 0.2,
	"Retired": 0.5,
	"Student": -1.5,
	"Homemaker": 0.1,
	"Other": -0.3,
}
STREETS = np.array(
	[
		"建国路",
		"人民路",
		"中山路",
		"解放路",
		"长安街",
		"和平路",
		"新华路",
		"复兴路",
		"光明路",
		"学院路",
		"科技路",
		"滨江路",
	]
)
COMMUNITIES = np.array(
	[
		"阳光花园",
		"锦绣家园",
		"翠湖小区",
		"金色家园",
		"幸福里",
		"枫林苑",
		"怡景湾",
		"华府",
		"紫荆苑",
		"东方名苑",
	]
)
HOBBIES = np.array(
	[
		"阅读",
		"旅游",
		"摄影",
		"健身",
		"瑜伽",
		"高尔夫",
		"钓鱼",
		"书法",
		"广场舞",
		"茶艺",
		"音乐",
		"烹饪",
		"跑步",
		"登山",
		"收藏",
		"棋牌",
	]
)
INTENTS = np.array(["稳健增值", "子女教育", "养老规划", "购房储备", "资产配置", "短期理财", "保障规划"])

INCOME_EDGES = (100_000, 300_000, 600_000, 1_000_000, 3_000_000)  # schema.INCOME_BANDS boundaries

# role -> (user name prefix, numbered, max_customers, max_aum in CNY)
STAFF_ROLES = {
	"Branch Manager": ("bm", False, 50, 200_000_000),
	"Lobby Manager": ("lobby", False, 300, 30_000_000),
	"Teller": ("teller", True, 1500, 100_000_000),
	"Private Banker": ("pb", True, 80, 2_000_000_000),
	"Relationship Manager": ("rm", True, 300, 500_000_000),
}
CUSTOMERS_PER_RM = 400

# log-normal AUM: calibrated so DEFAULT_TIERS split about 75% Mass, 18% Core, 4.5% VIP, 0.6% Private Banking
AUM_LOG_MEDIAN = 10.95
AUM_LOG_SIGMA = 1.5
WEALTHY_SHARE = 0.006

# product code -> 4-digit account prefix
ACCOUNT_PREFIX = {
	"DEP-DEMAND": 1001,
	"DEP-TIME-1Y": 1002,
	"DEP-LARGE-CD": 1003,
	"WM-STABLE": 2001,
	"WM-BALANCED": 2002,
	"FUND-MONEY": 3001,
	"FUND-EQUITY": 3002,
	"INS-LIFE": 4001,
	"INS-HEALTH": 4002,
	"INS-HOME": 4003,
	"PEN-PERSONAL": 4004,
	"LOAN-MORTGAGE": 5001,
	"LOAN-CONSUMER": 5002,
	"LOAN-BUSINESS": 5003,
	"CARD-DEBIT": 6217,
	"CARD-CREDIT": 6259,
	"PAYROLL": 7001,
	"MOBILE-BANKING": 8001,
}
# investment products: code -> minimum risk preference index (0 = C1) allowed to hold it
INVESTMENT_PRODUCTS = {
	"WM-STABLE": 1,
	"WM-BALANCED": 2,
	"FUND-MONEY": 0,
	"FUND-EQUITY": 3,
	"INS-LIFE": 0,
	"PEN-PERSONAL": 0,
}


@dataclass
class SampleData:
	"""The generated network. See the module docstring for dtypes and conventions."""

	branches: pd.DataFrame
	staff: pd.DataFrame
	products: pd.DataFrame
	customers: pd.DataFrame
	holdings: pd.DataFrame
	snapshots: pd.DataFrame
	truth: pd.DataFrame

	def tables(self) -> dict[str, pd.DataFrame]:
		return {f.name: getattr(self, f.name) for f in fields(self)}


# ---------------------------------------------------------------- small vectorised helpers


def _pick(rng: np.random.Generator, options, p, size: int) -> np.ndarray:
	"""Indices into ``options`` drawn with probabilities ``p`` (normalised here)."""
	p = np.asarray(p, dtype=float)
	return rng.choice(len(options), size=size, p=p / p.sum())


def _pick_by_group(
	rng: np.random.Generator, group: np.ndarray, table: dict[int, list[float]], n_options: int
) -> np.ndarray:
	"""For each row, an option index drawn from the probability row of its group."""
	out = np.zeros(len(group), dtype=np.int16)
	for g, p in table.items():
		mask = group == g
		if mask.any():
			out[mask] = _pick(rng, range(n_options), p, int(mask.sum()))
	return out


def _objects(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
	"""Numpy strings as a pandas-ready object array, with ``None`` where ``missing``."""
	out = values.astype(object)
	if missing is not None:
		out[missing] = None
	return out


def _chars(values: np.ndarray, width: int) -> np.ndarray:
	"""Strings as an [n x width] array of single characters (shorter strings end in NULs)."""
	return np.ascontiguousarray(values, dtype=f"U{width}").view("U1").reshape(-1, width)


def _join_fixed(*parts: tuple[np.ndarray, int]) -> np.ndarray:
	"""Concatenate fixed-width string columns by copying characters: much faster than string
	ufuncs. Only the last part may hold shorter strings (their NUL padding is trailing)."""
	n = len(parts[0][0])
	total = sum(width for _, width in parts)
	out = np.zeros((n, total), dtype="U1")
	at = 0
	for values, width in parts:
		out[:, at : at + width] = _chars(values, width)
		at += width
	return out.view(f"U{total}").reshape(n)


def _digits_text(values: np.ndarray, width: int) -> np.ndarray:
	"""Non-negative integers as zero-padded strings of ``width`` characters."""
	padded = _chars((values.astype(np.int64) + 10**width).astype(f"U{width + 1}"), width + 1)
	return np.ascontiguousarray(padded[:, 1:]).view(f"U{width}").reshape(-1)


def _cat(*parts) -> np.ndarray:
	out = parts[0]
	for part in parts[1:]:
		out = np.char.add(out, part)
	return out


def _days(values) -> np.ndarray:
	return np.asarray(values).astype("timedelta64[D]")


def _add_months(days: np.ndarray, months: int) -> np.ndarray:
	"""Calendar arithmetic on a datetime64[D] array (the 31st becomes the month's last day)."""
	return (pd.DatetimeIndex(days) + pd.DateOffset(months=months)).to_numpy().astype("datetime64[D]")


def _ns(values: np.ndarray) -> np.ndarray:
	return values.astype("datetime64[ns]")


def _month_index(as_of: dt.date, months: int) -> np.ndarray:
	return pd.date_range(end=pd.Timestamp(as_of), periods=months, freq="MS").values


def _chinese_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
	n = len(male)
	surname = SURNAMES[_pick(rng, SURNAMES, 1 / np.arange(1, len(SURNAMES) + 1) ** 0.7, n)]
	first = np.where(
		male,
		MALE_GIVEN[rng.integers(0, len(MALE_GIVEN), n)],
		FEMALE_GIVEN[rng.integers(0, len(FEMALE_GIVEN), n)],
	)
	second = np.where(
		male,
		MALE_GIVEN[rng.integers(0, len(MALE_GIVEN), n)],
		FEMALE_GIVEN[rng.integers(0, len(FEMALE_GIVEN), n)],
	)
	second = np.where(rng.random(n) < 0.3, "", second)
	return _join_fixed((surname, 1), (first, 1), (second, 1))


def _id_numbers(region: np.ndarray, dob: np.ndarray, male: np.ndarray) -> np.ndarray:
	"""Synthetic 18-character resident ID numbers: region, birth date, a sequence whose parity
	follows gender, and the ISO 7064 MOD 11-2 check character. Unique by construction."""
	ymd = pd.DatetimeIndex(dob)
	yyyymmdd = (ymd.year * 10000 + ymd.month * 100 + ymd.day).to_numpy().astype(np.int64)
	parity = male.astype(np.int64)
	order = (
		pd.DataFrame({"r": region, "d": yyyymmdd, "g": parity}).groupby(["r", "d", "g"]).cumcount().to_numpy()
	)
	sequence = 10 + 2 * order + parity
	body = region.astype(np.int64) * 10**11 + yyyymmdd * 1000 + sequence
	weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
	total = np.zeros(len(body), dtype=np.int64)
	rest = body.copy()
	for w in weights[::-1]:
		total += (rest % 10) * w
		rest //= 10
	check = np.array(list("10X98765432"))[total % 11]
	return _join_fixed((body.astype("U17"), 17), (check, 1))


# ---------------------------------------------------------------- branches and staff


def _branch_table(count: int) -> pd.DataFrame:
	rows = []
	for i in range(count):
		name, slug, city, district, region = BRANCH_CATALOGUE[i % len(BRANCH_CATALOGUE)]
		round_ = i // len(BRANCH_CATALOGUE)
		if round_:
			name, slug = f"{name} {round_ + 1}", f"{slug}{round_ + 1}"
		rows.append({"branch": name, "slug": slug, "city": city, "district": district, "region": region})
	return pd.DataFrame(rows)


def _staff_table(branches: pd.DataFrame, sizes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
	rows = []
	for b, branch in enumerate(branches.itertuples(index=False)):
		counts = {
			"Branch Manager": 1,
			"Lobby Manager": 1,
			"Teller": 2,
			"Private Banker": 1,
			"Relationship Manager": max(2, round(int(sizes[b]) / CUSTOMERS_PER_RM)),
		}
		for role, count in counts.items():
			prefix, numbered, max_customers, max_aum = STAFF_ROLES[role]
			width = max(2, len(str(count)))
			for k in range(1, count + 1):
				local = f"{prefix}{k:0{width}d}" if numbered else prefix
				rows.append(
					{
						"user": f"{local}.{branch.slug}@bank.example",
						"branch": branch.branch,
						"role_type": role,
						"max_customers": max_customers,
						"max_aum": float(max_aum),
						"branch_index": b,
					}
				)
	staff = pd.DataFrame(rows)
	male = rng.random(len(staff)) < 0.5
	staff.insert(1, "full_name", _objects(_chinese_names(rng, male)))
	staff["max_customers"] = staff["max_customers"].astype(np.int32)
	return staff


class _StaffPicker:
	"""Vectorised 'a random staff member of role R in the customer's branch'."""

	def __init__(self, staff: pd.DataFrame, n_branches: int):
		self.users, self.start, self.count = {}, {}, {}
		for role, group in staff.groupby("role_type", sort=False):
			group = group.sort_values("branch_index", kind="stable")
			self.users[role] = group["user"].to_numpy(dtype=object)
			counts = np.bincount(group["branch_index"].to_numpy(), minlength=n_branches)
			self.count[role] = counts
			self.start[role] = np.concatenate([[0], np.cumsum(counts)[:-1]])

	def pick(self, role: str, branch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
		count = self.count[role][branch]
		offset = (rng.random(len(branch)) * count).astype(np.int64)
		return self.users[role][self.start[role][branch] + offset]


# ---------------------------------------------------------------- the generator


def generate_sample(
	customers: int = 2000,
	months: int = 24,
	branches: int = 3,
	as_of: dt.date = dt.date(2026, 10, 1),
	seed: int = 7,
) -> SampleData:
	"""Generate a branch network of ``customers`` customers over ``branches`` branches with
	``months`` monthly snapshots ending at ``as_of`` (the last complete month; any day in it will do).
	Deterministic for a given seed."""
	n, m, n_branches = int(customers), int(months), int(branches)
	if n < 1 or m < 1 or n_branches < 1:
		raise ValueError("customers, months and branches must all be at least 1")
	as_of = pd.Timestamp(as_of).date().replace(day=1)
	rng_people, rng_links, rng_levels, rng_series, rng_holdings, rng_staff, rng_profile = (
		np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)
	)
	month_values = _month_index(as_of, m)
	window_start = np.datetime64(month_values[0], "D")
	as_of_day = np.datetime64(as_of, "D")

	branch_table = _branch_table(n_branches)
	branch_weights = rng_staff.dirichlet(np.full(n_branches, 8.0)) if n_branches > 1 else np.ones(1)
	branch = rng_staff.choice(n_branches, size=n, p=branch_weights).astype(np.int32)
	staff = _staff_table(branch_table, np.bincount(branch, minlength=n_branches), rng_staff)

	people = _people(n, m, branch, branch_table, window_start, as_of_day, rng_people)
	pattern = _plant_patterns(people, rng_people)
	levels = _levels(people, pattern, rng_levels)
	links = _links(people, levels, staff, n_branches, rng_links)
	series = _series(people, pattern, levels, m, rng_series)

	customer_ids = people["ids"]
	customers_frame = _customer_frame(people, links, levels, rng_profile)
	holdings = _holdings(people, levels, series, rng_holdings, as_of_day)
	snapshots = _snapshot_frame(customer_ids, month_values, series)

	drift_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
	drifting = series["drift_start"] >= 0
	drift_start[drifting] = month_values[series["drift_start"][drifting]]
	truth = pd.DataFrame(
		{
			"customer": customer_ids,
			"pattern": np.asarray(PATTERNS, dtype=object)[pattern],
			"drift_start": drift_start,
		},
		copy=False,
	)
	products = pd.DataFrame(list(DEFAULT_PRODUCTS), columns=list(schema.PRODUCT_COLUMNS))
	return SampleData(
		branches=branch_table[["branch"]].copy(),
		staff=staff[list(schema.STAFF_COLUMNS)],
		products=products,
		customers=customers_frame,
		holdings=holdings,
		snapshots=snapshots,
		truth=truth,
	)


def _people(n, m, branch, branch_table, window_start, as_of_day, rng) -> dict:
	"""Demographics, ordered by acquisition date (customer numbers follow acquisition)."""
	ages = np.arange(18, 86)
	age_weight = np.interp(
		ages, [18, 23, 30, 40, 50, 60, 70, 80, 85], [0.5, 1.2, 1.4, 1.3, 1.2, 1.0, 0.6, 0.3, 0.2]
	)
	age = ages[_pick(rng, ages, age_weight, n)] + rng.random(n)
	# everyone joined before the snapshot window, within the last ~15 years, at 16 or older
	window_years = (as_of_day - window_start).astype(int) / 365.25 + 1 / 12
	extra_years = (rng.random(n) ** 1.3) * 15
	extra_years = np.minimum(extra_years, np.maximum(age - 16 - window_years, 0) * rng.uniform(0.3, 1.0, n))
	acquired = window_start - _days(1 + (extra_years * 365.25).astype(np.int64))
	order = np.argsort(acquired, kind="stable")
	age, acquired = age[order], acquired[order]

	male = rng.random(n) < 0.5
	dob = as_of_day - _days((age * 365.25).astype(np.int64))
	digits = _digits_text(np.arange(1, n + 1), max(8, len(str(n))))
	ids = _join_fixed((np.full(n, "C"), 1), (digits, digits.dtype.itemsize // 4))

	age_group = np.select([age < 23, age < 60], [0, 1], 2)
	categories = schema.OCCUPATION_CATEGORIES
	occupation_table = {
		0: [0.15, 0, 0, 0, 0.03, 0, 0.75, 0, 0.07],
		1: [0.42, 0.10, 0.12, 0.08, 0.11, 0, 0, 0.07, 0.10],
		2: [0, 0, 0, 0.04, 0.04, 0.86, 0, 0.03, 0.03],
	}
	occupation = _pick_by_group(rng, age_group, occupation_table, len(categories))

	region = branch_table["region"].to_numpy()[branch]
	elsewhere = rng.random(n) < 0.2
	region = np.where(elsewhere, OTHER_REGIONS[rng.integers(0, len(OTHER_REGIONS), n)], region)
	return {
		"n": n,
		"m": m,
		"ids": ids,
		"digits": digits,
		"branch": branch,
		"branch_table": branch_table,
		"age": age,
		"male": male,
		"dob": dob,
		"acquired": acquired,
		"occupation": occupation,
		"region": region,
	}


def _category(name: str) -> int:
	return schema.OCCUPATION_CATEGORIES.index(name)


def _plant_patterns(people: dict, rng: np.random.Generator) -> np.ndarray:
	"""Choose who carries which planted pattern; adjusts occupations so the pools are big enough."""
	n, m, age, occupation = people["n"], people["m"], people["age"], people["occupation"]
	pattern = np.zeros(n, dtype=np.int8)
	working_age = (age >= 23) & (age < 60)

	def choose(code: int, pool: np.ndarray, fallback: np.ndarray, share: float, convert_to: int) -> None:
		wanted = round(share * n)
		chosen = np.flatnonzero(pool & (pattern == 0))
		if len(chosen) < wanted:
			extra = np.flatnonzero(fallback & ~pool & (pattern == 0))
			extra = rng.permutation(extra)[: wanted - len(chosen)]
			occupation[extra] = convert_to
			chosen = np.concatenate([chosen, extra])
		chosen = rng.permutation(chosen)[:wanted]
		pattern[chosen] = code

	salaried = np.isin(occupation, [_category("Salaried"), _category("Civil Servant")]) & (age < 60)
	choose(3, salaried, working_age, PATTERN_SHARES["salary_elsewhere"], _category("Salaried"))
	business = np.isin(occupation, [_category("Business Owner"), _category("Self-employed")])
	choose(2, business, working_age, PATTERN_SHARES["merchant"], _category("Business Owner"))
	if m >= 2:
		choose(1, np.ones(n, dtype=bool), np.ones(n, dtype=bool), PATTERN_SHARES["drifting"], 0)
	return pattern


def _levels(people: dict, pattern: np.ndarray, rng: np.random.Generator) -> dict:
	"""Per-customer levels: income, AUM anchored at the last month, investment share, loans, habits."""
	n, age, occupation = people["n"], people["age"], people["occupation"]
	categories = schema.OCCUPATION_CATEGORIES

	median = np.array([INCOME_MODEL[c][0] for c in categories], dtype=float)[occupation]
	sigma = np.array([INCOME_MODEL[c][1] for c in categories])[occupation]
	missing = rng.random(n) < np.array([INCOME_MODEL[c][2] for c in categories])[occupation]
	age_factor = np.interp(age, [18, 25, 30, 45, 55, 60, 85], [0.6, 0.75, 0.95, 1.15, 1.05, 1.0, 1.0])
	income = median * age_factor * np.exp(sigma * rng.standard_normal(n))
	elsewhere = pattern == 3
	income[elsewhere] = np.maximum(
		150_000, 280_000 * np.exp(0.35 * rng.standard_normal(int(elsewhere.sum())))
	)
	missing &= ~elsewhere
	income = np.maximum(np.round(income, -3), 1000.0)
	income[missing] = np.nan

	# AUM at the last month: lognormal around age, occupation and income, plus a thin wealthy tail
	offset = np.array([AUM_OFFSET[c] for c in categories])[occupation]
	log_income = np.log(np.where(missing, median * age_factor, income) / 150_000)
	age_effect = np.interp(age, [18, 30, 45, 60, 85], [-1.0, -0.3, 0.1, 0.4, 0.4])
	log_aum = (
		AUM_LOG_MEDIAN + offset + age_effect + 0.35 * log_income + AUM_LOG_SIGMA * rng.standard_normal(n)
	)
	wealthy = rng.random(n) < WEALTHY_SHARE
	log_aum[wealthy] = np.log(6_500_000) + 0.7 * rng.standard_normal(int(wealthy.sum()))
	log_aum[elsewhere] -= 1.0  # their main bank is elsewhere
	aum = np.exp(log_aum)

	risk_table = {
		0: [0.10, 0.20, 0.35, 0.25, 0.10],
		1: [0.15, 0.30, 0.35, 0.15, 0.05],
		2: [0.45, 0.35, 0.15, 0.05, 0.0],
	}
	risk = _pick_by_group(
		rng, np.select([age < 30, age < 60], [0, 1], 2), risk_table, len(schema.RISK_PREFERENCES)
	)
	risk_shift = np.array([-1.5, -0.5, 0.0, 0.4, 0.8])[risk]
	z = 0.9 * (np.log(aum) - np.log(300_000)) + risk_shift + 0.8 * rng.standard_normal(n)
	invest_share = 0.85 / (1 + np.exp(-z))
	invest_share[(aum < 20_000) & (rng.random(n) < 0.8)] = 0.0
	merchant = pattern == 2
	invest_share[merchant] *= 0.3

	dormant = (pattern == 0) & (aum < 10_000) & (rng.random(n) < 0.08)
	paid_here = (
		(np.isin(occupation, [_category("Salaried"), _category("Civil Servant")]) & ~elsewhere)
		| ((occupation == _category("Professional")) & (rng.random(n) < 0.6))
		| ((occupation == _category("Retired")) & (rng.random(n) < 0.7))
	) & ~missing
	paid_here &= ~dormant

	# loans at the last month
	mortgage = (
		(age >= 26) & (age < 58) & (rng.random(n) < np.where(np.nan_to_num(income) > 200_000, 0.35, 0.2))
	)
	mortgage_balance = np.where(mortgage, rng.uniform(300_000, 2_500_000, n), 0.0)
	consumer = (age >= 22) & (age < 60) & (rng.random(n) < 0.07)
	consumer_balance = np.where(consumer, rng.uniform(20_000, 200_000, n), 0.0)
	business_p = np.select(
		[occupation == _category("Business Owner"), occupation == _category("Self-employed")],
		[0.35, 0.15],
		0.0,
	)
	business = rng.random(n) < business_p
	business_balance = np.where(business, np.exp(rng.uniform(np.log(200_000), np.log(5_000_000), n)), 0.0)

	# habits
	login_rate = np.interp(age, [18, 30, 45, 60, 70, 85], [25, 20, 12, 4, 1.5, 0.5]) * np.exp(
		0.5 * rng.standard_normal(n)
	)
	uses_mobile = rng.random(n) < np.interp(age, [18, 45, 60, 75, 85], [0.97, 0.92, 0.7, 0.35, 0.15])
	login_rate[~uses_mobile | dormant] = 0.0
	txn_rate = np.interp(age, [18, 30, 60, 85], [35, 30, 14, 8]) * np.exp(0.45 * rng.standard_normal(n))
	txn_rate[merchant] = rng.uniform(150, 400, int(merchant.sum()))
	txn_rate[dormant] = 0.0
	bill_rate = np.select([age < 23, age < 60], [1.0, 3.0], 2.0) * rng.uniform(0.5, 1.5, n)
	bill_rate[dormant] = 0.0
	return {
		"income": income,
		"income_missing": missing,
		"aum": aum,
		"invest_share": invest_share,
		"risk": risk,
		"paid_here": paid_here,
		"dormant": dormant,
		"mortgage": mortgage_balance,
		"consumer": consumer_balance,
		"business": business_balance,
		"login_rate": login_rate,
		"uses_mobile": uses_mobile & ~dormant,
		"txn_rate": txn_rate,
		"bill_rate": bill_rate,
	}


def _links(people: dict, levels: dict, staff: pd.DataFrame, n_branches: int, rng) -> dict:
	"""Acquisition channel, referrers, first server and relationship manager."""
	n, branch = people["n"], people["branch"]
	picker = _StaffPicker(staff, n_branches)
	channel = _pick(rng, schema.ACQUISITION_CHANNELS, [0.55, 0.18, 0.15, 0.12], n)
	walk_in, staff_ref, customer_ref, outbound = range(4)

	# a customer referral names an earlier customer of the same branch
	order = np.lexsort((np.arange(n), branch))
	position = np.empty(n, dtype=np.int64)
	counts = np.bincount(branch, minlength=n_branches)
	starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
	position[order] = np.arange(n) - np.repeat(starts, counts)
	channel[(channel == customer_ref) & (position == 0)] = walk_in
	referrer_pos = (rng.random(n) * position).astype(np.int64)
	referrer = order[starts[branch] + referrer_pos]
	referred_by_customer = np.where(channel == customer_ref, people["ids"][referrer].astype(object), None)

	roles = ("Teller", "Lobby Manager", "Relationship Manager")
	referring_role = _pick(rng, roles, [0.4, 0.3, 0.3], n)
	referred_by_staff = np.full(n, None, dtype=object)
	for r, role in enumerate(roles):
		mask = (channel == staff_ref) & (referring_role == r)
		referred_by_staff[mask] = picker.pick(role, branch[mask], rng)

	served_role = np.select(
		[channel == walk_in, channel == customer_ref, channel == outbound],
		[_pick(rng, roles, [0.5, 0.3, 0.2], n), _pick(rng, roles, [0.4, 0.0, 0.6], n), 2],
		-1,
	)
	first_served_by = referred_by_staff.copy()
	for r, role in enumerate(roles):
		mask = served_role == r
		first_served_by[mask] = picker.pick(role, branch[mask], rng)
	first_served_by[rng.random(n) < 0.05] = None

	# relationship managers for customers whose AUM warrants one, and a few promising mass customers
	aum = levels["aum"]
	relationship_manager = np.full(n, None, dtype=object)
	needs_rm = (aum >= 200_000) | (rng.random(n) < 0.03)
	private = aum >= 6_000_000
	relationship_manager[needs_rm & ~private] = picker.pick(
		"Relationship Manager", branch[needs_rm & ~private], rng
	)
	relationship_manager[private] = picker.pick("Private Banker", branch[private], rng)
	return {
		"channel": channel,
		"referred_by_customer": referred_by_customer,
		"referred_by_staff": referred_by_staff,
		"first_served_by": first_served_by,
		"relationship_manager": relationship_manager,
	}


AMOUNT_SERIES = schema.SNAPSHOT_AMOUNT_COLUMNS
COUNT_SERIES = schema.SNAPSHOT_COUNT_COLUMNS
CHUNK_CELLS = 240_000  # customer-months per chunk: keeps the temporaries in cache and memory flat


def _series(people: dict, pattern: np.ndarray, levels: dict, m: int, rng: np.random.Generator) -> dict:
	"""The monthly [customer x month] arrays, computed in chunks of customers into preallocated
	arrays so that a million customers take no more memory than the result itself."""
	n = people["n"]
	out = {c: np.empty((n, m), dtype=np.float64) for c in AMOUNT_SERIES}
	out.update({c: np.empty((n, m), dtype=np.int32) for c in COUNT_SERIES})

	# per-customer parameters
	params = {
		"growth": rng.normal(0.002, 0.006, n).astype(np.float32),
		"flow_share": rng.uniform(0.01, 0.08, n),
		"flow_floor": rng.uniform(300, 3000, n),
		"merchant_multiple": rng.uniform(3.0, 10.0, n),
		"outflow_ratio": rng.uniform(0.8, 1.3, n),
	}
	drift_start = np.full(n, -1, dtype=np.int64)
	drifting = pattern == 1
	if m >= 2:
		drift_start[drifting] = m - np.minimum(rng.integers(3, 6, int(drifting.sum())), m - 1)
	market = np.cumsum(rng.normal(0.003, 0.02, m)).astype(np.float32)
	market -= market[-1]

	rows_per_chunk = max(1, CHUNK_CELLS // m)
	for lo in range(0, n, rows_per_chunk):
		hi = min(n, lo + rows_per_chunk)
		_series_chunk(slice(lo, hi), m, pattern[lo:hi], levels, params, drift_start[lo:hi], market, out, rng)
	out["drift_start"] = drift_start
	return out


def _counts(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
	"""Non-negative integer counts with mean ``rate`` (stochastic rounding: cheap, and with the
	month-to-month noise already in ``rate`` about as dispersed as Poisson counts)."""
	return np.floor(rate + rng.random(rate.shape, dtype=np.float32)).astype(np.int32)


def _series_chunk(sl: slice, m: int, pattern, levels, params, drift_start, market, out, rng) -> None:
	f32 = np.float32
	k = sl.stop - sl.start
	tt = (np.arange(m) - (m - 1)).astype(f32)  # 0 at the last month
	dormant = levels["dormant"][sl]
	merchant, elsewhere = pattern == 2, pattern == 3
	drift_rows = np.flatnonzero(drift_start >= 0)
	start = drift_start[drift_rows]
	in_drift = np.arange(m)[None, :] >= start[:, None]

	# balances: a noisy trend, investments also follow the market
	aum = levels["aum"][sl]
	invest = aum * levels["invest_share"][sl]
	growth = params["growth"][sl]
	trend = growth[:, None] * tt[None, :]
	log_dep = rng.standard_normal((k, m), dtype=f32)
	log_dep *= f32(0.05)
	log_inv = rng.standard_normal((k, m), dtype=f32)
	log_inv *= f32(0.03)
	log_dep[dormant] = 0
	log_inv[dormant] = 0
	log_dep += trend
	log_inv += trend
	log_inv += market[None, :]
	# drifting: from their drift month on, balances fall 10-25% a month (noise frozen)
	if len(drift_rows):
		fall = np.cumsum(
			np.where(in_drift, np.log1p(-rng.uniform(0.10, 0.25, (len(drift_rows), m))), 0.0), axis=1
		)
		for block in (log_dep, log_inv):
			sub = block[drift_rows]
			anchor = sub[np.arange(len(drift_rows)), start - 1]
			block[drift_rows] = np.where(in_drift, anchor[:, None] + fall, sub)

	deposits = np.exp(log_dep, dtype=np.float64)
	deposits *= (aum - invest)[:, None]
	investments = np.exp(log_inv, dtype=np.float64)
	investments *= invest[:, None]
	np.round(deposits, 2, out=deposits)
	np.round(investments, 2, out=investments)
	total = np.add(deposits, investments, out=out["aum"][sl])
	np.round(total, 2, out=total)
	out["deposits"][sl] = deposits
	out["investments"][sl] = investments

	# loans: mortgages and consumer loans amortise, business loans revolve
	loans = out["loans"][sl]
	months_back = -tt.astype(np.float64)
	loans[:] = levels["mortgage"][sl, None] * (1 + 0.004 * months_back)
	loans += levels["consumer"][sl, None] * (1 + 0.03 * months_back)
	business = levels["business"][sl]
	has_business = np.flatnonzero(business > 0)
	loans[has_business] += business[has_business, None] * rng.uniform(0.8, 1.1, (len(has_business), m))
	np.round(loans, 2, out=loans)

	# flows: salary and other money in, plus balance growth; out: the same less balance growth
	income = np.nan_to_num(levels["income"][sl])
	salary = out["salary_credit"][sl]
	salary[:] = 0
	paid = np.flatnonzero(levels["paid_here"][sl])
	salary[paid] = (income[paid] / 12)[:, None] * (
		1 + f32(0.03) * rng.standard_normal((len(paid), m), dtype=f32)
	)
	np.round(salary, 2, out=salary)
	turnover = aum * params["flow_share"][sl] + params["flow_floor"][sl]
	turnover[merchant | dormant] = 0
	inflow = np.exp(f32(0.3) * rng.standard_normal((k, m), dtype=f32), dtype=np.float64)
	inflow *= turnover[:, None]
	if merchant.any():
		noise = np.exp(f32(0.15) * rng.standard_normal((int(merchant.sum()), m), dtype=f32))
		inflow[merchant] = total[merchant] * params["merchant_multiple"][sl][merchant, None] * noise
	inflow += salary
	delta = np.empty((k, m))
	delta[:, 1:] = total[:, 1:] - total[:, :-1]
	delta[:, 0] = total[:, 0] * -np.expm1(-growth)
	inflow += np.maximum(delta, 0)
	outflow = np.subtract(inflow, delta, out=out["outflow"][sl])
	if elsewhere.any():
		# salary paid at another bank: only small transfers come in here
		cap = (income[elsewhere] / 12 * 0.25)[:, None]
		inflow[elsewhere] = np.minimum(inflow[elsewhere], cap)
		outflow[elsewhere] = np.minimum(
			outflow[elsewhere], inflow[elsewhere] * params["outflow_ratio"][sl][elsewhere, None]
		)
	np.maximum(outflow, 0, out=outflow)
	np.round(inflow, 2, out=inflow)
	np.round(outflow, 2, out=outflow)
	out["inflow"][sl] = inflow

	# activity counts
	activity = np.exp(f32(0.2) * rng.standard_normal((k, m), dtype=f32))
	if len(drift_rows):
		months_in = np.where(in_drift, np.arange(m)[None, :] - start[:, None] + 1, 0)
		activity[drift_rows] *= (0.78**months_in).astype(f32)
	txn = out["txn_count"][sl]
	txn[:] = _counts(levels["txn_rate"][sl, None].astype(f32) * activity, rng)
	logins = activity * np.exp(f32(0.25) * rng.standard_normal((k, m), dtype=f32))
	if len(drift_rows):
		logins[drift_rows] *= activity[drift_rows]  # logins fall faster than transactions
	logins *= levels["login_rate"][sl, None].astype(f32)
	out["digital_logins"][sl] = _counts(logins, rng)
	bills = np.exp(f32(0.3) * rng.standard_normal((k, m), dtype=f32))
	bills *= levels["bill_rate"][sl, None].astype(f32)
	out["bill_payments"][sl] = _counts(bills, rng)
	large_rate = np.minimum(aum / 2_000_000, 3.0).astype(f32)
	large_rate[dormant] = 0
	large = np.exp(f32(0.5) * rng.standard_normal((k, m), dtype=f32))
	large *= large_rate[:, None]
	large = _counts(large, rng)
	if merchant.any():
		large[merchant] = rng.integers(8, 31, (int(merchant.sum()), m), dtype=np.int32)
	complaint_rate = np.where(merchant, f32(0.03), f32(0.01))[:, None]
	complaints = (rng.random((k, m), dtype=f32) < complaint_rate).astype(np.int32)
	if len(drift_rows):
		# drifting customers complain now and then and move money out in large transfers
		complaints[drift_rows] += (
			rng.random((len(drift_rows), m), dtype=f32) < np.where(in_drift, f32(0.25), f32(0))
		).astype(np.int32)
		big = in_drift & (aum[drift_rows, None] >= 100_000)
		large[drift_rows] += (
			rng.random((len(drift_rows), m), dtype=f32) < np.where(big, f32(0.6), f32(0))
		).astype(np.int32)
	out["large_txn_count"][sl] = large
	out["complaints"][sl] = complaints

	# monthly contribution: margin on balances and flows less the cost of serving
	contribution = out["contribution"][sl]
	np.multiply(deposits, 0.018 / 12, out=contribution)
	contribution += investments * (0.008 / 12)
	contribution += loans * (0.02 / 12)
	contribution += inflow * 0.0002
	contribution -= txn * 0.3 + 3.0
	np.round(contribution, 2, out=contribution)


def _customer_frame(people: dict, links: dict, levels: dict, rng: np.random.Generator) -> pd.DataFrame:
	n, age, male, occupation = people["n"], people["age"], people["male"], people["occupation"]
	branch_table = people["branch_table"]
	branch = people["branch"]
	categories = np.asarray(schema.OCCUPATION_CATEGORIES, dtype=object)

	names = _chinese_names(rng, male)
	mobile_digit = np.array([3, 5, 7, 8, 9, 6, 4])[
		_pick(rng, range(7), [0.3, 0.25, 0.1, 0.25, 0.06, 0.02, 0.02], n)
	]
	mobile = (
		10_000_000_000 + mobile_digit.astype(np.int64) * 1_000_000_000 + rng.integers(0, 1_000_000_000, n)
	).astype("U11")
	email = np.char.add(np.char.lower(people["ids"]), "@mail.example")

	city = branch_table["city"].to_numpy().astype(str)[branch]
	district = branch_table["district"].to_numpy().astype(str)[branch]
	address = _cat(
		city,
		district,
		STREETS[rng.integers(0, len(STREETS), n)],
		rng.integers(1, 300, n).astype("U3"),
		"号",
		COMMUNITIES[rng.integers(0, len(COMMUNITIES), n)],
		rng.integers(1, 30, n).astype("U2"),
		"栋",
		rng.integers(101, 2800, n).astype("U4"),
		"室",
	)

	occupation_text = np.empty(n, dtype=object)
	employer = np.full(n, None, dtype=object)
	for c, category in enumerate(schema.OCCUPATION_CATEGORIES):
		mask = occupation == c
		options = np.asarray(OCCUPATIONS[category], dtype=object)
		occupation_text[mask] = options[rng.integers(0, len(options), int(mask.sum()))]
		if category in EMPLOYERS:
			options = np.asarray(EMPLOYERS[category], dtype=object)
			employer[mask] = options[rng.integers(0, len(options), int(mask.sum()))]

	income = levels["income"]
	band = np.asarray(schema.INCOME_BANDS, dtype=object)[np.digitize(np.nan_to_num(income), INCOME_EDGES)]
	band[levels["income_missing"]] = None

	family_group = np.select([age < 25, age < 35, age < 50, age < 60], [0, 1, 2, 3], 4)
	family_table = {
		0: [0.9, 0.1, 0, 0, 0, 0],
		1: [0.35, 0.25, 0.4, 0, 0, 0],
		2: [0.05, 0.1, 0.35, 0.5, 0, 0],
		3: [0, 0.1, 0, 0.45, 0.45, 0],
		4: [0, 0, 0, 0, 0.4, 0.6],
	}
	family = np.asarray(schema.FAMILY_STAGES, dtype=object)[
		_pick_by_group(rng, family_group, family_table, 6)
	]

	risk = np.asarray(schema.RISK_PREFERENCES, dtype=object)[levels["risk"]]
	risk[(levels["invest_share"] == 0) & (rng.random(n) < 0.5)] = None

	intent = INTENTS.astype(object)[rng.integers(0, len(INTENTS), n)]
	intent[rng.random(n) < 0.4] = None
	h1 = rng.integers(0, len(HOBBIES), n)
	h2 = (h1 + 1 + rng.integers(0, len(HOBBIES) - 1, n)) % len(HOBBIES)
	hobby_count = _pick(rng, range(3), [0.25, 0.45, 0.3], n)
	hobbies = np.where(hobby_count == 2, _cat(HOBBIES[h1], "、", HOBBIES[h2]), HOBBIES[h1]).astype(object)
	hobbies[hobby_count == 0] = None

	channel_group = np.select([age < 35, age < 60], [0, 1], 2)
	channel_table = {
		0: [0.10, 0.35, 0.05, 0.05, 0.05, 0.40],
		1: [0.30, 0.35, 0.10, 0.07, 0.03, 0.15],
		2: [0.40, 0.15, 0.15, 0.30, 0.0, 0.0],
	}
	channel_pref = np.asarray(schema.CHANNELS, dtype=object)[
		_pick_by_group(rng, channel_group, channel_table, 6)
	]
	channel_pref[rng.random(n) < 0.1] = None

	status = np.where(levels["dormant"], "Dormant", "Active").astype(object)
	frame = pd.DataFrame(
		{
			"customer": people["ids"].astype(object),
			"customer_name": names.astype(object),
			"branch": branch_table["branch"].to_numpy(dtype=object)[branch],
			"relationship_manager": links["relationship_manager"],
			"status": status,
			"gender": np.where(male, "Male", "Female").astype(object),
			"date_of_birth": _ns(people["dob"]),
			"id_type": np.full(n, "Resident ID Card", dtype=object),
			"id_number": _id_numbers(people["region"], people["dob"], male).astype(object),
			"mobile_no": mobile.astype(object),
			"email_id": _objects(email, rng.random(n) < 0.6),
			"address": _objects(address, rng.random(n) < 0.1),
			"occupation_category": categories[occupation],
			"occupation": occupation_text,
			"employer": employer,
			"income_band": band,
			"declared_annual_income": income,
			"family_stage": family,
			"risk_preference": risk,
			"investment_intent": intent,
			"hobbies": hobbies,
			"channel_preference": channel_pref,
			"do_not_contact": (rng.random(n) < 0.02).astype(np.int8),
			"intent_level": np.asarray(schema.INTENT_LEVELS, dtype=object)[
				_pick(rng, schema.INTENT_LEVELS, [0.4, 0.25, 0.22, 0.13], n)
			],
			"acquisition_channel": np.asarray(schema.ACQUISITION_CHANNELS, dtype=object)[links["channel"]],
			"acquired_on": _ns(people["acquired"]),
			"first_served_by": links["first_served_by"],
			"referred_by_staff": links["referred_by_staff"],
			"referred_by_customer": links["referred_by_customer"],
		},
		copy=False,
	)
	return frame[list(schema.CUSTOMER_COLUMNS)]


def _holdings(people: dict, levels: dict, series: dict, rng: np.random.Generator, as_of_day) -> pd.DataFrame:
	"""Product holdings consistent with the last month's balances: deposit holdings add up to
	``deposits``, investment holdings to ``investments`` and loan holdings to ``loans``."""
	n, age = people["n"], people["age"]
	acquired = people["acquired"]
	deposits = series["deposits"][:, -1]
	investments = series["investments"][:, -1]
	tenure_days = (as_of_day - acquired).astype(np.int64)

	def opened_after_acquisition(mask: np.ndarray, max_days_ago: float | None = None) -> np.ndarray:
		span = tenure_days[mask].astype(float)
		if max_days_ago is not None:
			span = np.minimum(span, max_days_ago)
		return as_of_day - _days((rng.random(int(mask.sum())) * span).astype(np.int64))

	parts: list[
		tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
	] = []  # product, rows, balance, opened, matures

	def add(product: str, mask: np.ndarray, balance, opened, matures=None) -> None:
		rows = np.flatnonzero(mask)
		balance = np.zeros(len(rows)) if balance is None else np.asarray(balance, dtype=float)
		matures = (
			np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]") if matures is None else matures
		)
		parts.append((product, rows, balance, opened, matures))

	everyone = np.ones(n, dtype=bool)
	# deposits: time deposits and large CDs out of the deposit balance, the rest on demand
	has_td = ((deposits >= 50_000) & (rng.random(n) < 0.6)) | ((deposits >= 10_000) & (rng.random(n) < 0.25))
	td = np.where(has_td, np.round(deposits * rng.uniform(0.2, 0.45, n), 2), 0.0)
	has_cd = (deposits >= 400_000) & (rng.random(n) < 0.5)
	cd = np.where(has_cd, np.round(np.maximum(deposits * rng.uniform(0.2, 0.4, n), 200_000), 2), 0.0)
	demand = np.round(deposits - td - cd, 2)
	add("DEP-DEMAND", everyone, demand, acquired)
	add("CARD-DEBIT", everyone, None, acquired)
	td_opened = opened_after_acquisition(has_td, 360)
	add("DEP-TIME-1Y", has_td, td[has_td], td_opened, _add_months(td_opened, 12))
	cd_opened = opened_after_acquisition(has_cd, 1000)
	add("DEP-LARGE-CD", has_cd, cd[has_cd], cd_opened, _add_months(cd_opened, 36))

	# investments split over the products the customer's risk preference allows
	codes = list(INVESTMENT_PRODUCTS)
	allowed = np.array([levels["risk"] >= INVESTMENT_PRODUCTS[c] for c in codes]).T
	likelihood = np.array([0.5, 0.3, 0.5, 0.3, 0.15, 0.1])
	held = allowed & (rng.random((n, len(codes))) < likelihood)
	held[:, codes.index("PEN-PERSONAL")] &= (age >= 30) & (age < 60)
	investing = investments > 0
	none_held = investing & ~held.any(axis=1)
	held[none_held, codes.index("FUND-MONEY")] = True
	held[~investing] = False
	weights = np.where(held, rng.uniform(0.2, 1.0, (n, len(codes))), 0.0)
	weight_sum = weights.sum(axis=1)
	weights[investing] /= weight_sum[investing, None]
	split = np.round(weights * investments[:, None], 2)
	biggest = np.argmax(weights, axis=1)
	split[np.arange(n), biggest] += np.round(investments - split.sum(axis=1), 2)
	split = np.round(split, 2)
	# product -> (term in months or None when open-ended, opened at most this many days ago or None)
	terms = {
		"WM-STABLE": (12, 360),
		"WM-BALANCED": (6, 175),
		"FUND-MONEY": (None, None),
		"FUND-EQUITY": (None, None),
		"INS-LIFE": (240, None),
		"PEN-PERSONAL": (None, None),
	}
	for k, code in enumerate(codes):
		mask = held[:, k]
		term, recent = terms[code]
		opened = opened_after_acquisition(mask, recent)
		add(code, mask, split[mask, k], opened, None if term is None else _add_months(opened, term))

	# protection insurance and cards (no balance)
	add("INS-HEALTH", (age >= 25) & (age < 60) & (rng.random(n) < 0.12), None, None)
	add("INS-HOME", (levels["mortgage"] > 0) & (rng.random(n) < 0.3), None, None)
	add(
		"CARD-CREDIT",
		(np.nan_to_num(levels["income"]) >= 60_000) & (age < 70) & (rng.random(n) < 0.3),
		None,
		None,
	)
	add("PAYROLL", levels["paid_here"], None, None)
	add("MOBILE-BANKING", levels["uses_mobile"], None, None)

	# loans: balances at the last month, matching the snapshot's loans
	loan_terms = {
		"LOAN-MORTGAGE": (levels["mortgage"], 300, 3000),
		"LOAN-CONSUMER": (levels["consumer"], 36, 700),
	}
	for code, (balance, term, max_age_days) in loan_terms.items():
		mask = balance > 0
		opened = opened_after_acquisition(mask, max_age_days)
		add(code, mask, np.round(balance[mask], 2), opened, _add_months(opened, term))
	business = levels["business"] > 0
	if business.any():
		business_balance = (
			series["loans"][:, -1] - np.round(levels["mortgage"], 2) - np.round(levels["consumer"], 2)
		)
		opened = opened_after_acquisition(business, 700)
		add(
			"LOAN-BUSINESS",
			business,
			np.round(np.maximum(business_balance[business], 0), 2),
			opened,
			_add_months(opened, 24),
		)

	# fill "opened" where the product was opened at some point after acquisition
	products, rows, balances, opened, matures = [], [], [], [], []
	for product, r, balance, open_, mature in parts:
		if open_ is None:
			mask = np.zeros(n, dtype=bool)
			mask[r] = True
			open_ = opened_after_acquisition(mask)
		products.append(np.full(len(r), list(ACCOUNT_PREFIX).index(product), dtype=np.int16))
		rows.append(r)
		balances.append(balance)
		opened.append(open_.astype("datetime64[D]"))
		matures.append(mature.astype("datetime64[D]"))
	product_idx = np.concatenate(products)
	row_idx = np.concatenate(rows)
	order = np.lexsort((product_idx, row_idx))
	product_idx, row_idx = product_idx[order], row_idx[order]
	# one account per product and customer: product prefix + branch code + customer digits is unique
	prefixes = np.array([str(p) for p in ACCOUNT_PREFIX.values()])
	branch_codes = _digits_text(people["branch"][row_idx] + 1, 4)
	digits = people["digits"]
	account_no = _join_fixed(
		(prefixes[product_idx], 4), (branch_codes, 4), (digits[row_idx], digits.dtype.itemsize // 4)
	)
	return pd.DataFrame(
		{
			"customer": people["ids"].astype(object)[row_idx],
			"product": np.array(list(ACCOUNT_PREFIX), dtype=object)[product_idx],
			"account_no": account_no.astype(object),
			"balance": np.concatenate(balances)[order],
			"opened_on": _ns(np.concatenate(opened)[order]),
			"matures_on": _ns(np.concatenate(matures)[order]),
		},
		copy=False,
	)


def _snapshot_frame(customer_ids: np.ndarray, month_values: np.ndarray, series: dict) -> pd.DataFrame:
	n, m = len(customer_ids), len(month_values)
	columns = {
		"customer": np.repeat(customer_ids.astype(object), m),
		"month": np.tile(month_values.astype("datetime64[ns]"), n),
	}
	for column in (*schema.SNAPSHOT_AMOUNT_COLUMNS, *schema.SNAPSHOT_COUNT_COLUMNS):
		columns[column] = series[column].reshape(-1)
	return pd.DataFrame(columns, copy=False)


def credentials_by_role(
	staff: pd.DataFrame, passwords: dict[str, str], others: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
	"""One desk login per role for a demo, among the users just given ``passwords``: the first
	member of staff of each role (the sample's first branch comes first), and ``others`` (user →
	role). Keyed by the role's snake-case name: ``{"branch_manager": {"user", "password", "role"}}``."""
	chosen = dict(others or {})
	for row in staff.itertuples(index=False):
		role = ROLE_TYPE_TO_ROLE[row.role_type]
		if row.user in passwords and role not in chosen.values():
			chosen[row.user] = role
	return {
		role.lower().replace(" ", "_"): {"user": user, "password": passwords[user], "role": role}
		for user, role in chosen.items()
		if user in passwords
	}
