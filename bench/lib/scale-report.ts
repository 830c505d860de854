import { writeResult } from "./report.js";
import {
	type CreationRun,
	type PathSummary,
	type PayPath,
	summarizePath,
	type WindowRun,
} from "./scale-analysis.js";

// bench/results/scale.json: targets, tables and the raw runs of `npm run bench:scale`.

/**
 * The per-reference design it replaced (each payment's object polling its own reference),
 * measured by `npm run bench:solana` at commit c33ffc9: 97 calls per unpaid payment per 15
 * minutes (idle, scaled by phase from 5 measured minutes).
 */
export const PER_REFERENCE_CALLS_PER_15_MIN = 97;
const TARGET_RATIO = 1.2;
const TARGET_SHARE = 1 / 100;
const TARGET_MS: Record<PayPath, number> = { checkout_wallet: 400, wallet: 400, qr: 800 };
const PATH_NAME: Record<PayPath, string> = {
	checkout_wallet: "wallet on the checkout (signature reported)",
	wallet: "wallet by transaction request alone",
	qr: "QR (transfer request)",
};

function perReferencePerMin(open: number): number {
	return Math.round((open * PER_REFERENCE_CALLS_PER_15_MIN) / 15);
}

const fmt = (n: number) => n.toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : "–");

export function writeScaleResult(run: {
	settings: { windowMs: number; paid: number; slotMs: number; hardStopMs: number; sizes: number[] };
	creations: CreationRun[];
	windows: WindowRun[];
	totalS: number;
}): void {
	const { settings, creations, windows } = run;
	const first = windows[0];
	const last = windows.at(-1);
	if (!first || !last) throw new Error("no window was measured");
	const paths: PayPath[] = ["checkout_wallet", "wallet", "qr"];
	const detection = windows.map((w) => ({
		open: w.open_payments,
		paths: Object.fromEntries(
			paths.map((p) => [p, summarizePath(w.samples.filter((s) => s.path === p))]),
		) as Record<PayPath, PathSummary>,
	}));
	const ratio = Math.round((last.rpc.calls_per_min / first.rpc.calls_per_min) * 100) / 100;
	const baseline = perReferencePerMin(last.open_payments);
	const share = last.rpc.calls_per_min / baseline;
	const methods = [...new Set(windows.flatMap((w) => Object.keys(w.rpc.by_method)))].sort();
	const biggest = Math.max(...settings.sizes);
	const reached = Math.max(...creations.map((c) => c.reached_open));

	const detectionTarget = (path: PayPath, which: "median" | "p95") => {
		const per = detection.map((d) => ({ open: d.open, s: d.paths[path] }));
		return {
			name: `${PATH_NAME[path]}: ${which} detection ≤ ${TARGET_MS[path]} ms after confirmed (GET /v1/payments/:id reads succeeded)`,
			met: per.every(
				({ s }) => s.n > 0 && s.failed === 0 && s.detection_ms[which] <= TARGET_MS[path],
			),
			detail: per
				.map(
					({ open, s }) =>
						`${fmt(open)} open: ${which} ${ms(s.detection_ms[which])} (n=${s.n}${s.failed ? `, ${s.failed} not detected` : ""})`,
				)
				.join("; "),
		};
	};

	writeResult({
		name: "scale",
		title: `Chain watching at scale: RPC calls and detection with ${windows.map((w) => fmt(w.open_payments)).join(" and ")} open Solana payments (wrangler dev + sandbox, slot ${settings.slotMs} ms)`,
		targets: [
			{
				name: `RPC calls/min at ${fmt(last.open_payments)} open ÷ at ${fmt(first.open_payments)} open ≤ ${TARGET_RATIO}×`,
				met: ratio <= TARGET_RATIO,
				detail: `${ratio.toFixed(2)}× (${last.rpc.calls_per_min} vs ${first.rpc.calls_per_min} calls/min)`,
			},
			{
				name: `RPC calls/min at ${fmt(last.open_payments)} open ≤ 1/100 of the per-reference design (${PER_REFERENCE_CALLS_PER_15_MIN} calls per unpaid payment per 15 min)`,
				met: share <= TARGET_SHARE,
				detail: `${last.rpc.calls_per_min} calls/min vs ${fmt(baseline)} (1/${Math.round(1 / share)})`,
			},
			detectionTarget("checkout_wallet", "median"),
			detectionTarget("checkout_wallet", "p95"),
			detectionTarget("wallet", "median"),
			detectionTarget("wallet", "p95"),
			detectionTarget("qr", "median"),
			detectionTarget("qr", "p95"),
			{
				name: `${fmt(biggest)} open payments created through the API within the run's bound`,
				met: reached >= biggest,
				detail: creations
					.map(
						(c) =>
							`${fmt(c.created)} created in ${c.seconds} s (${c.payments_per_s}/s)${c.stopped_for_time ? `, stopped at ${fmt(c.reached_open)} open: no time left for a window` : ""}`,
					)
					.join("; "),
			},
			{
				name: `bounded run (≤ ${settings.hardStopMs / 60_000} min)`,
				met: run.totalS <= settings.hardStopMs / 1000,
				detail: `${run.totalS} s`,
			},
		],
		tables: [
			{
				title: `RPC calls per minute at the sandbox during a ${settings.windowMs / 1000} s window`,
				columns: [
					"open payments",
					"calls/min",
					...methods,
					"calls naming a reference",
					"per-reference design (scaled)",
					"share of it",
				],
				rows: windows.map((w) => {
					const old = perReferencePerMin(w.open_payments);
					return [
						fmt(w.open_payments),
						w.rpc.calls_per_min,
						...methods.map((m) => w.rpc.by_method[m]?.per_min ?? 0),
						w.rpc.calls_on_references,
						fmt(old),
						`1/${Math.round(old / w.rpc.calls_per_min)}`,
					];
				}),
				notes: [
					`Every JSON-RPC call the sandbox served during the window except the payers' own sendTransaction, per minute. ${settings.paid} of the open payments were paid during each window: getTransaction, getLatestBlockhash and getSignatureStatuses are theirs (and the minute cron's treasury check adds a few calls a minute: getBalance, getTokenAccountsByOwner and scans).`,
					`getSignaturesForAddress by address (one SettlementWatcher each; median gap between looks): ${windows
						.map(
							(w) =>
								`${fmt(w.open_payments)} open: ${Object.entries(w.rpc.looks_by_address)
									.map(([a, v]) => `${a.slice(0, 4)}… ${v.calls} (${v.median_interval_ms} ms)`)
									.join(", ")}`,
						)
						.join("; ")}.`,
					`Per-reference design: ${PER_REFERENCE_CALLS_PER_15_MIN} calls per unpaid payment per 15 min (measured by bench:solana before the redesign), times the open payments.`,
				],
			},
			{
				title:
					"Detection: from the transaction reaching confirmed to the payment reading succeeded",
				columns: [
					"open payments",
					"path",
					"n",
					"median",
					"p95",
					"max",
					"to commit (median)",
					"confirmed → watcher's look (median)",
					"look → commit (median)",
				],
				rows: detection.flatMap((d) =>
					paths.map((p) => {
						const s = d.paths[p];
						return [
							fmt(d.open),
							PATH_NAME[p],
							s.failed ? `${s.n} (${s.failed} not detected)` : s.n,
							ms(s.detection_ms.median),
							ms(s.detection_ms.p95),
							ms(s.detection_ms.max),
							ms(s.committed_ms.median),
							ms(s.confirmed_to_look_ms.median),
							ms(s.look_to_committed_ms.median),
						];
					}),
				),
				notes: [
					"Confirmed: the moment the sandbox's tip reached the transaction's slot + 1 (its slot events). Read: the arrival of the first GET /v1/payments/:id answering succeeded, polled every 50 ms from the send. Commit: the time inside the payment.succeeded event's id. Look: the watcher's first getSignaturesForAddress on the settlement account after confirmed (the sandbox's call log).",
					"Wallet on the checkout: POST /solana-pay/:id, sign and send, then POST /checkout/:id/signature without waiting for it (as the checkout page does; the payment's object checks the signature's status and has the watcher scan at once). Wallet by transaction request alone: the same without the report, as a wallet that scanned a transaction-request QR code. QR: GET /checkout/:id, then a plain transfer built from solana_pay_url.",
					"Half of each path's payments are in USDC, half in SOL; all 25.00 USD, so they succeed at confirmed. p95 is nearest-rank: with 10 samples it is the largest.",
				],
			},
			{
				title: "Opening the payments (POST /v1/payments, 25.00 USD in USDC or SOL, alternating)",
				columns: [
					"open after",
					"created",
					"seconds",
					"payments/s",
					"seconds per 1,000",
					"RPC calls while creating",
					"429s retried",
				],
				rows: creations.map((c) => [
					fmt(c.reached_open),
					fmt(c.created),
					c.seconds,
					c.payments_per_s,
					c.seconds_per_1000.join(", ") || "–",
					`${c.rpc.calls} (${Object.entries(c.rpc.by_method)
						.map(([m, v]) => `${m} ${v.calls}`)
						.join(", ")})`,
					c.rate_limited,
				]),
				notes: [
					`While creating, the watchers looked every ${creations
						.flatMap((c) => Object.values(c.rpc.looks_by_address).map((v) => v.median_interval_ms))
						.join(
							", ",
						)} ms (median gap per watcher and phase) instead of about ${settings.slotMs} ms: wrangler dev runs every Durable Object on the one Worker thread that is also creating the payments.`,
				],
			},
		],
		data: { settings, total_s: run.totalS, creations, windows, detection },
	});
}
