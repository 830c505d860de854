import {
	type HeldFundsSummary,
	PAYMENT_METHOD_TYPES,
	type PaymentMethodType,
	type PaymentRecord,
	paidWith,
} from "./payment";
import {
	quoteRefundConversion,
	type RefundConversion,
	type RefundConversionTerms,
} from "./refund-conversion";

/**
 * Refunds, pure part: what a payment can still give back, how much of which token a refund
 * sends, and the ledger transfers of a finished refund. The payment's Durable Object calls these
 * inside one synchronous step, so the cap (never more than was received) holds under any race.
 *
 * Fee policy: the payer gets back everything the refunded share of the payment cost them (the
 * gateway fee a crypto payer paid on top included); the merchant pays for it. Stripe keeps its
 * card fee and the gateway keeps its fee, as Stripe does, and the network fee of a crypto
 * refund's transaction is charged to the merchant's SOL balance. A merchant's balance can
 * therefore dip below zero by those fees; later payments make it up. A converted payment (its
 * price moved into the merchant's settlement currency) goes back at the current rate, paid from
 * the settlement balance with the conversion spread on top (src/domain/refund-conversion.ts).
 */
export const REFUND_REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const REFUND_STATUSES = ["pending", "succeeded", "failed", "canceled"] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * `received`: what the merchant was paid (the price, in the payment's currency). `held`: crypto
 * the payment holds for refund (an overpayment's excess, funds that arrived late or after the
 * quote ran out), or a card charge that succeeded after the payment had closed.
 */
export const REFUND_FUNDS = ["received", "held"] as const;
export type RefundFunds = (typeof REFUND_FUNDS)[number];

export interface SolanaRefundDetails {
	token: string;
	mint: string | null;
	token_program: string | null;
	decimals: number;
	/** Base units sent back (decimal string). */
	amount: string;
	recipient: string;
	/** The refund id, carried by the transfer as an SPL memo. */
	memo: string;
	/**
	 * The settlement wallet's token account the tokens leave from, when it is not its associated
	 * one (funds a payer sent to another account the wallet owns go back from there).
	 */
	source?: string;
	/**
	 * A full refund of a payment several wallets paid: each gets back its share, in one
	 * transaction (all or nothing). `amount` is their sum, `recipient` the largest payer.
	 */
	splits?: { recipient: string; amount: string }[];
	/**
	 * Held funds sent to a wallet other than the one they came from (its sender asked): whose
	 * funds they were, so they are not owed to it again.
	 */
	sender?: string;
	/** The transaction that paid the refund, once it is final. */
	signature: string | null;
	/** Lamports the refund's transactions cost the settlement wallet (fees, a new token account). */
	network_fee: string | null;
}

export interface CardRefundDetails {
	charge: string | null;
	/** Stripe's refund (`re_…` at Stripe), once Stripe has it. */
	stripe_refund: string | null;
	stripe_status: string | null;
}

/** What a change to a refund returns: the stored refund, or why it was refused. */
export type RefundResult =
	| { ok: true; refund: RefundRecord }
	| {
			ok: false;
			code:
				| "resource_missing"
				| "parameter_invalid"
				| "parameter_missing"
				| "payment_unexpected_state";
			message: string;
			param?: string;
	  };

/** What a PaymentObject stores for each refund of its payment. */
export interface RefundRecord {
	id: string;
	payment_id: string;
	merchant_id: string;
	livemode: boolean;
	status: RefundStatus;
	funds: RefundFunds;
	/** Minor units of `currency`; null for held crypto, which has no price (see `solana.amount`). */
	amount: number | null;
	currency: string;
	reason: RefundReason | null;
	metadata: Record<string, string>;
	processor: "stripe" | "solana";
	failure_reason: string | null;
	card: CardRefundDetails | null;
	solana: SolanaRefundDetails | null;
	/** A converted payment's refund: its price taken from the settlement balance, at these terms. */
	conversion?: RefundConversion;
	created: number;
	updated: number;
	version: number;
}

export interface RefundJson
	extends Omit<RefundRecord, "payment_id" | "merchant_id" | "version" | "conversion"> {
	object: "refund";
	payment: string;
	/** Null unless the refund is of a converted payment (refund-conversion.ts). */
	conversion: RefundConversion | null;
	/** The method the money goes back by: `card` (Stripe) or `solana` (on chain). */
	method: PaymentMethodType;
	fees: {
		paid_by: "merchant";
		/** Stripe's fee and the gateway fee stay with whoever charged them. */
		payment_fee_returned: false;
		/** Lamports (crypto), charged to the merchant's SOL balance; null for cards and until final. */
		network_fee: string | null;
	};
}

export function toApiRefund(r: RefundRecord): RefundJson {
	const { id, payment_id, merchant_id: _m, version: _v, ...rest } = r;
	return {
		id,
		object: "refund",
		...rest,
		payment: payment_id,
		conversion: r.conversion ?? null,
		method: r.processor === "stripe" ? "card" : "solana",
		fees: {
			paid_by: "merchant",
			payment_fee_returned: false,
			network_fee: r.solana?.network_fee ?? null,
		},
	};
}

/** `refunded` once everything received has gone back, `partially_refunded` before, else null. */
export function refundStatusOf(
	p: Pick<PaymentRecord, "amount_received" | "amount_refunded" | "card">,
): "refunded" | "partially_refunded" | null {
	if (p.amount_refunded <= 0) return null;
	const base = p.amount_received > 0 ? p.amount_received : (p.card?.amount_received ?? 0);
	return p.amount_refunded >= base ? "refunded" : "partially_refunded";
}

/** Crypto the payment holds for refund, and the wallets it came from. */
export interface HeldFunds {
	tokens: bigint;
	payers: string[];
}

/** Receipts as the refund rules need them (solana-watcher's rows, reduced). */
export interface ReceiptSummary {
	amount: bigint;
	payer: string;
	disposition: "counted" | "late" | "rejected";
}

type HeldInput = Pick<PaymentRecord, "status" | "solana" | "paid_with" | "card">;

/** Whether the counted crypto receipts are all held: the card paid the price instead. */
function cardPaid(p: HeldInput): boolean {
	return paidWith(p) === "card";
}

/**
 * What sits in the payment's holding account: late receipts always; counted ones beyond the
 * quote once the payment succeeded (the excess), or all of them once it closed unpaid or the
 * card paid its price. Funds a still-open payment has counted are on their way to paying it.
 */
export function heldFunds(p: HeldInput, receipts: ReceiptSummary[]): HeldFunds {
	if (!p.solana) return { tokens: 0n, payers: [] };
	const counted = receipts.filter((r) => r.disposition === "counted");
	const late = receipts.filter((r) => r.disposition === "late");
	const sum = (rs: ReceiptSummary[]) => rs.reduce((s, r) => s + r.amount, 0n);
	const open = p.status === "requires_payment" || p.status === "processing";
	let tokens = sum(late);
	const from = [...late];
	if (cardPaid(p)) {
		tokens += sum(counted);
		from.push(...counted);
	} else if (p.status === "succeeded") {
		const excess = sum(counted) - settledTokens(p.solana.amount, sum(counted));
		if (excess > 0n) {
			tokens += excess;
			from.push(...counted);
		}
	} else if (!open) {
		tokens += sum(counted);
		from.push(...counted);
	}
	return { tokens, payers: [...new Set(from.map((r) => r.payer))] };
}

/**
 * Who the held funds belong to: late receipts to their own payers, an excess or the counted
 * funds of a payment that closed unpaid to the wallets that paid, by what each paid.
 */
export function heldByPayer(
	p: HeldInput,
	receipts: ReceiptSummary[],
): { payer: string; amount: bigint }[] {
	if (!p.solana) return [];
	const shares = new Map<string, bigint>();
	const add = (payer: string, amount: bigint) =>
		amount > 0n && shares.set(payer, (shares.get(payer) ?? 0n) + amount);
	const counted = receipts.filter((r) => r.disposition === "counted");
	for (const r of receipts) if (r.disposition === "late") add(r.payer, r.amount);
	const paid = new Map<string, bigint>();
	for (const r of counted) paid.set(r.payer, (paid.get(r.payer) ?? 0n) + r.amount);
	const paidBy = [...paid].map(([payer, amount]) => ({ payer, amount }));
	const total = counted.reduce((s, r) => s + r.amount, 0n);
	const open = p.status === "requires_payment" || p.status === "processing";
	if (cardPaid(p)) {
		for (const x of paidBy) add(x.payer, x.amount);
	} else if (p.status === "succeeded") {
		const excess = total - settledTokens(p.solana.amount, total);
		for (const x of splitByPayer(excess, paidBy)) add(x.recipient, x.amount);
	} else if (!open) {
		for (const x of paidBy) add(x.payer, x.amount);
	}
	return [...shares]
		.map(([payer, amount]) => ({ payer, amount }))
		.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}

/** Of what was counted, the part that paid the quote (fee included); the rest is excess. */
export function settledTokens(quoted: string, counted: bigint): bigint {
	const expected = BigInt(quoted);
	return counted < expected ? counted : expected;
}

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

/** Refunds that hold part of the payment: the pending ones (reserved) and the succeeded ones. */
function holding(refunds: RefundRecord[], funds: RefundFunds): RefundRecord[] {
	return refunds.filter(
		(r) => r.funds === funds && (r.status === "pending" || r.status === "succeeded"),
	);
}

/** The card amount already spoken for: what the ledger has seen refunded plus refunds in flight. */
export function cardRefundsInFlight(refunds: RefundRecord[]): number {
	return refunds
		.filter((r) => r.processor === "stripe" && r.status === "pending")
		.reduce((s, r) => s + (r.amount ?? 0), 0);
}

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
 * Transfers one crypto refund transaction carries at most: each is an instruction or two and an
 * account or two, and a Solana transaction is at most 1,232 bytes. More senders take more refunds.
 */
export const MAX_REFUND_RECIPIENTS = 5;

/** Lamports a system account needs to exist (0 bytes of data): less cannot open a new wallet. */
export const RENT_EXEMPT_LAMPORTS = 890_880n;

/**
 * What each sender of held crypto is still owed: its share of the held funds less what the held
 * refunds so far (pending or sent) took for it, largest first, nothing at zero.
 */
export function owedBySender(
	heldBy: { payer: string; amount: bigint }[],
	refunds: RefundRecord[],
): { payer: string; amount: bigint }[] {
	const owed = new Map(heldBy.map((w) => [w.payer, w.amount]));
	for (const r of holding(refunds, "held")) {
		if (r.processor !== "solana" || !r.solana) continue;
		const legs = r.solana.splits ?? [
			{ recipient: r.solana.sender ?? r.solana.recipient, amount: r.solana.amount },
		];
		for (const leg of legs) {
			const before = owed.get(leg.recipient);
			if (before !== undefined) owed.set(leg.recipient, before - BigInt(leg.amount));
		}
	}
	return [...owed]
		.map(([payer, amount]) => ({ payer, amount }))
		.filter((w) => w.amount > 0n)
		.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}

/** A card charge pays the price while the card paid it and the payment succeeded; else held. */
function cardFunds(p: PaymentRecord): RefundFunds {
	return p.status === "succeeded" && paidWith(p) === "card" ? "received" : "held";
}

/** Minor units of a card charge not yet refunded nor reserved by a pending refund. */
function cardLeft(p: PaymentRecord, refunds: RefundRecord[]): number {
	const card = p.card;
	if (card?.intent_status !== "succeeded") return 0;
	return card.amount_received - card.amount_refunded - cardRefundsInFlight(refunds);
}

/** Held crypto base units not yet refunded nor reserved by a pending refund. */
export function cryptoHeldLeft(refunds: RefundRecord[], held: HeldFunds): bigint {
	const reserved = holding(refunds, "held")
		.filter((r) => r.processor === "solana")
		.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n);
	return held.tokens - reserved;
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

/**
 * What the payment holds for refund, per method, for its API object: a held card charge and
 * what of it went back; held crypto (late, excess, extra) and the held refunds that succeeded.
 */
export function heldFundsSummary(
	p: PaymentRecord,
	held: HeldFunds,
	refunds: RefundRecord[],
): HeldFundsSummary {
	const card = p.card;
	const cardHeld = card && card.intent_status === "succeeded" && cardFunds(p) === "held";
	const refundedTokens = refunds
		.filter((r) => r.funds === "held" && r.processor === "solana" && r.status === "succeeded")
		.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n);
	return {
		card: cardHeld ? { amount: card.amount_received, refunded: card.amount_refunded } : null,
		solana:
			p.solana && (held.tokens > 0n || refundedTokens > 0n)
				? {
						token: p.solana.token,
						amount: held.tokens.toString(),
						refunded: refundedTokens.toString(),
					}
				: null,
	};
}

/**
 * `tokens` shared by what each payer paid, rounded down, the rest to the largest payer: the
 * shares add up to exactly `tokens`.
 */
export function splitByPayer(
	tokens: bigint,
	paidBy: { payer: string; amount: bigint }[],
): { recipient: string; amount: bigint }[] {
	const total = paidBy.reduce((s, w) => s + w.amount, 0n);
	if (total <= 0n) return [];
	const shares = paidBy.map((w) => ({ recipient: w.payer, amount: (tokens * w.amount) / total }));
	const rest = tokens - shares.reduce((s, x) => s + x.amount, 0n);
	const largest = shares.reduce((a, b) => (b.amount > a.amount ? b : a));
	largest.amount += rest;
	return shares.filter((x) => x.amount > 0n);
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

/**
 * Tokens for refunding `amount` of the price: the payer's share of what they paid, cumulative so
 * that several partial refunds add up to exactly what was paid (no unit lost or gained to
 * rounding), and never past it.
 */
export function tokenShare(input: {
	paid: bigint;
	received: number;
	refundedBefore: number;
	amount: number;
	tokensBefore: bigint;
}): bigint {
	const { paid, received } = input;
	if (received <= 0) return 0n;
	const upTo = (fiat: number) => (paid * BigInt(fiat)) / BigInt(received);
	const share = upTo(input.refundedBefore + input.amount) - upTo(input.refundedBefore);
	const left = paid - input.tokensBefore;
	// biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take.
	return share < left ? share : left;
}
