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

/** Growth allowed per 10× stored payments before a route counts as slower (machine noise). */
export const SCALE_TOLERANCE = { p99: 1.25, rps: 0.8 };

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

export function scalingTable(all: Measurement[], sizes: number[]): BenchTable {
	const routes: RouteName[] = ["get", "list", "post", "post_idempotent"];
	const steps = sizes.slice(1).map((s, i) => [sizes[i] as number, s] as const);
	return {
		title: "The same routes at 10× the stored payments",
		columns: [
			"Route",
			...sizes.map((s) => `p99 ms @${kfmt(s)}`),
			...steps.map(([a, b]) => `p99 ${kfmt(b)}/${kfmt(a)}`),
			...steps.map(([a, b]) => `req/s ${kfmt(b)}/${kfmt(a)}`),
		],
		rows: routes.map((route) => [
			ROUTES[route],
			...sizes.map((s) => find(all, route, s)?.result.latency_ms.p99 ?? ""),
			...steps.map(([a, b]) => {
				const x = find(all, route, a)?.result;
				const y = find(all, route, b)?.result;
				return x && y ? `${ratio(y.latency_ms.p99, x.latency_ms.p99)}×` : "";
			}),
			...steps.map(([a, b]) => {
				const x = find(all, route, a)?.result;
				const y = find(all, route, b)?.result;
				return x && y ? `${ratio(y.rps, x.rps)}×` : "";
			}),
		]),
		notes: [
			`"Not slower" allows for noise on a shared machine: p99 at most ${SCALE_TOLERANCE.p99}× and req/s at least ${SCALE_TOLERANCE.rps}× of the size before.`,
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
		const parts: string[] = [];
		let met = true;
		for (let i = 1; i < sizes.length; i++) {
			const a = find(all, route, sizes[i - 1] as number)?.result;
			const b = find(all, route, sizes[i] as number)?.result;
			if (!a || !b) continue;
			const p = ratio(b.latency_ms.p99, a.latency_ms.p99);
			const t = ratio(b.rps, a.rps);
			met &&= p <= SCALE_TOLERANCE.p99 && t >= SCALE_TOLERANCE.rps;
			parts.push(
				`${kfmt(sizes[i] as number)}/${kfmt(sizes[i - 1] as number)}: p99 ${p}×, req/s ${t}×`,
			);
		}
		if (parts.length > 0) {
			out.push({
				name: `${ROUTES[route]} not slower at 10× stored payments`,
				met,
				detail: parts.join("; "),
			});
		}
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
