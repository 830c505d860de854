import type { PayoutToken } from "../src/domain/payout";
import type { Env } from "../src/env";
import {
	buildSettlementTransaction,
	settlementSigner,
} from "../src/processors/solana/refund-transaction";
import {
	assertSettlementHolds,
	completeOnChainPayout,
	recipientTokenAccountExists,
} from "../src/services/payout-chain";
import type { ChainSendJob } from "./chain-sender";
import { ChainSenderObject } from "./chain-sender-object";

/** What to send: one on-chain payout, as reserved in the ledger. */
export interface PayoutTransferSpec {
	payout_id: string;
	/** The destination wallet (its associated token account for tokens, created if missing). */
	recipient: string;
	/** Base units. */
	amount: string;
	token: PayoutToken;
	/**
	 * Whether the transaction may create the recipient's token account (its rent is in the
	 * payout's fee reserve). Without it a closed account makes the transfer fail on chain, at
	 * the signature fee only. Absent in specs from before it existed: true.
	 */
	create_token_account?: boolean;
}

const payoutJob: ChainSendJob<PayoutTransferSpec> = {
	noun: "payout",
	idOf: (spec) => spec.payout_id,
	build: async (env, rpc, spec) => {
		const signer = await settlementSigner(env);
		// Never partly: a settlement account short of the amount fails the payout unsent.
		await assertSettlementHolds(rpc, signer.address, spec.token, BigInt(spec.amount));
		// Closed since the send step looked: fail unsent rather than pay (the merchant) to reopen it.
		const mayCreate = spec.create_token_account ?? true;
		if (
			spec.token.mint !== null &&
			!mayCreate &&
			!(await recipientTokenAccountExists(rpc, spec.recipient, spec.token))
		) {
			throw new Error(
				`the destination wallet's ${spec.token.symbol} token account was closed after the payout was accepted`,
			);
		}
		return buildSettlementTransaction(
			rpc,
			signer,
			{
				legs: [{ recipient: spec.recipient, amount: spec.amount }],
				mint: spec.token.mint,
				token_program: spec.token.program,
				decimals: spec.token.decimals,
				memo: spec.payout_id,
				create_token_accounts: spec.create_token_account ?? true,
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
export class PayoutObject extends ChainSenderObject<PayoutTransferSpec> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, payoutJob);
	}
}
