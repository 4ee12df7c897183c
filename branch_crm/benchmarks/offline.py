"""The offline analysis at scale: time and peak memory of ``branch-crm analyze --data DIR``.

    python -m branch_crm.benchmarks.offline --customers 1000000          # writes the sample first
    python -m branch_crm.benchmarks.offline --data /tmp/s1m [--no-validate]

The analysis runs in a child process, so its peak resident memory (what the issue bounds: 2 GiB at a
million customers) is measured alone, without the sample generator's. No site needed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT_MIB = 2048


def run(data: Path, validate: bool = True, out: Path | None = None) -> dict:
	out = out or Path(tempfile.mkdtemp(prefix="branch-crm-analysis-"))
	command = [sys.executable, "-m", "branch_crm.cli", "analyze", "--data", str(data), "--out", str(out)]
	if not validate:
		command.append("--no-validate")
	started = time.perf_counter()
	done = subprocess.run(command, capture_output=True, text=True)
	seconds = time.perf_counter() - started
	if done.returncode:
		print(done.stdout[-2000:], done.stderr[-4000:], sep="\n")
		raise SystemExit(f"analyze failed with exit code {done.returncode}")
	peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
	sizes = {p.name: p.stat().st_size for p in sorted(data.glob("*.csv"))}
	said = [line for line in (done.stdout + done.stderr).splitlines() if ".csv: " in line or " in " in line]
	print(f"branch-crm analyze --data {data} ({'validated' if validate else 'not validated'})")
	for name, size in sizes.items():
		print(f"  {name:<16}{size / 2**20:>10,.0f} MiB")
	for line in said[-6:]:
		print(f"  | {line}")
	print(f"  wall time {seconds:,.1f} s, peak memory {peak_mib:,.0f} MiB (limit {LIMIT_MIB:,} MiB)")
	return {"seconds": seconds, "peak_mib": peak_mib, "out": str(out)}


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--data", type=Path, help="a folder of intake CSVs")
	parser.add_argument("--customers", type=int, default=1_000_000, help="sample size when no --data")
	parser.add_argument("--no-validate", action="store_true")
	args = parser.parse_args()
	data = args.data
	if data is None:
		data = Path(tempfile.mkdtemp(prefix="branch-crm-sample-"))
		subprocess.run(
			[
				sys.executable,
				"-m",
				"branch_crm.cli",
				"sample",
				"--out",
				str(data),
				"--customers",
				str(args.customers),
			],
			check=True,
		)
	run(data, validate=not args.no_validate)


if __name__ == "__main__":
	main()
