/**
 * Refunds, pure part: deciding a new refund against the payment and its refunds so far — which
 * method and funds it draws on, how much, to whom, and at what rate after a conversion. The
 * payment's Durable Object calls planRefund inside one synchronous step, so the cap (never more
 * than was received) holds under any race.
 */
import { type PaymentRecord, paidWith } from "./payment";
import { PAYMENT_METHOD_TYPES, type PaymentMethodType } from "./payment-method";
import type { RefundFunds, RefundReason, RefundRecord, SolanaRefundDetails } from "./refund";
import { quoteRefundConversion, type RefundConversionTerms } from "./refund-conversion";
import {
	cardFunds,
	cardLeft,
	cardRefundsInFlight,
	cryptoHeldLeft,
	type HeldFunds,
	holding,
	owedBySender,
	settledTokens,
	splitByPayer,
	tokenShare,
} from "./refund-held";

export interface RefundRequest {
	id: string;
	/** The method whose funds go back; by default the one holding the funds asked for. */
	method?: PaymentMethodType | undefined;
	/** Held crypto: senders owed less than this many base units are left for a later refund. */
	heldMinimum?: bigint | undefined;
	amount?: number | undefined;
	funds?: RefundFunds | undefined;
	reason?: RefundReason | undefined;
	destination?: string | undefined;
	metadata: Record<string, string>;
	now: number;
	/** The current terms for a converted payment's price: its refund is priced with them. */
	conversion?: RefundConversionTerms | undefined;
}

export type RefundPlan =
	| { ok: true; refund: RefundRecord }
	| {
			ok: false;
			code: "parameter_invalid" | "parameter_missing" | "payment_unexpected_state";
			message: string;
			param?: string;
	  };

function refuse(
	code: "parameter_invalid" | "parameter_missing" | "payment_unexpected_state",
	message: string,
	param?: string,
): RefundPlan {
	return param === undefined ? { ok: false, code, message } : { ok: false, code, message, param };
}

/**
 * Transfers one crypto refund transaction carries at most: each is an instruction or two and an
 * account or two, and a Solana transaction is at most 1,232 bytes. More senders take more refunds.
 */
export const MAX_REFUND_RECIPIENTS = 5;

/** Lamports a system account needs to exist (0 bytes of data): less cannot open a new wallet. */
export const RENT_EXEMPT_LAMPORTS = 890_880n;

/**
 * Decides a new refund against the payment and its refunds so far, reserving its amount: the
 * returned record (status `pending`) counts against every later plan until it fails.
 */
export function planRefund(
	p: PaymentRecord,
	refunds: RefundRecord[],
	held: HeldFunds,
	req: RefundRequest,
	/** What each wallet's counted receipts paid of the price (crypto), largest first. */
	paidBy: { payer: string; amount: bigint }[] = p.solana?.payer
		? [{ payer: p.solana.payer, amount: BigInt(p.solana.amount_received) }]
		: [],
	/** Who the held funds belong to (heldByPayer). */
	heldBy: { payer: string; amount: bigint }[] = [],
): RefundPlan {
	const base = {
		id: req.id,
		payment_id: p.id,
		merchant_id: p.merchant_id,
		livemode: p.livemode,
		status: "pending" as const,
		currency: p.currency,
		reason: req.reason ?? null,
		metadata: req.metadata,
		failure_reason: null,
		created: req.now,
		updated: req.now,
		version: 1,
	};
	const method = refundMethod(p, refunds, held, req);
	if (!method.ok) return method;
	const card = p.card;
	if (method.method === "card" && card) {
		if (req.destination !== undefined) {
			return refuse(
				"parameter_invalid",
				"destination is for crypto refunds; card refunds go back to the card.",
				"destination",
			);
		}
		if (card.disputes.length > 0) {
			return refuse(
				"payment_unexpected_state",
				"This payment is disputed; the dispute decides what goes back.",
			);
		}
		const funds = cardFunds(p);
		if (req.funds !== undefined && req.funds !== funds) {
			return refuse(
				"parameter_invalid",
				funds === "held"
					? "This payment's card charge is held (the price was paid otherwise, or the payment closed): refund it with funds 'held'."
					: "This payment's card charge paid its price: refund it with funds 'received'.",
				"funds",
			);
		}
		const left = card.amount_received - card.amount_refunded - cardRefundsInFlight(refunds);
		const plan = amountWithin(req.amount, left, p.currency);
		if (!plan.ok) return plan;
		return {
			ok: true,
			refund: {
				...base,
				funds,
				amount: plan.amount,
				processor: "stripe",
				card: { charge: card.charge, stripe_refund: null, stripe_status: null },
				solana: null,
			},
		};
	}

	const solana = p.solana;
	if (!solana) return refuse("payment_unexpected_state", "This payment has received no funds.");
	const funds: RefundFunds =
		req.funds ?? (p.status === "succeeded" && paidWith(p) !== "card" ? "received" : "held");
	const details = (amount: bigint, recipient: string): SolanaRefundDetails => ({
		token: solana.token,
		mint: solana.mint,
		token_program: solana.token_program,
		decimals: solana.decimals,
		amount: amount.toString(),
		recipient,
		memo: req.id,
		signature: null,
		network_fee: null,
	});
	/** A crypto refund of `tokens`: to one wallet, or split between the wallets in `shares`. */
	const cryptoRefund = (
		amount: number | null,
		tokens: bigint,
		to: string | { payer: string; amount: bigint }[],
	): RefundPlan => {
		const splits = typeof to === "string" ? null : splitByPayer(tokens, to);
		const solanaDetails = splits
			? {
					...details(tokens, splits[0]?.recipient as string),
					splits: splits.map((x) => ({ recipient: x.recipient, amount: x.amount.toString() })),
				}
			: details(tokens, to as string);
		return {
			ok: true,
			refund: { ...base, funds, amount, processor: "solana", card: null, solana: solanaDetails },
		};
	};

	if (funds === "held") {
		if (req.amount !== undefined) {
			return refuse(
				"parameter_invalid",
				"Held funds go back whole: leave amount out (it is the price's share, which held funds are not).",
				"amount",
			);
		}
		// What each sender is still owed: its held funds less what held refunds took for it.
		const owed = owedBySender(
			heldBy.length > 0 || held.payers.length !== 1
				? heldBy
				: [{ payer: held.payers[0] as string, amount: held.tokens }],
			refunds,
		).filter((w) => w.amount >= (req.heldMinimum ?? 1n));
		const tokens = owed.reduce((sum, w) => sum + w.amount, 0n);
		const left = cryptoHeldLeft(refunds, held);
		if (tokens <= 0n || left <= 0n) {
			return refuse("payment_unexpected_state", "This payment holds no funds to refund.");
		}
		if (tokens > left) {
			// Never more than the payment holds, whatever the attribution says.
			return refuse(
				"payment_unexpected_state",
				"This payment's held funds cannot be matched to their senders; contact support.",
			);
		}
		if (req.destination !== undefined) {
			// Held funds are their senders', not the merchant's: another wallet may receive them only
			// when one sender is owed them all (a payer who asked for another address).
			if (owed.length > 1) {
				return refuse(
					"parameter_invalid",
					`The held funds came from ${owed.length} wallets; each gets its own share back. Leave destination out.`,
					"destination",
				);
			}
			const only = owed[0] as { payer: string; amount: bigint };
			const plan = cryptoRefund(null, only.amount, req.destination);
			if (plan.ok && plan.refund.solana) plan.refund.solana.sender = only.payer;
			return plan;
		}
		// Each sender its own share, in one transaction (all or nothing) of at most
		// MAX_REFUND_RECIPIENTS transfers; the rest is owed to the next held refund. SOL below the
		// rent-exempt minimum cannot reach a wallet that does not exist (a sender may empty theirs
		// on purpose): such a share goes alone, so it never blocks the others' refund.
		const small = (w: { amount: bigint }) =>
			solana.mint === null && w.amount < RENT_EXEMPT_LAMPORTS;
		const batch = owed.filter((w) => !small(w)).slice(0, MAX_REFUND_RECIPIENTS);
		if (batch.length === 0) batch.push(owed[0] as { payer: string; amount: bigint });
		const sum = batch.reduce((total, w) => total + w.amount, 0n);
		if (batch.length === 1) return cryptoRefund(null, sum, (batch[0] as { payer: string }).payer);
		return cryptoRefund(null, sum, batch);
	}

	if (p.status !== "succeeded") {
		return refuse(
			"payment_unexpected_state",
			`This payment is '${p.status}': only held funds can go back (funds: "held").`,
		);
	}
	if (paidWith(p) === "card") {
		return refuse(
			"payment_unexpected_state",
			'This payment\'s price was paid by card: its crypto is held. Refund the price with method "card", or the crypto with funds "held".',
			"funds",
		);
	}
	const taken = holding(refunds, "received");
	const refundedFiat = taken.reduce((s, r) => s + (r.amount ?? 0), 0);
	const plan = amountWithin(req.amount, p.amount_received - refundedFiat, p.currency);
	if (!plan.ok) return plan;
	const paid = settledTokens(solana.amount, BigInt(solana.amount_received));
	// A converted price goes back at the current rate (refund-conversion.ts), priced here in the
	// step that reserves the amount, so the quote always matches the amount reserved.
	const conversion = req.conversion
		? quoteRefundConversion(req.conversion, {
				amount: plan.amount,
				price: p.amount,
				received: p.amount_received,
				paid,
				priceTokens: BigInt(solana.quote.amount_before_fee),
				tokenDecimals: solana.decimals,
			})
		: null;
	const converted = (planned: RefundPlan): RefundPlan =>
		conversion && planned.ok ? { ok: true, refund: { ...planned.refund, conversion } } : planned;
	const tokens = conversion
		? BigInt(conversion.tokens)
		: tokenShare({
				paid,
				received: p.amount_received,
				refundedBefore: refundedFiat,
				amount: plan.amount,
				tokensBefore: taken.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n),
			});
	if (tokens <= 0n) {
		return refuse("parameter_invalid", "This amount is too small to send any tokens.", "amount");
	}
	// Several wallets paid the price. A full refund goes back to each by its receipts (the last
	// payer could be a stranger who sent a small part: never all to one); a partial one is the
	// merchant's call, never a guess.
	if (req.destination === undefined && paidBy.length > 1) {
		const whole = taken.length === 0 && plan.amount === p.amount_received;
		if (whole && paidBy.length > MAX_REFUND_RECIPIENTS) {
			return refuse(
				"parameter_missing",
				`This price was paid from ${paidBy.length} wallets, more than one refund transaction reaches (${MAX_REFUND_RECIPIENTS}): refund it in parts, each naming its destination.`,
				"destination",
			);
		}
		if (!whole) {
			return refuse(
				"parameter_missing",
				`Several wallets paid this payment (${paidBy.map((w) => w.payer).join(", ")}): a partial refund needs a destination.`,
				"destination",
			);
		}
		return converted(cryptoRefund(plan.amount, tokens, paidBy));
	}
	const recipient = req.destination ?? paidBy[0]?.payer ?? solana.payer;
	if (!recipient) {
		return refuse("parameter_missing", "The paying wallet is unknown: name the destination.");
	}
	return converted(cryptoRefund(plan.amount, tokens, recipient));
}

/**
 * Which method a refund draws on: the one named, or the one that has the funds asked for — the
 * price's method for `received`, the method holding funds for `held`. Refused when the named
 * method has nothing of those funds, or when both hold funds and the request does not say which.
 */
function refundMethod(
	p: PaymentRecord,
	refunds: RefundRecord[],
	held: HeldFunds,
	req: RefundRequest,
): { ok: true; method: PaymentMethodType } | Extract<RefundPlan, { ok: false }> {
	const no = (message: string, param: string) =>
		({ ok: false, code: "payment_unexpected_state", message, param }) as const;
	const charged = p.card?.intent_status === "succeeded";
	if (req.method === "card") {
		if (!charged) return no("This payment has no card charge to refund.", "method");
		return { ok: true, method: "card" };
	}
	if (req.method === "solana") {
		if (!p.solana) return no("This payment has received no crypto.", "method");
		return { ok: true, method: "solana" };
	}
	const paid = paidWith(p);
	const funds = req.funds ?? (p.status === "succeeded" ? "received" : "held");
	if (funds === "received") {
		// The price goes back the way it came; a payment that has not succeeded has no price paid.
		if (paid === "card" && charged) return { ok: true, method: "card" };
		if (p.solana && paid !== "card") return { ok: true, method: "solana" };
		if (charged) return { ok: true, method: "card" };
		return { ok: true, method: p.solana ? "solana" : "card" };
	}
	const cardHeld = charged && cardFunds(p) === "held" && cardLeft(p, refunds) > 0;
	const cryptoHeld = !!p.solana && cryptoHeldLeft(refunds, held) > 0n;
	if (cardHeld && cryptoHeld) {
		return {
			ok: false,
			code: "parameter_missing",
			message: `This payment holds funds from a card and in crypto: name the method (${PAYMENT_METHOD_TYPES.join(" or ")}).`,
			param: "method",
		};
	}
	if (cardHeld) return { ok: true, method: "card" };
	if (cryptoHeld || p.solana) return { ok: true, method: "solana" };
	return { ok: true, method: "card" };
}

function amountWithin(
	requested: number | undefined,
	left: number,
	currency: string,
): { ok: true; amount: number } | Extract<RefundPlan, { ok: false }> {
	if (left <= 0) {
		return {
			ok: false,
			code: "payment_unexpected_state",
			message: "This payment has already been refunded in full.",
		};
	}
	const amount = requested ?? left;
	if (amount > left) {
		return {
			ok: false,
			code: "parameter_invalid",
			message: `amount (${amount} ${currency}) is more than is left to refund (${left}).`,
			param: "amount",
		};
	}
	return { ok: true, amount };
}
