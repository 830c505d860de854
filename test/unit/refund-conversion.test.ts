import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	type ConversionAmounts,
	conversionTransfer,
	convertAmount,
	multiply,
	type Rational,
	rational,
	unitRate,
} from "../../src/domain/fx";
import { accounts, type Transfer, validateTransfer } from "../../src/domain/ledger";
import { newPaymentRecord, type PaymentRecord } from "../../src/domain/payment";
import type { RefundRecord } from "../../src/domain/refund";
import { bookRefundSucceeded } from "../../src/domain/refund-booking";
import {
	convertedRefundTransfer,
	quoteRefundConversion,
	type RefundConversionTerms,
	rateToText,
	refundConversionAmounts,
} from "../../src/domain/refund-conversion";
import { heldFunds, settledTokens } from "../../src/domain/refund-held";
import { planRefund } from "../../src/domain/refund-plan";
import {
	type ReceiptRow,
	receiptTransfer,
	settlementTransfer,
} from "../../src/domain/solana-receipts";

const PAYER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const MERCHANT = "mch_1";
const TOKENS = {
	SOL: { mint: null, decimals: 9 },
	USDC: { mint: USDC, decimals: 6 },
} as const;

const ceil = (r: Rational) => (r.numerator + r.denominator - 1n) / r.denominator;
// Signed sums of rationals (fx.ts's are positive only).
const plus = (a: Rational, b: Rational): Rational => ({
	numerator: a.numerator * b.denominator + b.numerator * a.denominator,
	denominator: a.denominator * b.denominator,
});
const minus = (a: Rational, b: Rational): Rational =>
	plus(a, { numerator: -b.numerator, denominator: b.denominator });
const q = (numerator: bigint, denominator = 1n): Rational => ({ numerator, denominator });
const times = (a: Rational, b: Rational): Rational =>
	q(a.numerator * b.numerator, a.denominator * b.denominator);
const rateOf = (r: { numerator: string; denominator: string }) =>
	rational(BigInt(r.numerator), BigInt(r.denominator));

// ── the ledger, in memory: a map of account × currency to balance ─────────────────────────

class Ledger {
	readonly balances = new Map<string, bigint>();
	readonly ids = new Set<string>();

	post(t: Transfer): void {
		// Every transfer balances in each of its currencies, and posts once (ids are idempotent).
		validateTransfer(t);
		expect(this.ids.has(t.id), `transfer ${t.id} posted twice`).toBe(false);
		this.ids.add(t.id);
		for (const p of t.postings) {
			const key = `${p.account}|${p.currency}`;
			this.balances.set(key, (this.balances.get(key) ?? 0n) + p.amount);
		}
	}

	balance(account: string, currency: string): bigint {
		return this.balances.get(`${account}|${currency}`) ?? 0n;
	}

	/** Every currency sums to zero across all accounts; no payment's holding account is negative. */
	check(): void {
		const sums = new Map<string, bigint>();
		for (const [key, amount] of this.balances) {
			const [account, currency] = key.split("|") as [string, string];
			sums.set(currency, (sums.get(currency) ?? 0n) + amount);
			if (account.startsWith("test:payment:")) {
				expect(amount, `${account} went negative`).toBeGreaterThanOrEqual(0n);
			}
		}
		for (const [currency, sum] of sums) expect(sum, `ledger total in ${currency}`).toBe(0n);
	}

	/** Non-zero balances, sorted: what two orders of the same events must agree on. */
	snapshot(): [string, bigint][] {
		return [...this.balances].filter(([, v]) => v !== 0n).sort(([a], [b]) => (a < b ? -1 : 1));
	}
}

// ── scenarios ─────────────────────────────────────────────────────────────────────────────

interface RefundSpec {
	/** Percent of what is left (or all of it). */
	share: number;
	rest: boolean;
	/** The token's price when the refund is created: cents per whole token. */
	centsPerToken: number;
	/** Euro cents per dollar cent then, in hundredths (only for a euro settlement). */
	eurPerUsd: number;
	spreadBps: number;
	networkFee: bigint;
}

interface PaymentSpec {
	token: keyof typeof TOKENS;
	price: number;
	quoteCentsPerToken: number;
	feeBps: number;
	/** Base units beyond the quote (held) or, negative, short of it (within tolerance). */
	extra: bigint;
	receipts: 1 | 2;
	/** False: the conversion fails (the merchant keeps the token). */
	converts: boolean;
	policy: "locked" | "current";
	convCentsPerToken: number;
	convEurPerUsd: number;
	convSpreadBps: number;
	refunds: RefundSpec[];
}

const refundArb: fc.Arbitrary<RefundSpec> = fc.record({
	share: fc.integer({ min: 1, max: 100 }),
	rest: fc.boolean(),
	centsPerToken: fc.integer({ min: 1, max: 50_000_000 }),
	eurPerUsd: fc.integer({ min: 50, max: 200 }),
	spreadBps: fc.integer({ min: 0, max: 1_000 }),
	networkFee: fc.bigInt({ min: 0n, max: 2_100_000n }),
});

const paymentArb: fc.Arbitrary<PaymentSpec> = fc.record({
	token: fc.constantFrom("SOL", "USDC"),
	price: fc.integer({ min: 1, max: 5_000_000 }),
	quoteCentsPerToken: fc.integer({ min: 1, max: 50_000_000 }),
	feeBps: fc.integer({ min: 0, max: 500 }),
	extra: fc.oneof(fc.constant(0n), fc.bigInt({ min: -1_000n, max: 10n ** 12n })),
	receipts: fc.constantFrom(1 as const, 2 as const),
	converts: fc.oneof(
		{ arbitrary: fc.constant(true), weight: 4 },
		{ arbitrary: fc.constant(false), weight: 1 },
	),
	policy: fc.constantFrom("locked" as const, "current" as const),
	convCentsPerToken: fc.integer({ min: 1, max: 50_000_000 }),
	convEurPerUsd: fc.integer({ min: 50, max: 200 }),
	convSpreadBps: fc.integer({ min: 0, max: 1_000 }),
	refunds: fc.array(refundArb, { minLength: 0, maxLength: 4 }),
});

const scenarioArb = fc.record({
	settlement: fc.constantFrom("usd", "eur"),
	payments: fc.array(paymentArb, { minLength: 1, maxLength: 4 }),
});

type Scenario = { settlement: string; payments: PaymentSpec[] };

// ── the system, as the gateway runs it, one event at a time ──────────────────────────────

interface PaymentState {
	spec: PaymentSpec;
	record: PaymentRecord;
	receipts: ReceiptRow[];
	conversion: { amounts: ConversionAmounts; credited: bigint } | "failed" | "none" | null;
	refunds: RefundRecord[];
}

class System {
	readonly ledger = new Ledger();
	readonly payments: PaymentState[] = [];

	constructor(readonly scenario: Scenario) {}

	/** A payment is paid (one or two receipts from its payer) and succeeds. */
	pay(i: number): void {
		const spec = this.scenario.payments[i] as PaymentSpec;
		const token = TOKENS[spec.token];
		const beforeFee = ceil(
			rational(BigInt(spec.price) * 10n ** BigInt(token.decimals), BigInt(spec.quoteCentsPerToken)),
		);
		const fee = (beforeFee * BigInt(spec.feeBps) + 9_999n) / 10_000n;
		const quoted = beforeFee + fee;
		// Short only by less than the fee (the tolerance a merchant may allow), never below one unit.
		const extra = spec.extra < 0n && -spec.extra >= fee ? 0n : spec.extra;
		const received = quoted + extra;
		const id = `pay_${i}`;
		const record: PaymentRecord = {
			...newPaymentRecord({
				id,
				merchant_id: MERCHANT,
				livemode: false,
				amount: spec.price,
				currency: "usd",
				payment_method_types: ["solana"],
				description: null,
				metadata: {},
				success_url: null,
				cancel_url: null,
				checkout_url: `https://pay.example/checkout/${id}`,
				expires_at: 2_000,
				created: 1_000,
			}),
			status: "succeeded",
			amount_received: spec.price,
			solana: {
				token: spec.token,
				mint: token.mint,
				token_program: null,
				decimals: token.decimals,
				amount: quoted.toString(),
				recipient: PAYER,
				reference: PAYER,
				memo: id,
				solana_pay_url: "",
				transaction_request_url: "",
				quote: {
					rate: "1",
					fee: fee.toString(),
					amount_before_fee: beforeFee.toString(),
					source: "pyth",
					expires_at: 1_900,
				},
				required_commitment: "confirmed",
				amount_received: received.toString(),
				amount_excess: (extra > 0n ? extra : 0n).toString(),
				signature: "sig",
				payer: PAYER,
			},
		};
		const currency = token.mint ?? "sol";
		const first = spec.receipts === 2 ? received / 2n : received;
		const parts = spec.receipts === 2 ? [first, received - first] : [received];
		const receipts = parts
			.filter((a) => a > 0n)
			.map(
				(amount, n): ReceiptRow => ({
					id: `sig${i}_${n}:${currency}`,
					signature: `sig${i}_${n}`,
					currency,
					account: "settlement",
					reference: PAYER,
					amount: amount.toString(),
					payer: PAYER,
					slot: 1,
					block_time: null,
					commitment: "confirmed",
					disposition: "counted",
					reason: null,
					found_at: 1_000,
				}),
			);
		for (const row of receipts) this.step(receiptTransfer(record, row, 1_000));
		const solana = record.solana as NonNullable<PaymentRecord["solana"]>;
		this.step(settlementTransfer(record, solana, received, 1_000));
		this.payments[i] = { spec, record, receipts, conversion: null, refunds: [] };
	}

	private step(t: Transfer): void {
		this.ledger.post(t);
		this.ledger.check();
	}

	/** convertPayment: once per payment, whoever asks first (the queue, or a refund). */
	convert(i: number): void {
		const s = this.payments[i] as PaymentState;
		if (s.conversion !== null) return;
		if (!s.spec.converts) {
			s.conversion = "failed";
			return;
		}
		const solana = s.record.solana as NonNullable<PaymentRecord["solana"]>;
		const currency = solana.mint ?? "sol";
		const settled = settlementTransfer(s.record, solana, BigInt(solana.amount_received), 0);
		const mine = accounts.merchantAvailable(MERCHANT, false, currency);
		const credited = settled.postings.find((p) => p.account === mine)?.amount ?? 0n;
		if (credited <= 0n) {
			s.conversion = "none";
			return;
		}
		const toEur = rational(BigInt(s.spec.convEurPerUsd), 100n);
		const perUnit =
			s.spec.policy === "locked"
				? rational(BigInt(s.record.amount), BigInt(solana.quote.amount_before_fee))
				: unitRate(rational(BigInt(s.spec.convCentsPerToken), 100n), solana.decimals, 2);
		const rate = this.scenario.settlement === "eur" ? multiply(perUnit, toEur) : perUnit;
		const amounts = convertAmount(credited, rate, s.spec.convSpreadBps);
		this.step(
			conversionTransfer({
				paymentId: s.record.id,
				merchantId: MERCHANT,
				livemode: false,
				from: { currency, amount: credited },
				to: { currency: this.scenario.settlement },
				amounts,
				created: 1_100,
			}),
		);
		s.conversion = { amounts, credited };
	}

	/** The current terms the refund service would read for this refund. */
	terms(s: PaymentState, r: RefundSpec): RefundConversionTerms {
		const solana = s.record.solana as NonNullable<PaymentRecord["solana"]>;
		const priceRate =
			this.scenario.settlement === "eur" ? rational(BigInt(r.eurPerUsd), 100n) : rational(1n);
		const tokenRate = multiply(
			unitRate(rational(BigInt(r.centsPerToken), 100n), solana.decimals, 2),
			priceRate,
		);
		return {
			conversion: `conv_${s.record.id}`,
			settlement_currency: this.scenario.settlement,
			settlement_token: null,
			settlement_digits: 2,
			token_rate: rateToText(tokenRate),
			price_rate: rateToText(priceRate),
			rate_source: "pyth",
			rate_published: 1_200,
			spread_bps: r.spreadBps,
		};
	}

	/** createRefund: the payment's conversion first, then the payment object plans the refund. */
	createRefund(i: number, n: number): void {
		const s = this.payments[i] as PaymentState;
		const r = s.spec.refunds[n] as RefundSpec;
		this.convert(i);
		const reserved = s.refunds
			.filter((x) => x.status !== "failed")
			.reduce((sum, x) => sum + (x.amount ?? 0), 0);
		const left = s.record.amount_received - reserved;
		if (left <= 0) return;
		const amount = r.rest ? undefined : Math.max(1, Math.floor((left * r.share) / 100));
		const converted = typeof s.conversion === "object" && s.conversion !== null;
		const held = heldFunds(
			s.record,
			s.receipts.map((row) => ({
				amount: BigInt(row.amount),
				payer: row.payer,
				disposition: "counted",
			})),
		);
		const plan = planRefund(s.record, s.refunds, held, {
			id: `re_${i}_${n}`,
			amount,
			metadata: {},
			now: 1_200,
			...(converted ? { conversion: this.terms(s, r) } : {}),
		});
		if (!plan.ok) {
			// Only a token refund can be too small to send a unit; nothing is reserved then.
			expect(converted).toBe(false);
			expect(plan.message).toMatch(/too small/);
			return;
		}
		expect(plan.refund.conversion !== undefined).toBe(converted);
		if (plan.refund.conversion) {
			expect(plan.refund.solana?.amount).toBe(plan.refund.conversion.tokens);
		}
		s.refunds.push(plan.refund);
	}

	/** The refund's transfer landed and was finalized: the payment object books it. */
	completeRefund(i: number, n: number): void {
		const s = this.payments[i] as PaymentState;
		const at = s.refunds.findIndex((x) => x.id === `re_${i}_${n}`);
		const refund = s.refunds[at];
		if (!refund) return;
		const r = s.spec.refunds[n] as RefundSpec;
		const booking = bookRefundSucceeded(
			s.record,
			refund,
			{ solana: { signature: `rs_${i}_${n}`, network_fee: r.networkFee.toString() } },
			false,
			1_300,
		);
		for (const t of booking.transfers) this.step(t);
		if (booking.payment) s.record = booking.payment;
		s.refunds[at] = booking.refund;
	}
}

/** Conversion first (the queue ran), then each refund created and completed in turn. */
function conversionFirst(scenario: Scenario): System {
	const sys = new System(scenario);
	scenario.payments.forEach((p, i) => {
		sys.pay(i);
		sys.convert(i);
		p.refunds.forEach((_, n) => {
			sys.createRefund(i, n);
			sys.completeRefund(i, n);
		});
	});
	return sys;
}

/**
 * Refunds first: every payment paid, every refund created before any conversions message is
 * delivered (the first refund runs the conversion itself), the messages then (no-ops), and the
 * refunds completing last, newest first.
 */
function refundsFirst(scenario: Scenario): System {
	const sys = new System(scenario);
	const { payments } = scenario;
	for (let i = 0; i < payments.length; i++) sys.pay(i);
	for (let i = 0; i < payments.length; i++) {
		for (let n = 0; n < (payments[i]?.refunds.length ?? 0); n++) sys.createRefund(i, n);
	}
	for (let i = 0; i < payments.length; i++) sys.convert(i);
	for (let i = scenario.payments.length - 1; i >= 0; i--) {
		const refunds = scenario.payments[i]?.refunds ?? [];
		for (let n = refunds.length - 1; n >= 0; n--) sys.completeRefund(i, n);
	}
	return sys;
}

/**
 * The merchant's balances at the end, against what the fee policy allows. Settlement currency:
 * below zero only by the named fees — each conversion's spread, each refund's spread, the
 * gateway fee share returned to the payer (at the refund's rates), each refund's rounding (under
 * one settlement unit plus one token base unit's worth) — and, when rates moved against the
 * merchant between its conversion and its refund, by that movement (under one unit under the
 * locked policy in the price currency). Each token: exactly what unconverted payments credited
 * less their token refunds (at worst the gateway fee back), less the network fees in SOL; a
 * converted payment leaves none of its token behind.
 */
function checkMerchant(sys: System): void {
	const settle = sys.scenario.settlement;
	let allowance = q(0n);
	const add = (r: Rational) => {
		if (r.numerator > 0n) allowance = plus(allowance, r);
	};
	const tokenExpected = new Map<string, bigint>();
	const tokenFloor = new Map<string, bigint>();
	const bump = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
	let settleExpected = 0n;
	for (const s of sys.payments) {
		const solana = s.record.solana as NonNullable<PaymentRecord["solana"]>;
		const token = solana.mint ?? "sol";
		const done = s.refunds.filter((r) => r.status === "succeeded");
		for (const r of done) {
			const fee = BigInt(r.solana?.network_fee ?? "0");
			bump(tokenExpected, "sol", -fee);
			bump(tokenFloor, "sol", -fee);
		}
		const settled = settledTokens(solana.amount, BigInt(solana.amount_received));
		const feePosted = BigInt(solana.quote.fee) < settled ? BigInt(solana.quote.fee) : settled;
		if (typeof s.conversion !== "object" || s.conversion === null) {
			const taken = done.reduce((sum, r) => sum + BigInt(r.solana?.amount ?? "0"), 0n);
			bump(tokenExpected, token, settled - feePosted - taken);
			bump(tokenFloor, token, -feePosted);
			for (const r of done) expect(r.conversion).toBeUndefined();
			continue;
		}
		bump(tokenExpected, token, 0n);
		const { amounts, credited } = s.conversion;
		settleExpected += amounts.amount;
		add(q(amounts.fee));
		const beforeFee = BigInt(solana.quote.amount_before_fee);
		let valueAtRefund = q(0n);
		let refunded = 0n;
		for (const r of done) {
			const c = r.conversion;
			if (!c) throw new Error("a converted payment's refund must be converted");
			const spec = s.spec.refunds[Number(r.id.split("_")[2])] as RefundSpec;
			const terms = sys.terms(s, spec);
			const tokenRate = rateOf(terms.token_rate);
			const priceRate = rateOf(terms.price_rate);
			const a = BigInt(r.amount as number);
			const exact = refundConversionAmounts({
				amount: r.amount as number,
				price: s.record.amount,
				received: s.record.amount_received,
				paid: settled,
				priceTokens: beforeFee,
				tokenRate,
				priceRate,
				spreadBps: spec.spreadBps,
			});
			expect([BigInt(c.tokens), BigInt(c.debit), BigInt(c.spread)]).toEqual([
				exact.tokens,
				exact.debit,
				exact.spread,
			]);
			settleExpected -= exact.debit + exact.spread;
			// The payer gets at least the refund's value, and less than one base unit more.
			const over = minus(times(q(exact.tokens), tokenRate), times(exact.value, priceRate));
			expect(over.numerator >= 0n).toBe(true);
			expect(minus(over, tokenRate).numerator < 0n).toBe(true);
			add(q(exact.spread));
			add(times(q(a * feePosted, beforeFee), priceRate));
			add(plus(tokenRate, q(1n)));
			valueAtRefund = plus(valueAtRefund, times(q(a * credited, beforeFee), priceRate));
			refunded += a;
		}
		if (refunded > 0n) {
			// What the refunded share of the price is worth now, over what its conversion paid.
			const moved = minus(valueAtRefund, q(amounts.gross * refunded, BigInt(s.record.amount)));
			if (s.spec.policy === "locked" && settle === "usd") {
				expect(moved.numerator < moved.denominator).toBe(true);
			}
			add(moved);
		}
	}
	const balance = sys.ledger.balance(accounts.merchantAvailable(MERCHANT, false, settle), settle);
	expect(balance).toBe(settleExpected);
	expect(
		balance * allowance.denominator + allowance.numerator >= 0n,
		`settlement balance ${balance} is below zero by more than the named fees`,
	).toBe(true);
	for (const [currency, expected] of tokenExpected) {
		const held = sys.ledger.balance(
			accounts.merchantAvailable(MERCHANT, false, currency),
			currency,
		);
		expect(held, `merchant ${currency}`).toBe(expected);
		expect(held).toBeGreaterThanOrEqual(tokenFloor.get(currency) ?? 0n);
	}
}

describe("refunding converted payments (property)", () => {
	it("balances at every step and ends with the same balances whichever came first", () => {
		fc.assert(
			fc.property(scenarioArb, (scenario) => {
				const a = conversionFirst(scenario);
				const b = refundsFirst(scenario);
				checkMerchant(a);
				checkMerchant(b);
				expect(b.ledger.snapshot()).toEqual(a.ledger.snapshot());
			}),
			{ numRuns: 300 },
		);
	});
});

describe("a converted refund's quote and transfer", () => {
	const terms: RefundConversionTerms = {
		conversion: "conv_1",
		settlement_currency: "usd",
		settlement_token: null,
		settlement_digits: 2,
		// SOL at $150.00: 15 000 cents per 10^9 lamports.
		token_rate: { numerator: "3", denominator: "200000" },
		price_rate: { numerator: "1", denominator: "1" },
		rate_source: "pyth",
		rate_published: 1_700_000_000,
		spread_bps: 30,
	};

	it("prices the price and fee share at the current rate, rounding for the payer and FX clearing", () => {
		// $25.00 quoted at $150: 166 666 667 lamports + 833 334 fee.
		const quote = quoteRefundConversion(terms, {
			amount: 2_500,
			price: 2_500,
			received: 2_500,
			paid: 167_500_001n,
			priceTokens: 166_666_667n,
			tokenDecimals: 9,
		});
		// value 2512.50001 cents (the fee was rounded up when quoted) → 167 500 000.0007 lamports,
		// up to 167 500 001 (all that was paid), worth 2512.500015 cents: debit 2513, spread 7.
		expect(quote).toEqual({
			payment_conversion: "conv_1",
			settlement_currency: "usd",
			settlement_token: null,
			debit: 2_513,
			spread_bps: 30,
			spread: 7,
			tokens: "167500001",
			rate: "150",
			rate_source: "pyth",
			rate_published: 1_700_000_000,
		});
		const t = convertedRefundTransfer(
			{ id: "pay_1", merchant_id: "mch_1", livemode: false },
			{ id: "re_1", solana: null },
			quote,
			1,
		);
		expect(t).toEqual({
			id: "re_1:refund",
			kind: "refund",
			reference: "pay_1",
			livemode: false,
			created: 1,
			postings: [
				{ account: "test:merchant:mch_1:usd:available", currency: "usd", amount: -2_520n },
				{ account: "test:fx:clearing:usd", currency: "usd", amount: 2_513n },
				{ account: "test:gateway:fees:usd", currency: "usd", amount: 7n },
				{ account: "test:fx:clearing:sol", currency: "sol", amount: -167_500_001n },
				{ account: "test:settlement:solana:sol", currency: "sol", amount: 167_500_001n },
			],
		});
		expect(() => validateTransfer(t)).not.toThrow();
	});

	it("sends more tokens when the token fell, the merchant paying the same dollars", () => {
		const at120 = { ...terms, token_rate: { numerator: "3", denominator: "250000" } };
		const quote = quoteRefundConversion(at120, {
			amount: 1_000,
			price: 2_500,
			received: 2_500,
			paid: 167_500_001n,
			priceTokens: 166_666_667n,
			tokenDecimals: 9,
		});
		// 1005.000004 cents at $120 = 83 750 000.03 lamports, up to 83 750 001, worth
		// 1005.000012 cents: debit 1006 (both roundings the merchant's), spread 3.
		expect(quote).toMatchObject({ tokens: "83750001", debit: 1_006, spread: 3, rate: "120" });
	});
});
