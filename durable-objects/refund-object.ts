import type { SolanaRefundDetails } from "../src/domain/refund";
import type { Env } from "../src/env";
import { log } from "../src/lib/log";
import {
	buildRefundTransaction,
	settlementSigner,
} from "../src/processors/solana/refund-transaction";
import { completeUnattributedRefund } from "../src/services/unattributed-funds";
import type { ChainSendJob, SenderOutcome } from "./chain-sender";
import { ChainSenderObject } from "./chain-sender-object";

export type { SendAttempt, SenderState, SenderStatus } from "./chain-sender";

/** What to send: one crypto refund, as its payment's object planned and reserved it. */
export interface RefundTransferSpec {
	refund_id: string;
	/** The payment whose refund this is; empty for unattributed funds. */
	payment_id: string;
	/** Set instead of a payment: the unattributed inflow whose funds go back to their sender. */
	unattributed?: string;
	solana: SolanaRefundDetails;
}

const refundJob: ChainSendJob<RefundTransferSpec> = {
	noun: "refund",
	idOf: (spec) => spec.refund_id,
	build: async (env, rpc, spec) => {
		const signer = await settlementSigner(env);
		return buildRefundTransaction(rpc, signer, spec.solana);
	},
	lamportsSent: (spec) => (spec.solana.mint === null ? BigInt(spec.solana.amount) : 0n),
	report: reportRefund,
};

/** Tells the payment's object (or the unattributed funds) how the refund ended. */
async function reportRefund(
	env: Env,
	spec: RefundTransferSpec,
	outcome: SenderOutcome,
): Promise<void> {
	const networkFee = outcome.networkFee.toString();
	if (spec.unattributed) {
		await completeUnattributedRefund(env, spec.unattributed, {
			signature: outcome.signature,
			networkFee: outcome.networkFee,
			failed: outcome.state !== "finalized",
		});
		return;
	}
	const payment = env.PAYMENTS.get(env.PAYMENTS.idFromName(spec.payment_id));
	const result =
		outcome.state === "finalized"
			? await payment.completeRefund(spec.refund_id, {
					solana: { signature: outcome.signature as string, network_fee: networkFee },
				})
			: await payment.failRefund(spec.refund_id, {
					reason: outcome.failure ?? "The refund could not be sent.",
					network_fee: networkFee,
				});
	if (!result.ok) log("error", "refund outcome not booked", { refund: spec.refund_id, result });
}

/**
 * One object per crypto refund: sends its transfer from the settlement wallet exactly once
 * (durable-objects/chain-sender.ts), then hands the outcome to the payment's object, which books
 * it, or to the unattributed funds it came from.
 */
export class RefundObject extends ChainSenderObject<RefundTransferSpec> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, refundJob);
	}
}
