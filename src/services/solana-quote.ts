import { getAddressDecoder } from "@solana/kit";
import type { MerchantSettings } from "../db/schema";
import { recordReference } from "../db/solana-references";
import { tokenAmountForPrice } from "../domain/conversion";
import { currencyExponent } from "../domain/money";
import type { SolanaPaymentDetails } from "../domain/payment";
import { encodeTransactionRequest, encodeTransferRequest } from "../domain/solana-pay";
import { requiredCommitment } from "../domain/solana-settlement";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { RateError } from "../processors/prices/rates";
import { getMerchant } from "./merchants";
import { quoteTokenRate } from "./rates";
import { currencyOfToken, settlementWatcher } from "./settlement-accounts";
import { tokenCatalog as configuredTokens, resolveToken } from "./tokens";

export { resolveToken, type SolanaToken, tokenCatalog } from "./tokens";

function newReference(): string {
	return getAddressDecoder().decode(crypto.getRandomValues(new Uint8Array(32)));
}

/** "150.00" style: price-currency units per whole token, to the currency's precision plus four. */
function formatRate(
	numerator: bigint,
	denominator: bigint,
	decimals: number,
	exponent: number,
): string {
	const shown = exponent + 4;
	const scaled =
		(numerator * 10n ** BigInt(decimals) * 10n ** BigInt(shown - exponent)) / denominator;
	const digits = scaled.toString().padStart(shown + 1, "0");
	return `${digits.slice(0, -shown)}.${digits.slice(-shown)}`;
}

/**
 * The settlement watcher keeps looking after expiry for this long at its brisk pace, so late
 * funds are booked at once; after that the minute cron's scans still book them.
 */
const LATE_WINDOW_S = 10 * 60;

/** Per isolate and binding: the furthest watch already asked of each watcher (saves calls). */
const watching = new WeakMap<object, Map<string, number>>();

/**
 * Asks the watcher of the token's settlement account to look about once a slot until the
 * payment's late window ends. Its first call starts the watcher (its opening balance and
 * cursor), so a quote is never handed out before its payment can be seen.
 */
export async function watchSettlementAccount(
	env: Env,
	token: { mint: string | null },
	expiresAt: number,
): Promise<void> {
	const currency = currencyOfToken(token);
	const until = (expiresAt + LATE_WINDOW_S) * 1000;
	let watchingUntil = watching.get(env.SETTLEMENT_WATCHERS);
	if (!watchingUntil) {
		watchingUntil = new Map();
		watching.set(env.SETTLEMENT_WATCHERS, watchingUntil);
		// Every settlement account starts being watched before the first quote goes out: funds
		// sent in another token with this payment's reference are then booked (unattributed),
		// never taken into an account's opening balance. Once per isolate; a watcher already
		// started only answers. One that cannot start now is started by the minute cron.
		const others = configuredTokens(env).filter(
			(t) => currencyOfToken(t) !== currencyOfToken(token),
		);
		await Promise.allSettled(
			others.map((t) => settlementWatcher(env, currencyOfToken(t)).watch(currencyOfToken(t), 0)),
		);
	}
	if ((watchingUntil.get(currency) ?? 0) >= until) return;
	try {
		const watched = await settlementWatcher(env, currency).watch(currency, until);
		if (watched.error) throw new Error(watched.error);
	} catch (err) {
		log("warn", "settlement watcher unavailable", {
			currency,
			error: err instanceof Error ? err.message : String(err),
		});
		throw new ApiError(
			"service_unavailable",
			"The Solana network cannot be watched for this payment right now. Retry shortly.",
		);
	}
	watchingUntil.set(currency, until);
}

/**
 * Prices a payment in a token: the price converted at the current rate (rounded up to the
 * token's base unit), plus the gateway fee shown separately, with a fresh reference key and
 * the Solana Pay URLs. A missing or stale rate stops quoting with a clear error.
 */
export async function quoteSolanaPayment(
	env: Env,
	payment: {
		id: string;
		amount: number;
		currency: string;
		expires_at: number;
		description: string | null;
	},
	merchant: { name: string; settings: MerchantSettings },
	tokenName: string,
): Promise<SolanaPaymentDetails> {
	const token = resolveToken(env, tokenName, merchant.settings.accepted_tokens);
	await (await import("./settlement-readiness")).assertSettlementAccountExists(env, token);
	const merchantName = merchant.name;
	const now = Math.floor(Date.now() / 1000);
	let rate: Awaited<ReturnType<typeof quoteTokenRate>>;
	try {
		// The rates cache first (one D1 read), the price source only when it has nothing current.
		rate = await quoteTokenRate(env, token, payment.currency, now);
	} catch (err) {
		if (err instanceof RateError) {
			throw new ApiError(
				"service_unavailable",
				`No current ${token.symbol}/${payment.currency} rate: ${err.message}. Retry shortly.`,
			);
		}
		throw err;
	}
	const beforeFee = tokenAmountForPrice(BigInt(payment.amount), rate);
	const feeBps = BigInt(env.GATEWAY_FEE_BPS ?? "50");
	const fee = (beforeFee * feeBps + 9_999n) / 10_000n;
	const amount = beforeFee + fee;
	const reference = newReference();
	// Indexed before any payer can see it: whatever is sent with it is found as this payment's.
	await recordReference(env.DB, reference, payment.id, now);
	await watchSettlementAccount(env, token, payment.expires_at);
	const memo = payment.id;
	const quoteTtl = Number(env.SOLANA_QUOTE_TTL_SECONDS ?? "900");
	return {
		token: token.symbol,
		mint: token.mint,
		token_program: token.program,
		decimals: token.decimals,
		amount: amount.toString(),
		recipient: env.SOLANA_SETTLEMENT_WALLET,
		reference,
		memo,
		solana_pay_url: encodeTransferRequest({
			recipient: env.SOLANA_SETTLEMENT_WALLET,
			amount,
			decimals: token.decimals,
			splToken: token.mint ?? undefined,
			references: [reference],
			label: merchantName,
			message: payment.description ?? undefined,
			memo,
		}),
		transaction_request_url: encodeTransactionRequest(
			new URL(`/solana-pay/${payment.id}`, env.PUBLIC_BASE_URL).toString(),
			{ label: merchantName },
		),
		quote: {
			rate: formatRate(
				rate.numerator,
				rate.denominator,
				token.decimals,
				currencyExponent(payment.currency),
			),
			fee: fee.toString(),
			amount_before_fee: beforeFee.toString(),
			source: rate.source,
			expires_at: Math.min(payment.expires_at, now + quoteTtl),
		},
		required_commitment: requiredCommitment(
			payment.amount,
			merchant.settings.solana_finalized_above ?? Number(env.SOLANA_FINALIZED_ABOVE ?? "10000"),
		),
		amount_received: "0",
		amount_excess: "0",
		signature: null,
		payer: null,
	};
}

/**
 * A fresh quote, in `tokenName`, for what a payment still owes: the price less the share its
 * received funds already cover (the object merges the two, see mergeRequote).
 */
export async function quoteRemainder(
	env: Env,
	payment: {
		id: string;
		merchant_id: string;
		amount: number;
		amount_received: number;
		currency: string;
		expires_at: number;
		description: string | null;
		solana: SolanaPaymentDetails | null;
	},
	tokenName: string,
): Promise<SolanaPaymentDetails> {
	const merchant = await getMerchant(env.DB, payment.merchant_id);
	const partlyPaid = payment.solana !== null && BigInt(payment.solana.amount_received) > 0n;
	const fresh = await quoteSolanaPayment(
		env,
		{ ...payment, amount: partlyPaid ? payment.amount - payment.amount_received : payment.amount },
		merchant ?? { name: "StreamPayments", settings: {} },
		tokenName,
	);
	// The finality rule follows the whole price, not the remainder.
	return payment.solana
		? { ...fresh, required_commitment: payment.solana.required_commitment }
		: fresh;
}
