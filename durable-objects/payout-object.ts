import { DurableObject } from "cloudflare:workers";
import type { PayoutToken } from "../src/domain/payout";
import type { Env } from "../src/env";
import {
	buildSettlementTransaction,
	settlementSigner,
} from "../src/processors/solana/refund-transaction";
import { assertSettlementHolds, completeOnChainPayout } from "../src/services/payout-chain";
import {
	ChainSender,
	type ChainSendJob,
	type SenderState,
	type SenderStatus,
} from "./chain-sender";

/** What to send: one on-chain payout, as reserved in the ledger. */
export interface PayoutTransferSpec {
	payout_id: string;
	/** The destination wallet (its associated token account for tokens, created if missing). */
	recipient: string;
	/** Base units. */
	amount: string;
	token: PayoutToken;
}

const payoutJob: ChainSendJob<PayoutTransferSpec> = {
	noun: "payout",
	idOf: (spec) => spec.payout_id,
	build: async (env, rpc, spec) => {
		const signer = await settlementSigner(env);
		// Never partly: a settlement account short of the amount fails the payout unsent.
		await assertSettlementHolds(rpc, signer.address, spec.token, BigInt(spec.amount));
		return buildSettlementTransaction(
			rpc,
			signer,
			{
				legs: [{ recipient: spec.recipient, amount: spec.amount }],
				mint: spec.token.mint,
				token_program: spec.token.program,
				decimals: spec.token.decimals,
				memo: spec.payout_id,
			},
			"payout",
		);
	},
	lamportsSent: (spec) => (spec.token.mint === null ? BigInt(spec.amount) : 0n),
	report: async (env, spec, outcome) => {
		await completeOnChainPayout(env, spec.payout_id, outcome);
	},
};

/**
 * One object per on-chain payout: sends its transfer from the settlement wallet exactly once with
 * the machinery crypto refunds use (durable-objects/chain-sender.ts), the payout id as memo, and
 * books the outcome (paid, or failed with the reservation reversed) once it is final.
 */
export class PayoutObject extends DurableObject<Env> {
	private readonly sender: ChainSender<PayoutTransferSpec>;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sender = new ChainSender(ctx, env, payoutJob);
	}

	/** Takes the payout on (once; later calls with the same payout just look again). */
	async start(spec: PayoutTransferSpec): Promise<SenderStatus> {
		return this.sender.start(spec);
	}

	async status(): Promise<SenderStatus> {
		return this.sender.status();
	}

	/** Gives up if nothing can land any more (see ChainSender.abandon). */
	async abandon(reason: string): Promise<SenderState | null> {
		return this.sender.abandon(reason);
	}

	override async alarm(): Promise<void> {
		await this.sender.alarm();
	}
}
