import type { RpcCallEvent } from "../../sandbox/solana/simulator.js";
import { summarize } from "./stats.js";

// The numbers of `npm run bench:scale`, from the sandbox's per-call log (every JSON-RPC call it
// served, with its method, the addresses or signatures it named and when) and from the paid
// payments' samples.

/** The payers' own calls; everything else the sandbox served was the gateway's. */
const PAYER_METHODS = new Set(["sendTransaction"]);

export interface RpcWindow {
	minutes: number;
	calls: number;
	calls_per_min: number;
	/** Per method: calls in the window and calls a minute. */
	by_method: Record<string, { calls: number; per_min: number }>;
	/** getSignaturesForAddress by the address it paged, with the median gap between two looks. */
	looks_by_address: Record<string, { calls: number; median_interval_ms: number }>;
	/** Calls naming any open payment's reference: what the old design spent per payment. */
	calls_on_references: number;
	/** getTransaction calls naming a signature the bench sent (the paid payments). */
	get_transaction_on_paid: number;
}

export function rpcWindow(
	calls: RpcCallEvent[],
	from: number,
	to: number,
	references: ReadonlySet<string>,
	paidSignatures: ReadonlySet<string>,
): RpcWindow {
	const inWindow = calls.filter((c) => c.at >= from && c.at < to && !PAYER_METHODS.has(c.method));
	const minutes = (to - from) / 60_000;
	const perMin = (n: number) => Math.round((n / minutes) * 10) / 10;
	const byMethod: RpcWindow["by_method"] = {};
	const looks = new Map<string, number[]>();
	let onReferences = 0;
	let onPaid = 0;
	for (const c of inWindow) {
		const entry = byMethod[c.method] ?? { calls: 0, per_min: 0 };
		entry.calls += 1;
		byMethod[c.method] = entry;
		if (c.keys.some((k) => references.has(k))) onReferences += 1;
		if (c.method === "getTransaction" && c.keys.some((k) => paidSignatures.has(k))) onPaid += 1;
		if (c.method === "getSignaturesForAddress") {
			for (const key of c.keys) looks.set(key, [...(looks.get(key) ?? []), c.at]);
		}
	}
	for (const entry of Object.values(byMethod)) entry.per_min = perMin(entry.calls);
	return {
		minutes: Math.round(minutes * 100) / 100,
		calls: inWindow.length,
		calls_per_min: perMin(inWindow.length),
		by_method: byMethod,
		looks_by_address: Object.fromEntries(
			[...looks].map(([address, times]) => [
				address,
				{
					calls: times.length,
					median_interval_ms: summarize(times.slice(1).map((t, i) => t - (times[i] as number)))
						.median,
				},
			]),
		),
		calls_on_references: onReferences,
		get_transaction_on_paid: onPaid,
	};
}

/** The first look (getSignaturesForAddress on `account`) at or after `from`, if any before `to`. */
export function firstLook(
	calls: RpcCallEvent[],
	account: string,
	from: number,
	to: number,
): number | undefined {
	return calls.find(
		(c) =>
			c.method === "getSignaturesForAddress" && c.at >= from && c.at <= to && c.keys[0] === account,
	)?.at;
}

/**
 * checkout_wallet: a browser wallet on the checkout page (POST /solana-pay/:id, signAndSend, then
 * the page reports the signature to POST /checkout/:id/signature, as src/client/checkout.ts does).
 * wallet: a wallet that fetched the transaction request by itself (a scanned transaction-request
 * QR code): nothing tells the gateway the signature. qr: a plain transfer from the Solana Pay URL.
 */
export type PayPath = "checkout_wallet" | "wallet" | "qr";

export interface PaidSample {
	size: number;
	path: PayPath;
	token: string;
	payment: string;
	signature: string;
	slot: number;
	/** When the tip reached slot + confirmedLag: the transaction readable at `confirmed`. */
	confirmed_at: number;
	/** When a GET /v1/payments/:id first answered `succeeded` (the response's arrival). */
	read_succeeded_at: number | null;
	/** The payment.succeeded event's id time: when the payment's object committed the change. */
	committed_at: number | null;
	/** The watcher's first getSignaturesForAddress on the settlement account after confirmed_at. */
	looked_at: number | null;
	error?: string;
}

export interface PathSummary {
	n: number;
	failed: number;
	/** confirmed → GET reads succeeded (the brief's measure). */
	detection_ms: ReturnType<typeof summarize>;
	/** confirmed → the object's commit (the event id's time), without the read poll. */
	committed_ms: ReturnType<typeof summarize>;
	confirmed_to_look_ms: ReturnType<typeof summarize>;
	look_to_committed_ms: ReturnType<typeof summarize>;
}

export function summarizePath(samples: PaidSample[]): PathSummary {
	const ok = samples.filter((s) => s.read_succeeded_at !== null);
	const since = (s: PaidSample, t: number | null) => (t === null ? [] : [t - s.confirmed_at]);
	return {
		n: ok.length,
		failed: samples.length - ok.length,
		detection_ms: summarize(ok.flatMap((s) => since(s, s.read_succeeded_at))),
		committed_ms: summarize(ok.flatMap((s) => since(s, s.committed_at))),
		confirmed_to_look_ms: summarize(ok.flatMap((s) => since(s, s.looked_at))),
		look_to_committed_ms: summarize(
			ok.flatMap((s) =>
				s.looked_at !== null && s.committed_at !== null ? [s.committed_at - s.looked_at] : [],
			),
		),
	};
}

/** Opening payments up to one size. */
export interface CreationRun {
	target_open: number;
	reached_open: number;
	created: number;
	seconds: number;
	payments_per_s: number;
	/** Seconds each successive 1,000 creations took. */
	seconds_per_1000: number[];
	stopped_for_time: boolean;
	/** 429s from the API's per-key rate limit, each retried. */
	rate_limited: number;
	rpc: RpcWindow;
}

/** One measured window at one size. */
export interface WindowRun {
	open_payments: number;
	rpc: RpcWindow;
	samples: PaidSample[];
}
