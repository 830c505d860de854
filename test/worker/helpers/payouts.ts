import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { generateKeyPairSigner } from "@solana/kit";
import { expect } from "vitest";
import type { SenderStatus } from "../../../durable-objects/chain-sender";
import { postTransfer } from "../../../src/db/ledger";
import { insertDestination } from "../../../src/db/payout-destinations";
import { newId } from "../../../src/domain/ids";
import { accounts } from "../../../src/domain/ledger";
import type { PayoutJson } from "../../../src/domain/payout";
import worker from "../../../src/index";
import { call, json } from "./api";
import { advanceSlots } from "./solana";

export type { PayoutJson };

let messageSeq = 0;

/** Hands payout messages to the Worker's queue handler, as the payouts queue would. */
export async function consumePayouts(payoutIds: string[], attempts = 1) {
	const batch = createMessageBatch(
		"payouts",
		payoutIds.map((payout_id) => ({
			id: `payout-msg-${++messageSeq}`,
			timestamp: new Date(),
			attempts,
			body: { kind: "payout", payout_id },
		})),
	);
	const delays: (number | undefined)[] = [];
	for (const message of batch.messages) {
		const retry = message.retry.bind(message);
		message.retry = (options?: QueueRetryOptions) => {
			delays.push(options?.delaySeconds);
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

export function payoutSender(payoutId: string) {
	const ns = env.PAYOUTS as NonNullable<typeof env.PAYOUTS>;
	return ns.get(ns.idFromName(payoutId));
}

/** Runs the payout sender's alarm now, as the runtime would at its due time. */
export async function firePayoutSender(payoutId: string): Promise<SenderStatus> {
	const stub = payoutSender(payoutId);
	await runInDurableObject(stub, (_i, state) => {
		state.storage.sql.exec("UPDATE jobs SET due = 0");
		return state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
	});
	await runDurableObjectAlarm(stub);
	return stub.status();
}

/** Lets the chain confirm and finalize, looking after each step, until the payout is final. */
export async function finalizePayout(payoutId: string): Promise<SenderStatus> {
	for (let i = 0; i < 8; i++) {
		await advanceSlots(3);
		const status = await firePayoutSender(payoutId);
		if (status.state !== "sending") return status;
	}
	return payoutSender(payoutId).status();
}

/** An active destination, inserted as the destinations API would leave it once usable. */
export async function addDestination(
	merchantId: string,
	options: {
		type?: "solana_wallet" | "stripe_account";
		address?: string;
		stripeAccount?: string;
		status?: "active" | "onboarding" | "removed";
		usableAfter?: number;
		livemode?: boolean;
	} = {},
) {
	const now = Math.floor(Date.now() / 1000);
	const type = options.type ?? "solana_wallet";
	return insertDestination(env.DB, {
		id: newId("payoutDestination"),
		merchant_id: merchantId,
		livemode: options.livemode ? 1 : 0,
		type,
		address:
			type === "solana_wallet"
				? (options.address ?? (await generateKeyPairSigner()).address)
				: null,
		stripe_account_id: type === "stripe_account" ? (options.stripeAccount ?? "acct_test") : null,
		status: options.status ?? "active",
		usable_after: options.usableAfter ?? now,
		created: now,
		updated: now,
	});
}

/**
 * Credits a merchant's available balance as if funds had settled there (card funds for fiat,
 * chain funds for tokens): a balanced transfer from the settlement account.
 */
export async function creditAvailable(
	merchantId: string,
	currency: string,
	amount: bigint,
	processor: "stripe" | "solana" = currency === "usd" ? "stripe" : "solana",
): Promise<void> {
	await postTransfer(env.DB, {
		id: `test-credit:${newId("transfer")}`,
		kind: "payment",
		reference: merchantId,
		livemode: false,
		created: Math.floor(Date.now() / 1000),
		postings: [
			{ account: accounts.settlement(false, processor, currency), currency, amount: -amount },
			{ account: accounts.merchantAvailable(merchantId, false, currency), currency, amount },
		],
	});
}

export async function createPayoutOk(
	key: string,
	body: Record<string, unknown>,
	headers?: Record<string, string>,
): Promise<PayoutJson> {
	const res = await call("POST", "/v1/payouts", { key, body, ...(headers ? { headers } : {}) });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<PayoutJson>(res);
}

export async function getPayoutJson(key: string, id: string): Promise<PayoutJson> {
	const res = await call("GET", `/v1/payouts/${id}`, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<PayoutJson>(res);
}

/** The ledger transfers recorded for a payout, by id suffix. */
export async function payoutTransferIds(payoutId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT id FROM ledger_transfers WHERE reference = ? ORDER BY id",
	)
		.bind(payoutId)
		.all<{ id: string }>();
	return results.map((r) => r.id.slice(payoutId.length + 1));
}
