import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ledgerTotals } from "../../src/db/ledger";
import { type PaymentStatus, TRANSITIONS } from "../../src/domain/payment-state";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import { call, createMerchant, json } from "../worker/helpers/api";
import { fireDueJobs } from "../worker/helpers/objects";
import { advanceSlots, detect, fundedPayer, sendTransfer } from "../worker/helpers/solana";
import { deliver, eventsFor, stripe } from "../worker/helpers/stripe";
import { expectHouseShape } from "./helpers/house";
import type { Merchant } from "./helpers/objects";

// Property-based fuzzing of the payment state machine through the public surface: random
// sequences of what merchants, payers, Stripe and the chain do to one payment (cancel, re-quote,
// capture, refund, card attempts, replayed Stripe webhooks, chain payments in full or in part,
// polls and expiry). Every status the payment is seen in, and every status its events record,
// follows a transition in domain/payment-state.ts; the ledger sums to zero per currency after
// every sequence; no step gets a 5xx. Seeded: the same sequences every run.

const NUM_RUNS = 25;
const SEED = 20_231_107;

type Op =
	| { kind: "cancel" }
	| { kind: "quote" }
	| { kind: "pay_crypto"; fraction: 1 | 0.5 | 2 }
	| { kind: "card"; method: "pm_card_visa" | "pm_card_chargeDeclined" }
	| { kind: "capture"; amount?: number }
	| { kind: "refund"; amount?: number }
	| { kind: "replay_stripe" }
	| { kind: "poll" }
	| { kind: "expire" };

const op: fc.Arbitrary<Op> = fc.oneof(
	fc.constant({ kind: "cancel" } as const),
	fc.constant({ kind: "quote" } as const),
	fc.constantFrom(1, 0.5, 2).map((fraction) => ({ kind: "pay_crypto", fraction }) as const),
	fc
		.constantFrom("pm_card_visa", "pm_card_chargeDeclined")
		.map((method) => ({ kind: "card", method }) as const),
	fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }).map((amount) => ({
		kind: "capture" as const,
		...(amount !== undefined ? { amount } : {}),
	})),
	fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }).map((amount) => ({
		kind: "refund" as const,
		...(amount !== undefined ? { amount } : {}),
	})),
	fc.constant({ kind: "replay_stripe" } as const),
	fc.constant({ kind: "poll" } as const),
	fc.constant({ kind: "expire" } as const),
);

interface PaymentView {
	id: string;
	status: PaymentStatus;
	amount: number;
	solana?: { solana_pay_url: string; decimals: number } | null;
}

let m: Merchant;
let payer: Awaited<ReturnType<typeof fundedPayer>>;
beforeAll(async () => {
	m = await createMerchant("State fuzz");
	payer = await fundedPayer();
});

async function current(id: string): Promise<PaymentView> {
	const res = await call("GET", `/v1/payments/${id}`, { key: m.sk });
	expect(res.status).toBe(200);
	return json<PaymentView>(res);
}

async function noServerError(res: Response, context: string): Promise<void> {
	const text = await res.text();
	expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeLessThan(500);
	if (res.status >= 400) expectHouseShape(res, text, context);
}

/** Applies one step; returns the card intent when the step opened one. */
async function apply(p: PaymentView, step: Op, intents: string[]): Promise<void> {
	const ctx = `${step.kind} on ${p.status}`;
	switch (step.kind) {
		case "cancel":
			return noServerError(await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk }), ctx);
		case "quote":
			return noServerError(
				await call("POST", `/v1/payments/${p.id}/quote`, { key: m.sk, body: { token: "SOL" } }),
				ctx,
			);
		case "capture":
			return noServerError(
				await call("POST", `/v1/payments/${p.id}/capture`, {
					key: m.sk,
					body: step.amount !== undefined ? { amount: step.amount } : {},
				}),
				ctx,
			);
		case "refund":
			return noServerError(
				await call("POST", "/v1/refunds", {
					key: m.sk,
					body: { payment: p.id, ...(step.amount !== undefined ? { amount: step.amount } : {}) },
				}),
				ctx,
			);
		case "pay_crypto": {
			if (!p.solana) return;
			const request = parseTransferRequest(p.solana.solana_pay_url);
			const [whole = "0", fraction = ""] = (request.amount ?? "0").split(".");
			const full = BigInt(whole + fraction.padEnd(p.solana.decimals, "0"));
			const amount = step.fraction === 1 ? full : step.fraction === 2 ? full * 2n : full / 2n;
			await sendTransfer({
				payer,
				recipient: request.recipient,
				amount,
				references: request.references,
				memo: request.memo ? [request.memo] : [],
			});
			await advanceSlots(5);
			await detect(p.id);
			return;
		}
		case "card": {
			const opened = await call("POST", `/checkout/${p.id}/card`, {
				body: {},
				headers: { "CF-Connecting-IP": "192.0.2.77" },
			});
			if (opened.status !== 200) return noServerError(opened, ctx);
			const { client_secret } = await json<{ client_secret: string }>(opened);
			const intent = client_secret.slice(0, client_secret.indexOf("_secret_"));
			intents.push(intent);
			await stripe.paymentIntents
				.confirm(intent, { payment_method: step.method })
				.catch(() => undefined);
			for (const event of await eventsFor(intent)) await noServerError(await deliver(event), ctx);
			return;
		}
		case "replay_stripe":
			// Stripe retries and reorders: every event so far, again, newest first.
			for (const intent of intents)
				for (const event of (await eventsFor(intent)).reverse())
					await noServerError(await deliver(event), ctx);
			return;
		case "poll":
			await detect(p.id);
			return;
		case "expire":
			await fireDueJobs(p.id, ["expire"]);
			return;
	}
}

function expectLegal(from: PaymentStatus, to: PaymentStatus, context: string): void {
	if (from === to) return;
	expect(TRANSITIONS[from], `${context}: ${from} → ${to} is not in TRANSITIONS`).toContain(to);
}

describe("fuzzing the payment state machine", () => {
	it("never changes state illegally and never unbalances the ledger", async () => {
		const reached = new Set<PaymentStatus>();
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom("automatic", "manual"),
				fc.array(op, { minLength: 1, maxLength: 5 }),
				async (capture, steps) => {
					const res = await call("POST", "/v1/payments", {
						key: m.sk,
						body: {
							amount: 2500,
							currency: "usd",
							payment_method_types: ["solana", "card"],
							solana: { token: "SOL" },
							capture_method: capture,
						},
					});
					expect(res.status, await res.clone().text()).toBe(200);
					let seen = await current((await json<{ id: string }>(res)).id);
					const trail = [seen.status];
					const intents: string[] = [];
					for (const step of steps) {
						await apply(seen, step, intents);
						const next = await current(seen.id);
						expectLegal(seen.status, next.status, `${step.kind} in [${trail.join(", ")}]`);
						seen = next;
						trail.push(seen.status);
						reached.add(seen.status);
					}
					// The events record every status the payment passed through, in commit order.
					const { results } = await env.DB.prepare(
						"SELECT data FROM events WHERE object_id = ? ORDER BY id",
					)
						.bind(seen.id)
						.all<{ data: string }>();
					// An event's data is the payment as committed.
					const statuses = results
						.map((r) => (JSON.parse(r.data) as { status?: PaymentStatus }).status)
						.filter((s): s is PaymentStatus => s !== undefined);
					for (let i = 1; i < statuses.length; i++)
						expectLegal(statuses[i - 1] as PaymentStatus, statuses[i] as PaymentStatus, "events");
					for (const [currency, total] of await ledgerTotals(env.DB))
						expect(total, `ledger total of ${currency} after [${trail.join(", ")}]`).toBe(0n);
				},
			),
			{ numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
		);
		// The sequences got somewhere: paid, refused and ended payments, not only failed requests.
		for (const status of ["succeeded", "canceled", "expired", "requires_capture"] as const)
			expect([...reached], `no sequence reached ${status}`).toContain(status);
	}, 120_000);
});
