import type { LoadResult } from "./load-client.js";
import type { BenchResult, BenchTable } from "./report.js";

// Turns the load benchmark's measurements into its tables and targets: each route against the
// floor (`GET /health/live`, measured in the same run at the same size), and each route against
// itself at 10× the stored payments.

export const ROUTES = {
	floor: "GET /health/live (floor)",
	get: "GET /v1/payments/:id",
	list: "GET /v1/payments (list, 10 a page)",
	post: "POST /v1/payments",
	post_idempotent: "POST /v1/payments + Idempotency-Key",
	checkout: "GET /checkout/:id",
} as const;

export type RouteName = keyof typeof ROUTES;

export interface Measurement {
	route: RouteName;
	/** The nominal size of this round (1000, 10000, …). */
	size: number;
	/** The merchant's payments in D1 when the round started. */
	stored: number;
	result: LoadResult;
}

/**
 * Growth allowed per 10× stored payments before a route counts as slower. Judged on the median
 * and on throughput relative to the floor measured at the same size (which cancels the machine
 * getting busier or quieter between sizes); p99 is reported but too noisy over 10 s on a shared
 * machine to judge on.
 */
export const SCALE_TOLERANCE = { p50: 1.25, rps_vs_floor: 0.8 };

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });
const kfmt = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

function errorsText(r: LoadResult): string {
	if (r.error_count === 0) return "0";
	return `${r.error_count} (${Object.entries(r.errors)
		.map(([k, v]) => `${k}: ${v}`)
		.join(", ")})`;
}

function find(all: Measurement[], route: RouteName, size: number): Measurement | undefined {
	return all.find((m) => m.route === route && m.size === size);
}

export function sizeTable(all: Measurement[], size: number): BenchTable {
	const here = all.filter((m) => m.size === size);
	const floor = find(all, "floor", size)?.result;
	return {
		title: `${kfmt(size)} stored payments (${fmt(here[0]?.stored ?? 0)} in D1 at the start)`,
		columns: [
			"Route",
			"req/s",
			"p50 ms",
			"p95 ms",
			"p99 ms",
			"errors",
			"p99 ÷ floor",
			"req/s ÷ floor",
		],
		rows: here.map(({ route, result: r }) => [
			ROUTES[route],
			fmt(r.rps),
			r.latency_ms.p50,
			r.latency_ms.p95,
			r.latency_ms.p99,
			errorsText(r),
			floor ? `${ratio(r.latency_ms.p99, floor.latency_ms.p99)}×` : "",
			floor ? `${Math.round((r.rps / floor.rps) * 100)}%` : "",
		]),
	};
}

interface Step {
	from: number;
	to: number;
	p50: number;
	p99: number;
	/** Throughput ratio, each size's divided by its own floor's. */
	rps_vs_floor: number;
}

function steps(all: Measurement[], route: RouteName, sizes: number[]): Step[] {
	const out: Step[] = [];
	for (let i = 1; i < sizes.length; i++) {
		const [from, to] = [sizes[i - 1] as number, sizes[i] as number];
		const a = find(all, route, from)?.result;
		const b = find(all, route, to)?.result;
		const fa = find(all, "floor", from)?.result;
		const fb = find(all, "floor", to)?.result;
		if (!a || !b || !fa || !fb) continue;
		out.push({
			from,
			to,
			p50: ratio(b.latency_ms.p50, a.latency_ms.p50),
			p99: ratio(b.latency_ms.p99, a.latency_ms.p99),
			rps_vs_floor: ratio(b.rps / fb.rps, a.rps / fa.rps),
		});
	}
	return out;
}

const stepMet = (s: Step) =>
	s.p50 <= SCALE_TOLERANCE.p50 && s.rps_vs_floor >= SCALE_TOLERANCE.rps_vs_floor;

export function scalingTable(all: Measurement[], sizes: number[]): BenchTable {
	const routes: RouteName[] = ["get", "list", "post", "post_idempotent"];
	const pairs = sizes.slice(1).map((s, i) => `${kfmt(s)}/${kfmt(sizes[i] as number)}`);
	return {
		title: "The same routes at 10× the stored payments",
		columns: [
			"Route",
			...sizes.map((s) => `p50 ms @${kfmt(s)}`),
			...pairs.flatMap((p) => [`p50 ${p}`, `p99 ${p}`, `req/s ÷ floor ${p}`]),
		],
		rows: routes.map((route) => [
			ROUTES[route],
			...sizes.map((s) => find(all, route, s)?.result.latency_ms.p50 ?? ""),
			...steps(all, route, sizes).flatMap((s) => [`${s.p50}×`, `${s.p99}×`, `${s.rps_vs_floor}×`]),
		]),
		notes: [
			`"Not slower" means, from one size to the next, a median at most ${SCALE_TOLERANCE.p50}× and throughput (each divided by the floor of its own size) at least ${SCALE_TOLERANCE.rps_vs_floor}×. p99 is shown, not judged: over 10 s on a shared 2-core machine it swings several-fold between identical runs.`,
		],
	};
}

export function targets(all: Measurement[], sizes: number[]): NonNullable<BenchResult["targets"]> {
	const out: NonNullable<BenchResult["targets"]> = [];
	const vsFloor = (
		route: RouteName,
		name: string,
		check: (r: LoadResult, floor: LoadResult) => boolean,
		describe: (r: LoadResult, floor: LoadResult) => string,
	) => {
		const parts: string[] = [];
		let met = true;
		for (const size of sizes) {
			const r = find(all, route, size)?.result;
			const floor = find(all, "floor", size)?.result;
			if (!r || !floor) continue;
			met &&= check(r, floor);
			parts.push(`${kfmt(size)}: ${describe(r, floor)}`);
		}
		if (parts.length > 0) out.push({ name, met, detail: parts.join("; ") });
	};
	const p99 = (r: LoadResult, f: LoadResult) =>
		`p99 ${r.latency_ms.p99} ms = ${ratio(r.latency_ms.p99, f.latency_ms.p99)}× floor ${f.latency_ms.p99} ms`;
	const rps = (r: LoadResult, f: LoadResult) =>
		`${fmt(r.rps)} req/s = ${Math.round((r.rps / f.rps) * 100)}% of floor ${fmt(f.rps)}`;
	vsFloor(
		"get",
		"GET /v1/payments/:id p99 ≤ 2× floor p99",
		(r, f) => r.latency_ms.p99 <= 2 * f.latency_ms.p99,
		p99,
	);
	for (const route of ["post", "post_idempotent"] as const) {
		vsFloor(
			route,
			`${ROUTES[route]} p99 ≤ 4× floor p99`,
			(r, f) => r.latency_ms.p99 <= 4 * f.latency_ms.p99,
			p99,
		);
		vsFloor(
			route,
			`${ROUTES[route]} throughput ≥ 25% of floor`,
			(r, f) => r.rps >= 0.25 * f.rps,
			rps,
		);
	}
	for (const route of ["get", "list", "post", "post_idempotent"] as const) {
		const list = steps(all, route, sizes);
		if (list.length === 0) continue;
		out.push({
			name: `${ROUTES[route]} not slower at 10× stored payments`,
			met: list.every(stepMet),
			detail: list
				.map(
					(s) =>
						`${kfmt(s.to)}/${kfmt(s.from)}: p50 ${s.p50}×, req/s ÷ floor ${s.rps_vs_floor}× (p99 ${s.p99}×)`,
				)
				.join("; "),
		});
	}
	const failed = all.filter((m) => m.result.error_count > 0);
	out.push({
		name: "No errors (429s count as errors)",
		met: failed.length === 0,
		detail:
			failed.length === 0
				? `${fmt(all.reduce((s, m) => s + m.result.requests, 0))} requests, all 2xx`
				: failed
						.map((m) => `${ROUTES[m.route]} @${kfmt(m.size)}: ${errorsText(m.result)}`)
						.join("; "),
	});
	return out;
}
