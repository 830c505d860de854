import { getAddressDecoder } from "@solana/kit";
import type { MerchantSettings } from "../db/schema";
import { tokenAmountForPrice } from "../domain/conversion";
import { currencyExponent } from "../domain/money";
import type { SolanaPaymentDetails } from "../domain/payment";
import { encodeTransactionRequest, encodeTransferRequest } from "../domain/solana-pay";
import { requiredCommitment } from "../domain/solana-settlement";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { RateError } from "../processors/prices/rates";
import { quoteTokenRate } from "./rates";
import { resolveToken } from "./tokens";

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
