import { describe, expect, it } from "vitest";
import { summarizeLoad } from "../../bench/lib/load-client";
import {
	isBenchResult,
	markdownTable,
	renderAll,
	replaceBetween,
	sortResults,
} from "../../bench/lib/load-collect";
import { type Measurement, scalingTable, sizeTable, targets } from "../../bench/lib/load-report";
import type { BenchResult } from "../../bench/lib/report";

const machine = { cpus: 2, cpu_model: "Test CPU", memory_gib: 4, node: "v20.0.0" };

function result(name: string, extra: Partial<BenchResult> = {}): BenchResult {
	return {
		name,
		title: `${name} title`,
		ran_at: "2026-11-25T16:00:00.000Z",
		machine,
		tables: [{ title: "T", columns: ["a", "n"], rows: [["x|y", 1200]] }],
		data: {},
		...extra,
	};
}

function load(rps: number, p99: number, errors: Record<string, number> = {}) {
	const n = Object.values(errors).reduce((s, v) => s + v, 0);
	return {
		requests: 1000,
		ok: 1000 - n,
		errors,
		error_count: n,
		duration_ms: 10_000,
		rps,
		latency_ms: { p50: p99 / 2, p95: p99 * 0.9, p99, max: p99 * 2, mean: p99 / 2 },
		connections: 4,
	};
}

describe("load generator summary", () => {
	it("counts 2xx as ok, everything else by status, and takes nearest-rank percentiles", () => {
		const samples = [
			...Array.from({ length: 98 }, (_, i) => ({ ms: i + 1, outcome: "ok" })),
			{ ms: 99, outcome: "429" },
			{ ms: 100, outcome: "network" },
		];
		const s = summarizeLoad(samples, 2_000, 2);
		expect(s).toMatchObject({
			requests: 100,
			ok: 98,
			errors: { "429": 1, network: 1 },
			error_count: 2,
			rps: 50,
			latency_ms: { p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 },
			connections: 2,
		});
	});
});

describe("load benchmark targets", () => {
	const at = (
		size: number,
		routes: Partial<Record<Measurement["route"], ReturnType<typeof load>>>,
	) =>
		Object.entries(routes).map(
			([route, r]) => ({ route, size, stored: size, result: r }) as Measurement,
		);

	it("judges GET and POST against the floor of the same size, and each route across sizes", () => {
		const all = [
			...at(1000, {
				floor: load(800, 10),
				get: load(300, 20),
				post: load(200, 40),
				list: load(300, 20),
			}),
			// The machine is half as fast at 10k: the floor shows it, and ratios to it hold.
			...at(10000, {
				floor: load(400, 10),
				get: load(150, 21),
				post: load(75, 41),
				list: load(150, 30),
			}),
		];
		const t = Object.fromEntries(targets(all, [1000, 10000]).map((x) => [x.name, x]));
		expect(t["GET /v1/payments/:id p99 ≤ 2× floor p99"]?.met).toBe(false); // 21 > 20 at 10k
		expect(t["GET /v1/payments/:id p99 ≤ 2× floor p99"]?.detail).toBe(
			"1k: p99 20 ms = 2× floor 10 ms; 10k: p99 21 ms = 2.1× floor 10 ms",
		);
		expect(t["POST /v1/payments p99 ≤ 4× floor p99"]?.met).toBe(false);
		expect(t["POST /v1/payments throughput ≥ 25% of floor"]).toMatchObject({
			met: false,
			detail: "1k: 200 req/s = 25% of floor 800; 10k: 75 req/s = 19% of floor 400",
		});
		// Half the throughput on a machine half as fast is not slower.
		expect(t["GET /v1/payments/:id not slower at 10× stored payments"]).toMatchObject({
			met: true,
			detail: "10k/1k: p50 1.05×, req/s ÷ floor 1× (p99 1.05×)",
		});
		// A median 1.5× longer is slower than the tolerance allows.
		expect(t["GET /v1/payments (list, 10 a page) not slower at 10× stored payments"]).toMatchObject(
			{
				met: false,
				detail: "10k/1k: p50 1.5×, req/s ÷ floor 1× (p99 1.5×)",
			},
		);
		// 19% of the floor against 25% before: 0.75×, under the 0.8× allowed.
		expect(t["POST /v1/payments not slower at 10× stored payments"]?.detail).toBe(
			"10k/1k: p50 1.02×, req/s ÷ floor 0.75× (p99 1.02×)",
		);
		expect(t["POST /v1/payments not slower at 10× stored payments"]?.met).toBe(false);
		expect(t["No errors (429s count as errors)"]?.met).toBe(true);
	});

	it("counts 429s as errors", () => {
		const all = at(1000, { floor: load(800, 10), get: load(300, 20, { "429": 3 }) });
		const t = targets(all, [1000]).find((x) => x.name.startsWith("No errors"));
		expect(t).toEqual({
			name: "No errors (429s count as errors)",
			met: false,
			detail: "GET /v1/payments/:id @1k: 3 (429: 3)",
		});
	});

	it("tabulates ratios to the floor and between sizes", () => {
		const all = [
			...at(1000, { floor: load(800, 10), get: load(400, 15) }),
			...at(10000, { floor: load(800, 10), get: load(200, 30) }),
		];
		expect(sizeTable(all, 1000).rows).toEqual([
			["GET /health/live (floor)", "800", 5, 9, 10, "0", "1×", "100%"],
			["GET /v1/payments/:id", "400", 7.5, 13.5, 15, "0", "1.5×", "50%"],
		]);
		expect(scalingTable(all, [1000, 10000]).rows[0]).toEqual([
			"GET /v1/payments/:id",
			7.5,
			15,
			"2×",
			"2×",
			"0.5×",
		]);
	});
});

describe("results collector", () => {
	it("renders a padded Markdown table with escaped pipes and right-aligned numbers", () => {
		expect(markdownTable({ title: "T", columns: ["a", "n"], rows: [["x|y", 1200]] })).toBe(
			["| a    |     n |", "| ---- | ----: |", "| x\\|y | 1,200 |"].join("\n"),
		);
	});

	it("orders results from the request path outwards and says which targets were met", () => {
		const md = renderAll(
			[
				result("bundle-size"),
				result("load", { targets: [{ name: "GET p99", met: false, detail: "3×" }] }),
			],
			["old.json"],
		);
		expect(md.indexOf("#### load title")).toBeLessThan(md.indexOf("#### bundle-size title"));
		expect(md).toContain("- **missed**: GET p99 (3×)");
		expect(md).toContain("measured 2026-11-25 16:00 UTC on 2 × Test CPU, 4 GiB, Node v20.0.0.");
		expect(md).toContain("Not shown (not in the result shape): `old.json`.");
		expect(
			sortResults([result("zeta"), result("faults"), result("alpha")]).map((r) => r.name),
		).toEqual(["faults", "alpha", "zeta"]);
	});

	it("replaces only what is between the markers, and reports missing markers", () => {
		const text = "intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\nrest\n";
		expect(replaceBetween(text, "new\n")).toBe(
			"intro\n<!-- bench:start -->\n\nnew\n\n<!-- bench:end -->\nrest\n",
		);
		expect(replaceBetween("no markers", "new")).toBeNull();
	});

	it("replaces only markers on lines of their own, not ones named in prose", () => {
		const text =
			"the block between `<!-- bench:start -->` and `<!-- bench:end -->` is replaced\n" +
			"<!-- bench:start -->\nold\n<!-- bench:end -->\n";
		expect(replaceBetween(text, "new")).toBe(
			"the block between `<!-- bench:start -->` and `<!-- bench:end -->` is replaced\n" +
				"<!-- bench:start -->\n\nnew\n\n<!-- bench:end -->\n",
		);
		expect(replaceBetween("`<!-- bench:start -->` `<!-- bench:end -->`", "new")).toBeNull();
	});

	it("accepts only files in the result shape", () => {
		expect(isBenchResult(result("load"))).toBe(true);
		expect(isBenchResult({ benchmark: "webhooks", results: {} })).toBe(false);
		expect(isBenchResult(null)).toBe(false);
	});
});
