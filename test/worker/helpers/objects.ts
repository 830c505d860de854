import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { PaymentObject, PaymentParts } from "../../../durable-objects/payment/object";
import { readReceipts } from "../../../durable-objects/payment/receipts";
import { paymentReceivedTransfer } from "../../../src/domain/ledger";
import type { TransitionResult } from "../../../src/domain/payment";
import type { PaymentStatus } from "../../../src/domain/payment-state";
import type { ReceiptRow } from "../../../src/domain/solana-receipts";

export function paymentObject(id: string): DurableObjectStub<PaymentObject> {
	return env.PAYMENTS.get(env.PAYMENTS.idFromName(id));
}

/** Runs `fn` inside the payment's object, on the core and sides it is built from. */
export function insidePayment<R>(
	id: string,
	fn: (parts: PaymentParts, state: DurableObjectState) => R | Promise<R>,
): Promise<R> {
	// The parts are private fields (kept off the RPC stub's type); here, inside, they are reached.
	return runInDurableObject(paymentObject(id), (instance, state) =>
		fn(instance as unknown as PaymentParts, state),
	);
}

/**
 * Moves the payment to `to` through the state machine, as the gateway's own paths do (the card
 * and chain sides, the review, expiry), for tests that need a status without its cause.
 */
export function transitionPayment(
	id: string,
	to: PaymentStatus,
	failure?: { code: string; message: string },
): Promise<TransitionResult> {
	return insidePayment(id, ({ core }) =>
		core.transition(to, (p) =>
			failure ? { ...p, failure_code: failure.code, failure_message: failure.message } : p,
		),
	);
}

/** Funds arrived: records them and credits the merchant in the ledger, in one commit. */
export function markSucceeded(
	id: string,
	input: { amountReceived: number; processor: string; balance: "available" | "pending" },
): Promise<TransitionResult> {
	return insidePayment(id, ({ core }) =>
		core.transition(
			"succeeded",
			(p, now) => ({ ...p, amount_received: input.amountReceived, succeeded_at: now }),
			(p) => [
				paymentReceivedTransfer({
					paymentId: p.id,
					merchantId: p.merchant_id,
					livemode: p.livemode,
					currency: p.currency,
					amount: BigInt(p.amount_received),
					processor: input.processor,
					balance: input.balance,
					created: p.updated,
				}),
			],
		),
	);
}

/** Number of the payment's changes not yet in D1; zero when the projection is current. */
export function pendingOutbox(id: string): Promise<number> {
	return insidePayment(
		id,
		({ core }) => core.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n,
	);
}

/** Receipts the payment's object recorded on chain. */
export function paymentReceipts(id: string): Promise<ReceiptRow[]> {
	return insidePayment(id, ({ core }) => readReceipts(core.sql));
}

/** Makes the object's scheduled jobs due now and runs its alarm, as the runtime would later. */
export async function fireDueJobs(
	id: string,
	jobs: (
		| "expire"
		| "flush"
		| "poll"
		| "card_available"
		| "card_release"
		| "final_look"
		| "extra_refund"
	)[],
): Promise<boolean> {
	const stub = paymentObject(id);
	await runInDurableObject(stub, (_instance, state) => {
		for (const job of jobs) state.storage.sql.exec("UPDATE jobs SET due = 1 WHERE name = ?", job);
		// A future alarm that runDurableObjectAlarm then runs at once, so nothing races it.
		return state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
	});
	return runDurableObjectAlarm(stub);
}

export async function scheduledJobs(id: string): Promise<string[]> {
	return runInDurableObject(paymentObject(id), (_i, state) =>
		state.storage.sql
			.exec<{ name: string }>("SELECT name FROM jobs ORDER BY name")
			.toArray()
			.map((r) => r.name),
	);
}

/**
 * Replaces the object's D1 binding with one whose writes fail, as when D1 is unreachable, and
 * returns a function that restores it.
 */
export async function breakD1(id: string): Promise<() => Promise<void>> {
	const stub = paymentObject(id);
	const failing = new Proxy(env.DB, {
		get(target, prop, receiver) {
			if (prop === "batch" || prop === "exec") {
				return () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
			}
			const value = Reflect.get(target, prop, receiver);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
	// `env` is protected on DurableObject; tests swap it to simulate an outage.
	await runInDurableObject(stub, (instance) => {
		(instance as unknown as { env: typeof env }).env = { ...env, DB: failing };
	});
	return async () => {
		await runInDurableObject(stub, (instance) => {
			(instance as unknown as { env: typeof env }).env = env;
		});
	};
}

export async function projectedRow(id: string) {
	return env.DB.prepare("SELECT status, version, amount_received FROM payments WHERE id = ?")
		.bind(id)
		.first<{ status: string; version: number; amount_received: number }>();
}

export async function eventTypes(objectId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT type FROM events WHERE object_id = ? ORDER BY id",
	)
		.bind(objectId)
		.all<{ type: string }>();
	return results.map((r) => r.type);
}

/**
 * Swaps the payment object's CONVERSIONS_QUEUE for a recorder and returns the messages it will
 * send, so the test delivers them itself and no background consumer races it.
 */
export async function recordConversionMessages(paymentId: string): Promise<unknown[]> {
	const sent: unknown[] = [];
	const recorder = {
		send: async (body: unknown) => void sent.push(body),
		sendBatch: async (messages: { body: unknown }[]) => {
			for (const m of messages) sent.push(m.body);
		},
	};
	await runInDurableObject(paymentObject(paymentId), (instance) => {
		// `env` is protected on DurableObject; the test swaps one binding.
		(instance as unknown as { env: typeof env }).env = {
			...env,
			CONVERSIONS_QUEUE: recorder as unknown as Queue<unknown>,
		};
	});
	return sent;
}
