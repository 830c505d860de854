import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPairSigner } from "@solana/kit";
import {
	createPayments,
	finish,
	logLinesSince,
	logSize,
	payDirect,
	SCAN_FAILED,
	type ScenarioResult,
} from "./fault-scenarios.js";
import { fundedPayer, sendDirect, signLamportTransfer, signTransferRequest } from "./payer.js";
import { type ApiPayment, type PipelineHarness, pollUntil } from "./pipeline-stack.js";

// Fault scenarios of `npm run bench:faults` on what reaches the settlement accounts: payments
// paid in parts while the RPC fails, and a payment's reference spammed (see docs/faults.md).

/** The payments whose counted funds are not exactly their quote (read through the API). */
async function notPaidToTheQuote(harness: PipelineHarness, ids: string[]): Promise<string[]> {
	const wrong: string[] = [];
	for (const id of ids) {
		const p = await harness.getPayment(id);
		if (p.status !== "succeeded" || p.solana.amount_received !== p.solana.amount) {
			wrong.push(`${id}: ${p.status}, received ${p.solana.amount_received} of ${p.solana.amount}`);
		}
	}
	return wrong;
}

/** RPC calls the sandbox served since `before` (rpcStats), per method. */
function callsSince(
	harness: PipelineHarness,
	before: ReturnType<PipelineHarness["stack"]["sandbox"]["solana"]["rpcStats"]>,
): Record<string, number> {
	const now = harness.stack.sandbox.solana.rpcStats();
	return Object.fromEntries(
		Object.entries(now.methods)
			.map(([m, v]) => [m, v.calls - (before.methods[m]?.calls ?? 0)] as const)
			.filter(([, n]) => n > 0),
	);
}

export async function twoPartRpcErrors(harness: PipelineHarness): Promise<ScenarioResult> {
	const meta = {
		key: "g",
		name: "Payments in two parts while 40 % of RPC calls fail",
		method:
			"8 USDC payments created; then, while the gateway's RPC fails 40 % of its calls (HTTP 429 or -32005, seeded), each payer sends its quote in two transfers 1–2 s apart through its own RPC; the errors stay on 20 s after the last transfer. Each payment must end succeeded with exactly its quote counted, two receipts booked, no holding account negative",
		startedAt: Date.now(),
	};
	const sandbox = harness.stack.sandbox;
	const payments = await createPayments(harness, 8);
	const served = sandbox.solana.rpcStats();
	const logFrom = logSize(harness);
	sandbox.solana.setFaults({ errorRate: 0.4, seed: 40 });
	let succeededDuringErrors = 0;
	try {
		await Promise.all(
			payments.map(async (payment) => {
				const quote = BigInt(payment.solana.amount);
				const first = quote / 2n;
				const payer = await fundedPayer(sandbox, quote);
				await sendDirect(
					sandbox,
					await signTransferRequest(sandbox, payer, payment, { amount: first }),
				);
				// A later slot, so a second part of the same size is another transaction.
				await sleep(1_000 + Math.random() * 1_000);
				await sendDirect(
					sandbox,
					await signTransferRequest(sandbox, payer, payment, { amount: quote - first }),
				);
			}),
		);
		await sleep(20_000);
		const during = await Promise.all(payments.map((p) => harness.getPayment(p.id)));
		succeededDuringErrors = during.filter((p) => p.status === "succeeded").length;
	} finally {
		sandbox.solana.clearFaults();
	}
	const ids = payments.map((p) => p.id);
	const clearedAt = Date.now();
	const allSucceededAt = await pollUntil(
		"every payment succeeded after the errors cleared",
		Date.now() + 120_000,
		async () => {
			const now = await Promise.all(ids.map((id) => harness.getPayment(id)));
			return now.every((p) => p.status === "succeeded") ? Date.now() : undefined;
		},
		250,
	).catch(() => null);
	const result = await finish(harness, meta, ids, { expectedReceived: 2 });
	const wrong = await notPaidToTheQuote(harness, ids);
	result.details = {
		succeeded_while_errors_on: succeededDuringErrors,
		all_succeeded_after_errors_cleared_s:
			allSucceededAt === null ? null : Math.round((allSucceededAt - clearedAt) / 100) / 10,
		not_paid_to_the_quote: wrong,
		scans_failed_logged: logLinesSince(harness, logFrom, SCAN_FAILED),
		rpc_calls_served: callsSince(harness, served),
		negative_holding_accounts: result.ledger.negative_holding_accounts,
	};
	result.survived &&= wrong.length === 0;
	return result;
}

interface UnattributedFunds {
	signature: string;
	currency: string;
	amount: string;
	reason: string;
	payment: string | null;
}

/** Held unattributed funds, newest first (the admin list has no cursor: at most 100). */
async function heldUnattributed(harness: PipelineHarness): Promise<UnattributedFunds[]> {
	const res = await fetch(
		new URL("/admin/v1/unattributed_funds?status=held&limit=100", harness.stack.gatewayUrl),
		{
			headers: { authorization: `Bearer ${harness.stack.adminToken}` },
			signal: AbortSignal.timeout(20_000),
		},
	);
	if (!res.ok) throw new Error(`GET /admin/v1/unattributed_funds: HTTP ${res.status}`);
	return ((await res.json()) as { data: UnattributedFunds[] }).data;
}

export async function referenceSpam(harness: PipelineHarness, spam = 120): Promise<ScenarioResult> {
	const meta = {
		key: "h",
		name: "A payment's reference spammed",
		method: `a SOL payment is open (so SOL reaching the settlement wallet is watched); a USDC payment is paid by QR, and right after it ${spam} one-lamport SOL transfers carrying its reference are sent from 4 wallets: half to the settlement wallet, half to another funded wallet. The payment must succeed once; the lamports sent to the settlement wallet must be listed as unattributed funds (GET /admin/v1/unattributed_funds), each naming the payment; those sent elsewhere must cost the gateway nothing`,
		startedAt: Date.now(),
	};
	const sandbox = harness.stack.sandbox;
	// The SOL settlement account is watched while a payment in SOL is open (see docs/faults.md).
	const solPayment = await harness.createPayment({
		amount: 2500,
		currency: "usd",
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	});
	const [payment] = (await createPayments(harness, 1)) as [ApiPayment];
	const spammers = await Promise.all(Array.from({ length: 4 }, () => generateKeyPairSigner()));
	const elsewhere = await generateKeyPairSigner();
	for (const s of [...spammers, elsewhere]) sandbox.solana.airdrop(s.address, 1_000_000_000n);
	const served = sandbox.solana.rpcStats();
	const sentAt = Date.now();
	await payDirect(harness, payment);
	const toWallet: string[] = [];
	const toElsewhere: string[] = [];
	await Promise.all(
		Array.from({ length: spam }, async (_, i) => {
			const toTheWallet = i % 2 === 0;
			const wire = await signLamportTransfer(sandbox, spammers[i % 4] as (typeof spammers)[0], {
				to: toTheWallet ? payment.solana.recipient : elsewhere.address,
				lamports: 1n,
				references: [payment.solana.reference],
				// Otherwise equal transfers from one wallet in one slot would be one transaction.
				memo: `spam ${i}`,
			});
			(toTheWallet ? toWallet : toElsewhere).push(await sendDirect(sandbox, wire));
		}),
	);
	const succeeded = await pollUntil(
		`${payment.id} succeeded`,
		Date.now() + 60_000,
		async () =>
			(await harness.getPayment(payment.id)).status === "succeeded" ? Date.now() : undefined,
		200,
	).catch(() => null);
	const mine = new Set(toWallet);
	const others = new Set(toElsewhere);
	let listed: UnattributedFunds[] = [];
	await pollUntil(
		"the spam to the settlement wallet listed as unattributed funds",
		Date.now() + 60_000,
		async () => {
			listed = (await heldUnattributed(harness)).filter(
				(f) => mine.has(f.signature) || others.has(f.signature),
			);
			return listed.filter((f) => mine.has(f.signature)).length >= toWallet.length
				? true
				: undefined;
		},
		2_000,
	).catch(() => undefined);
	const result = await finish(harness, meta, [payment.id]);
	const fromWallet = listed.filter((f) => mine.has(f.signature));
	const lamports = fromWallet.reduce((n, f) => n + BigInt(f.amount), 0n);
	const rightlyListed = fromWallet.filter(
		(f) => f.currency === "sol" && f.amount === "1" && f.payment === payment.id,
	).length;
	const calls = callsSince(harness, served);
	const onReference =
		sandbox.solana.rpcStats().methods.getSignaturesForAddress?.byKey[payment.solana.reference] ?? 0;
	result.details = {
		detected_after_s: succeeded === null ? null : Math.round((succeeded - sentAt) / 100) / 10,
		spam_to_settlement_wallet: toWallet.length,
		spam_elsewhere: toElsewhere.length,
		unattributed_listed: fromWallet.length,
		unattributed_lamports: lamports.toString(),
		unattributed_reasons: [...new Set(fromWallet.map((f) => f.reason))],
		spam_elsewhere_listed: listed.length - fromWallet.length,
		rpc_calls_served: calls,
		get_signatures_for_the_reference: onReference,
		sol_payment_open: solPayment.id,
	};
	result.survived &&=
		succeeded !== null &&
		rightlyListed === toWallet.length &&
		lamports === BigInt(toWallet.length) &&
		listed.length === fromWallet.length;
	return result;
}
