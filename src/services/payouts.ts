import { insertEventStatement } from "../db/events";
import { transferStatements } from "../db/ledger";
import type { PageQuery } from "../db/pagination";
import { usableDestination } from "../db/payout-destinations";
import {
	availableBalance,
	getPayout,
	insertPayoutGuarded,
	isGuardRefusal,
	listPayouts,
	type PayoutFilters,
	payoutById,
	pendingRefundsDraw,
} from "../db/payouts";
import { newId } from "../domain/ids";
import {
	describeAmount,
	destinationTypeFor,
	PayoutInputError,
	type PayoutJson,
	type PayoutRecord,
	parsePayoutCurrency,
	toApiPayout,
} from "../domain/payout";
import type { UsableDestination } from "../domain/payout-destination";
import {
	payoutFeeReserveTransfer,
	payoutReleaseTransfers,
	payoutReserveTransfer,
} from "../domain/payout-ledger";
import type { PayoutsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import { log } from "../lib/log";
import { SolanaRpcError } from "../processors/solana/rpc";
import { stripeConfigured } from "../processors/stripe/client";
import { publishEvents } from "./events";
import { checkChainCoverage, checkSolRecipient, onChainFeeQuote } from "./payout-chain";
import { movePayout, payoutEvents } from "./payout-transitions";
import { tokenCatalog } from "./tokens";

export interface CreatePayoutInput {
	merchantId: string;
	livemode: boolean;
	/** Minor units (fiat) or base units (tokens). */
	amount: bigint;
	/** A fiat code, a token symbol or a mint; normalised to the ledger currency. */
	currency: string;
	destinationId?: string | undefined;
	automatic: boolean;
	/** Statements written in the same D1 batch as the reservation (an automatic payout's items). */
	itemize?: (payoutId: string) => D1PreparedStatement[];
}

/** The API shape of a payout. */
export function payoutJson(row: PayoutRecord): PayoutJson {
	return toApiPayout(row);
}

function inputError(err: unknown): never {
	if (err instanceof PayoutInputError)
		throw new ApiError("parameter_invalid", err.message, err.param);
	throw err;
}

function destinationError(result: Exclude<UsableDestination, { ok: true }>, id?: string): ApiError {
	const named = id ? `Payout destination ${id}` : "The default payout destination";
	switch (result.reason) {
		case "not_found":
			return notFound("payout destination", id ?? "", "destination");
		case "removed":
			return new ApiError("parameter_invalid", `${named} was removed.`, "destination");
		case "wrong_type":
			return new ApiError(
				"parameter_invalid",
				`${named} cannot receive this currency: tokens go to a solana_wallet, fiat to a stripe_account.`,
				"destination",
			);
		case "onboarding":
			return new ApiError(
				"resource_conflict",
				`${named} has not finished Stripe onboarding yet.`,
				"destination",
			);
		case "cooling_off":
			return new ApiError(
				"resource_conflict",
				`${named} is in its cooling-off period until ${new Date((result.usable_after ?? 0) * 1000).toISOString()} (unix ${result.usable_after}).`,
				"destination",
			);
		case "none":
			return new ApiError(
				"parameter_missing",
				"Name a destination: there is no default payout destination of the kind this currency needs.",
				"destination",
			);
	}
}

/**
 * Creates a payout: checks the currency, the destination and that the settlement account can
 * cover it on chain, then reserves the amount (available → payouts in transit) in the same D1
 * batch as the payout row, its itemisation and its event, or refuses with the shortfall. The
 * payouts queue sends it. Throws ApiError in the house shape.
 */
export async function createPayout(env: Env, input: CreatePayoutInput): Promise<PayoutRecord> {
	const nowMs = Date.now();
	const now = Math.floor(nowMs / 1000);
	let currency: ReturnType<typeof parsePayoutCurrency>;
	try {
		currency = parsePayoutCurrency(input.currency, tokenCatalog(env));
	} catch (err) {
		inputError(err);
	}
	if (input.amount <= 0n) {
		throw new ApiError("parameter_invalid", "amount must be greater than zero", "amount");
	}
	const usable = await usableDestination(
		env.DB,
		{
			merchantId: input.merchantId,
			livemode: input.livemode,
			type: destinationTypeFor(currency.currency),
			...(input.destinationId !== undefined ? { id: input.destinationId } : {}),
		},
		now,
	);
	if (!usable.ok) throw destinationError(usable, input.destinationId);
	const destination = usable.destination;
	const method = currency.kind === "token" ? "solana" : "stripe";
	if (method === "stripe" && !stripeConfigured(env)) {
		throw new ApiError(
			"parameter_invalid",
			"Fiat payouts need Stripe, which is not configured.",
			"currency",
		);
	}

	// On chain: the merchant's SOL balance must cover the network fee (and the recipient's token
	// account rent when it has to be created); the settlement account must hold the amount.
	let feeEstimate = 0n;
	let createsTokenAccount = false;
	if (currency.kind === "token") {
		try {
			const quote = await onChainFeeQuote(env, currency.token, destination.address as string);
			feeEstimate = quote.fee;
			createsTokenAccount = quote.createsTokenAccount;
			// The merchant's own shortfall first: the treasury's state (409 below) is nobody's
			// business who could not pay out anyway. The guard checks again when reserving.
			const short = await shortfallError(
				env,
				input,
				currency,
				needFor(input.amount, currency, feeEstimate),
			);
			if (short) throw short;
			await checkChainCoverage(env, currency.token, input.amount, feeEstimate);
			if (currency.token.mint === null) {
				await checkSolRecipient(env, destination.address as string, input.amount);
			}
		} catch (err) {
			if (!(err instanceof SolanaRpcError)) throw err;
			throw new ApiError(
				"service_unavailable",
				"The Solana network cannot be read right now; nothing was reserved. Try again shortly.",
			);
		}
	}
	const payout: PayoutRecord = {
		id: newId("payout", nowMs),
		merchant_id: input.merchantId,
		livemode: input.livemode,
		amount: input.amount.toString(),
		currency: currency.currency,
		destination_id: destination.id,
		method,
		status: "pending",
		automatic: input.automatic,
		fee: null,
		fee_currency: null,
		failure_code: null,
		failure_message: null,
		solana_signature: null,
		stripe_transfer_id: null,
		fee_reserved: method === "solana" ? feeEstimate.toString() : null,
		creates_token_account: createsTokenAccount,
		amount_reversed: "0",
		version: 1,
		created: now,
		updated: now,
	};
	const need = needFor(input.amount, currency, feeEstimate);
	const events = payoutEvents(payout, ["payout.created"], now);
	// The fee estimate is reserved beside the amount, under the same guard.
	const feeReserve = payoutFeeReserveTransfer(payout, now);
	const statements = [
		insertPayoutGuarded(env.DB, payout, need),
		...(await transferStatements(env.DB, payoutReserveTransfer(payout, now))),
		...(feeReserve ? await transferStatements(env.DB, feeReserve) : []),
		...(input.itemize?.(payout.id) ?? []),
		...events.map((e) => insertEventStatement(env.DB, e)),
	];
	try {
		await env.DB.batch(statements);
	} catch (err) {
		if (!isGuardRefusal(err)) throw err;
		// The guard also refuses a destination removed since it was read above.
		const again = await usableDestination(
			env.DB,
			{
				merchantId: input.merchantId,
				livemode: input.livemode,
				type: destinationTypeFor(currency.currency),
				id: destination.id,
			},
			now,
		);
		if (!again.ok) throw destinationError(again, destination.id);
		throw (
			(await shortfallError(env, input, currency, need)) ??
			new ApiError(
				"parameter_invalid",
				"Insufficient available balance for this payout right now; try again.",
				"amount",
			)
		);
	}
	await publishEvents(env, events);
	await enqueuePayout(env, payout.id);
	return payout;
}

/** A SOL payout needs its fee from the same balance; a token payout needs SOL beside it. */
function needFor(
	amount: bigint,
	currency: ReturnType<typeof parsePayoutCurrency>,
	fee: bigint,
): { amount: bigint; solFee: bigint } {
	return currency.currency === "sol"
		? { amount: amount + fee, solFee: 0n }
		: { amount, solFee: fee };
}

/** The refusal naming what the merchant's balances lack for `need`, or null when they cover it. */
async function shortfallError(
	env: Env,
	input: CreatePayoutInput,
	currency: ReturnType<typeof parsePayoutCurrency>,
	need: { amount: bigint; solFee: bigint },
): Promise<ApiError | null> {
	const [balance, refunding] = await Promise.all([
		availableBalance(env.DB, input.merchantId, input.livemode, currency.currency),
		pendingRefundsDraw(
			env.DB,
			input.merchantId,
			input.livemode,
			currency.currency,
			Math.floor(Date.now() / 1000),
		),
	]);
	// Funds pending refunds will take are not available to pay out.
	const available = balance - refunding;
	if (available < need.amount) {
		const fee = need.amount - input.amount;
		const held =
			refunding > 0n
				? ` (${describeAmount(refunding, currency)} more are set aside for pending refunds)`
				: "";
		return new ApiError(
			"parameter_invalid",
			`Insufficient available balance: ${describeAmount(available < 0n ? 0n : available, currency)} available${held}, ${describeAmount(need.amount, currency)} needed${fee > 0n ? ` (including a network fee of up to ${fee})` : ""}; short by ${need.amount - available}.`,
			"amount",
		);
	}
	if (need.solFee === 0n) return null;
	const sol = await availableBalance(env.DB, input.merchantId, input.livemode, "sol");
	if (sol >= need.solFee) return null;
	return new ApiError(
		"parameter_invalid",
		`Insufficient SOL for the network fee: a token payout's fee (up to ${need.solFee} lamports, with the recipient's token account rent) is charged to your SOL balance, which has ${sol < 0n ? 0n : sol} lamports available; short by ${need.solFee - sol}.`,
		"amount",
	);
}

export async function enqueuePayout(env: Env, payoutId: string): Promise<void> {
	if (!env.PAYOUTS_QUEUE) {
		log("error", "no payouts queue bound; the payout stays pending", { payout: payoutId });
		return;
	}
	try {
		await env.PAYOUTS_QUEUE.send({ kind: "payout", payout_id: payoutId } satisfies PayoutsMessage);
	} catch (err) {
		// The payout is reserved and pending: the minute sweep sends it again.
		log("warn", "payout not queued; the sweep retries", {
			payout: payoutId,
			error: err instanceof Error ? err.message : String(err),
		});
	}
}

/**
 * Cancels a pending payout: its reservation is reversed to `available` in the same batch as the
 * status change. A payout the queue has begun sending is no longer cancelable (409).
 */
export async function cancelPayout(
	env: Env,
	auth: { merchantId: string; livemode: boolean },
	id: string,
): Promise<PayoutRecord> {
	const payout = await loadPayout(env, auth, id);
	const now = Math.floor(Date.now() / 1000);
	const next = await movePayout(env, payout, "canceled", {}, now, (p) =>
		payoutReleaseTransfers(p, now),
	);
	if (!next) {
		const current = (await payoutById(env.DB, id)) ?? payout;
		throw new ApiError(
			"resource_conflict",
			`Only a pending payout can be canceled; this one is ${current.status}.`,
		);
	}
	return next;
}

export async function loadPayout(
	env: Env,
	auth: { merchantId: string; livemode: boolean },
	id: string,
): Promise<PayoutRecord> {
	const payout = await getPayout(env.DB, auth.merchantId, auth.livemode, id);
	if (!payout) throw notFound("payout", id);
	return payout;
}

export async function listMerchantPayouts(
	env: Env,
	auth: { merchantId: string; livemode: boolean },
	query: PageQuery,
	filters: PayoutFilters,
) {
	let currency: string | undefined;
	if (filters.currency !== undefined) {
		try {
			currency = parsePayoutCurrency(filters.currency, tokenCatalog(env)).currency;
		} catch (err) {
			inputError(err);
		}
	}
	const page = await listPayouts(env.DB, auth.merchantId, auth.livemode, query, {
		...filters,
		currency,
	});
	return { data: page.data.map(toApiPayout), has_more: page.has_more };
}
