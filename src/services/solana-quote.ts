import { getAddressDecoder } from "@solana/kit";
import { getConfig } from "../config";
import { recordReference } from "../db/solana-references";
import { tokenAmountForPrice } from "../domain/conversion";
import type { MerchantSettings } from "../domain/merchant-settings";
import { currencyExponent } from "../domain/money";
import type { SolanaPaymentDetails } from "../domain/payment";
import type { RoutingDecision, SolanaSettings } from "../domain/routing";
import { encodeTransactionRequest, encodeTransferRequest } from "../domain/solana-pay";
import { type Commitment, requiredCommitment } from "../domain/solana-settlement";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { RateError } from "../processors/prices/rates";
import { getMerchant } from "./merchants";
import { isPriceableCurrency, priceableCurrencies, quoteTokenRate } from "./rates";
import { currencyOfToken, settlementWatcher } from "./settlement-accounts";
import { tokenCatalog as configuredTokens, type SolanaToken } from "./tokens";

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

/** The facts of a payment a quote is made from. */
export interface QuotablePayment {
	id: string;
	/** The whole price, minor units. */
	amount: number;
	/** What funds already received cover (minor units): only the rest is priced. */
	amount_received?: number;
	currency: string;
	expires_at: number;
	description: string | null;
	/** The routing decision recorded on the payment: its Solana settings bind every quote. */
	routing?: RoutingDecision | null;
	/** The payment's current quote, for a re-quote. */
	solana?: SolanaPaymentDetails | null;
}

/** Which tokens a payment may be quoted in and the least commitment, and who decided them. */
export interface SolanaQuotePolicy {
	/** The catalog tokens both the merchant and the routing rule accept. */
	tokens: SolanaToken[];
	required_commitment: Commitment;
	/** The rule's own settings when the routing decision chose Solana; null otherwise. */
	rule: { id: string | null; settings: SolanaSettings } | null;
}

const COMMITMENT_ORDER: readonly Commitment[] = ["confirmed", "finalized"];

function stricter(...levels: (Commitment | undefined)[]): Commitment {
	let out: Commitment = "confirmed";
	for (const level of levels) {
		if (level && COMMITMENT_ORDER.indexOf(level) > COMMITMENT_ORDER.indexOf(out)) out = level;
	}
	return out;
}

const named = (t: SolanaToken, name: string) =>
	t.symbol === name || (t.mint !== null && t.mint === name);
const acceptedBy = (list: string[] | undefined) => (t: SolanaToken) =>
	list === undefined || list.some((name) => named(t, name));

/**
 * What a payment's routing decision and its merchant's settings allow a quote to be. A rule's
 * settings apply only when the decision chose Solana (as at creation): a payment routed to
 * Stripe that also accepts Solana is quoted under the merchant's settings alone. A rule's
 * accepted tokens narrow the merchant's list, never widen it; the commitment is the stricter of
 * the rule's, the amount threshold's (on the whole price) and what the payment already had.
 */
export function solanaQuotePolicy(
	env: Env,
	payment: Pick<QuotablePayment, "amount" | "routing" | "solana">,
	settings: MerchantSettings,
): SolanaQuotePolicy {
	const routing = payment.routing;
	const rule =
		routing?.processor === "solana"
			? { id: routing.rule_id, settings: routing.settings as SolanaSettings }
			: null;
	const threshold = settings.solana_finalized_above ?? getConfig(env).SOLANA_FINALIZED_ABOVE;
	return {
		tokens: configuredTokens(env)
			.filter(acceptedBy(settings.accepted_tokens))
			.filter(acceptedBy(rule?.settings.accepted_tokens)),
		required_commitment: stricter(
			requiredCommitment(payment.amount, threshold),
			rule?.settings.required_commitment,
			payment.solana?.required_commitment,
		),
		rule,
	};
}

/** The token asked for, if the policy allows it; otherwise a 400 that says who forbids it. */
function policyToken(
	env: Env,
	policy: SolanaQuotePolicy,
	payment: Pick<QuotablePayment, "solana">,
	tokenName: string,
	param: string,
): SolanaToken {
	const allowed = policy.tokens.find((t) => named(t, tokenName));
	if (allowed) return allowed;
	const known = configuredTokens(env).find((t) => named(t, tokenName));
	// Funds already arrived in this token: the rest must be paid in it too (see updateSolana),
	// so refusing it (a quote made before the rules applied, or settings changed since) would
	// only strand the payer's money.
	if (
		known &&
		payment.solana &&
		BigInt(payment.solana.amount_received) > 0n &&
		currencyOfToken(known) === currencyOfToken(payment.solana)
	) {
		return known;
	}
	const listed = policy.tokens.map((t) => t.symbol).join(", ");
	const ruleTokens = policy.rule?.settings.accepted_tokens;
	if (known && ruleTokens && !acceptedBy(ruleTokens)(known)) {
		const rule = policy.rule?.id ? `routing rule '${policy.rule.id}'` : "the routing decision";
		throw new ApiError(
			"parameter_invalid",
			`Token '${tokenName}' is not accepted for this payment: ${rule} accepts only ${ruleTokens.join(", ")}.${listed ? ` Use one of: ${listed}.` : " None of them is a token the merchant accepts."}`,
			param,
		);
	}
	throw new ApiError(
		"parameter_invalid",
		`Token '${tokenName}' is not accepted here.${listed ? ` Use one of: ${listed}.` : " No token is accepted for this payment."}`,
		param,
	);
}

/**
 * The one way a payment is quoted in a token, at creation and on every re-quote: the payment's
 * routing decision and its merchant's settings decide the tokens and the commitment
 * (solanaQuotePolicy), then the price still owed is converted at the current rate (rounded up
 * to the token's base unit), plus the gateway fee shown separately, with a fresh reference key
 * and the Solana Pay URLs. A currency no rate can price is a 400; a rate that is missing or stale
 * right now is a 503 (retry shortly).
 * `tokenParam` names the token in the caller's request, for errors.
 */
export async function quoteSolanaPayment(
	env: Env,
	payment: QuotablePayment,
	merchant: { name: string; settings: MerchantSettings },
	tokenName: string,
	tokenParam = "token",
): Promise<SolanaPaymentDetails> {
	// A currency no feed prices can never be quoted: a client error, not a pause. At re-quote the
	// currency is still the payment's own `currency`, and naming it (not `token`) tells the client
	// that no other token would do.
	if (!isPriceableCurrency(payment.currency)) {
		throw new ApiError(
			"parameter_invalid",
			`Solana payments cannot be priced in ${payment.currency}: no token rate exists for it. Use one of: ${priceableCurrencies().join(", ")}, or accept cards only.`,
			"currency",
		);
	}
	const policy = solanaQuotePolicy(env, payment, merchant.settings);
	const token = policyToken(env, policy, payment, tokenName, tokenParam);
	await (await import("./settlement-readiness")).assertSettlementAccountExists(env, token);
	const merchantName = merchant.name;
	const now = Math.floor(Date.now() / 1000);
	// A partly paid payment is priced for the rest; what it received keeps its rate.
	const partlyPaid = payment.solana != null && BigInt(payment.solana.amount_received) > 0n;
	const priced = partlyPaid ? payment.amount - (payment.amount_received ?? 0) : payment.amount;
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
	const beforeFee = tokenAmountForPrice(BigInt(priced), rate);
	const feeBps = getConfig(env).GATEWAY_FEE_BPS;
	const fee = (beforeFee * feeBps + 9_999n) / 10_000n;
	const amount = beforeFee + fee;
	const reference = newReference();
	// Indexed before any payer can see it: whatever is sent with it is found as this payment's.
	await recordReference(env.DB, reference, payment.id, now);
	await watchSettlementAccount(env, token, payment.expires_at);
	const memo = payment.id;
	const quoteTtl = getConfig(env).SOLANA_QUOTE_TTL_SECONDS;
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
		required_commitment: policy.required_commitment,
		amount_received: "0",
		amount_excess: "0",
		signature: null,
		payer: null,
	};
}

/**
 * A fresh quote, in `tokenName`, for what a payment still owes: the price less the share its
 * received funds already cover (the object merges the two, see mergeRequote), under the same
 * routing decision and merchant settings as its first quote. Every re-quote goes through here:
 * the API, the Solana Pay transaction request and the object's top-up after a quote expired.
 */
export async function quoteRemainder(
	env: Env,
	payment: QuotablePayment & { merchant_id: string; amount_received: number },
	tokenName: string,
): Promise<SolanaPaymentDetails> {
	const merchant = await getMerchant(env.DB, payment.merchant_id);
	return quoteSolanaPayment(
		env,
		payment,
		merchant ?? { name: "StreamPayments", settings: {} },
		tokenName,
	);
}
