import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StripeIntentSnapshot } from "../../src/domain/card-details";
import { composeTokenRate } from "../../src/domain/conversion";
import { COUNTRY_CURRENCIES, currencyForCountry } from "../../src/domain/countries";
import { CURRENCIES } from "../../src/domain/currencies";
import {
	conversionTransfer,
	convertAmount,
	decimalRational,
	divide,
	formatRational,
	fxRoundingAccount,
	inverse,
	majorRate,
	parseRational,
	rational,
	tokenRateFromRationals,
	unitRate,
} from "../../src/domain/fx";
import { validateTransfer } from "../../src/domain/ledger";
import {
	cardPresentment,
	presentmentFromMetadata,
	presentmentMetadata,
	snapshotInPriceCurrency,
	toPresentedAmount,
	toPriceAmount,
} from "../../src/domain/presentment";

describe("rationals", () => {
	it("keep decimals exact and print them exactly", () => {
		expect(decimalRational(15_000_000_000n, -8)).toEqual({ numerator: 150n, denominator: 1n });
		expect(decimalRational(92593n, -5)).toEqual({ numerator: 92593n, denominator: 100000n });
		expect(parseRational("0.92593")).toEqual(decimalRational(92593n, -5));
		expect(formatRational(parseRational("0.92593"))).toBe("0.92593");
		expect(formatRational(rational(150n))).toBe("150");
		// 1/3 to twelve places, rounded half up; 2/3 rounds up.
		expect(formatRational(rational(1n, 3n))).toBe("0.333333333333");
		expect(formatRational(rational(2n, 3n), 4)).toBe("0.6667");
		expect(formatRational(inverse(parseRational("1.08")), 8)).toBe("0.92592593");
		expect(divide(rational(3n), rational(6n))).toEqual({ numerator: 1n, denominator: 2n });
		expect(() => parseRational("1e5")).toThrow(RangeError);
		expect(() => parseRational("-1")).toThrow(RangeError);
	});

	it("move between major and smallest units", () => {
		// $150 per SOL is 15000 cents per 10^9 lamports.
		const perLamport = unitRate(rational(150n), 9, 2);
		expect(perLamport).toEqual({ numerator: 3n, denominator: 200000n });
		expect(majorRate(perLamport, 9, 2)).toEqual(rational(150n));
	});

	it("compose the same token rate as quoting from oracle mantissas", () => {
		const solUsd = decimalRational(15_012_345_678n, -8);
		const eurUsd = decimalRational(108_123n, -5);
		const usdJpy = decimalRational(155_250n, -3);
		expect(
			tokenRateFromRationals({ tokenUsd: solUsd, tokenDecimals: 9, currencyExponent: 2 }),
		).toEqual(
			composeTokenRate({
				tokenUsd: { mantissa: 15_012_345_678n, expo: -8 },
				tokenDecimals: 9,
				currencyExponent: 2,
			}),
		);
		expect(
			tokenRateFromRationals({
				tokenUsd: solUsd,
				tokenDecimals: 9,
				currencyExponent: 2,
				currencyPerUsd: inverse(eurUsd),
			}),
		).toEqual(
			composeTokenRate({
				tokenUsd: { mantissa: 15_012_345_678n, expo: -8 },
				tokenDecimals: 9,
				currencyExponent: 2,
				fx: { price: { mantissa: 108_123n, expo: -5 }, usdIsQuote: true },
			}),
		);
		expect(
			tokenRateFromRationals({
				tokenUsd: solUsd,
				tokenDecimals: 9,
				currencyExponent: 0,
				currencyPerUsd: usdJpy,
			}),
		).toEqual(
			composeTokenRate({
				tokenUsd: { mantissa: 15_012_345_678n, expo: -8 },
				tokenDecimals: 9,
				currencyExponent: 0,
				fx: { price: { mantissa: 155_250n, expo: -3 }, usdIsQuote: false },
			}),
		);
	});
});

describe("convertAmount", () => {
	it("converts a payment paid in full at its quote to its price less the spread", () => {
		// $25.00 quoted as 166666667 lamports: the locked rate is 2500 / 166666667 cents per lamport.
		const rate = rational(2500n, 166_666_667n);
		expect(convertAmount(166_666_667n, rate, 30)).toEqual({
			gross: 2500n,
			fee: 7n, // 7.5 rounded down: never more than the stated spread
			amount: 2493n, // 2492.5 rounded up, in the merchant's favour
			rounding: 0n,
		});
	});

	it("puts the rounding on the gateway's account when both figures round the merchant's way", () => {
		// 166666667 lamports at $160: 2666.666672 cents; spread 8.000000016; net 2658.666672.
		const amounts = convertAmount(166_666_667n, unitRate(rational(160n), 9, 2), 30);
		expect(amounts).toEqual({ gross: 2666n, fee: 8n, amount: 2659n, rounding: 1n });
	});

	it("rounds every figure at most one unit, always in the merchant's favour", () => {
		fc.assert(
			fc.property(
				fc.bigInt({ min: 1n, max: 10n ** 15n }),
				fc.bigInt({ min: 1n, max: 10n ** 12n }),
				fc.bigInt({ min: 1n, max: 10n ** 12n }),
				fc.integer({ min: 0, max: 1000 }),
				(amount, n, d, bps) => {
					const rate = rational(n, d);
					const r = convertAmount(amount, rate, bps);
					// Exact values scaled by D = rate.denominator × 10 000.
					const D = rate.denominator * 10_000n;
					const value = amount * rate.numerator * 10_000n;
					const net = amount * rate.numerator * BigInt(10_000 - bps);
					const spread = amount * rate.numerator * BigInt(bps);
					const favour = r.amount * D - net;
					expect(favour >= 0n && favour < D).toBe(true);
					expect(spread - r.fee * D >= 0n && spread - r.fee * D < D).toBe(true);
					expect(value - r.gross * D >= 0n && value - r.gross * D < D).toBe(true);
					expect(r.rounding === 0n || r.rounding === 1n).toBe(true);
					expect(r.amount + r.fee - r.rounding).toBe(r.gross);
				},
			),
		);
	});

	it("refuses a zero amount and a spread out of range", () => {
		expect(() => convertAmount(0n, rational(1n), 30)).toThrow(RangeError);
		expect(() => convertAmount(1n, rational(1n), 1001)).toThrow(RangeError);
		expect(() => convertAmount(1n, rational(1n), 1.5)).toThrow(RangeError);
	});
});

describe("conversionTransfer", () => {
	it("balances per currency through FX clearing, with fee and rounding on gateway accounts", () => {
		const amounts = convertAmount(166_666_667n, unitRate(rational(160n), 9, 2), 30);
		const transfer = conversionTransfer({
			paymentId: "pay_1",
			merchantId: "mch_1",
			livemode: false,
			from: { currency: "sol", amount: 166_666_667n },
			to: { currency: "usd" },
			amounts,
			created: 1,
		});
		expect(() => validateTransfer(transfer)).not.toThrow();
		expect(transfer).toMatchObject({ id: "pay_1:conversion", kind: "conversion" });
		expect(transfer.postings).toEqual([
			{ account: "test:merchant:mch_1:sol:available", currency: "sol", amount: -166_666_667n },
			{ account: "test:fx:clearing:sol", currency: "sol", amount: 166_666_667n },
			{ account: "test:fx:clearing:usd", currency: "usd", amount: -2666n },
			{ account: "test:merchant:mch_1:usd:available", currency: "usd", amount: 2659n },
			{ account: "test:gateway:fees:usd", currency: "usd", amount: 8n },
			{ account: fxRoundingAccount(false, "usd"), currency: "usd", amount: -1n },
		]);
	});

	it("leaves out zero legs", () => {
		const transfer = conversionTransfer({
			paymentId: "pay_2",
			merchantId: "mch_1",
			livemode: true,
			from: { currency: "sol", amount: 166_666_667n },
			to: { currency: "usd" },
			amounts: convertAmount(166_666_667n, rational(2500n, 166_666_667n), 0),
			created: 1,
		});
		expect(() => validateTransfer(transfer)).not.toThrow();
		expect(transfer.postings.map((p) => p.account)).toEqual([
			"live:merchant:mch_1:sol:available",
			"live:fx:clearing:sol",
			"live:fx:clearing:usd",
			"live:merchant:mch_1:usd:available",
		]);
	});
});

describe("card presentment", () => {
	it("charges the price at the mid rate plus the spread, rounded up once", () => {
		// $100.00 for a payer in the euro area at 0.92593 €/$: €9259.30 → 9260 cents the merchant's,
		// 9259.3 × 1.003 = 9287.08 → 9288 charged, 28 cents of fee.
		expect(
			cardPresentment({
				amount: 10_000,
				currency: "usd",
				payerCurrency: "eur",
				rate: parseRational("0.92593"),
				spreadBps: 30,
			}),
		).toEqual({
			currency: "eur",
			amount: 9288,
			rate: "0.92593",
			fee: 28,
			spread_bps: 30,
			price_amount: 10_000,
			price_currency: "usd",
		});
	});

	it("respects each currency's minor units", () => {
		// $25.00 at ¥155: ¥3875; with 0.3 %: 3886.625 → ¥3887.
		expect(
			cardPresentment({
				amount: 2500,
				currency: "usd",
				payerCurrency: "jpy",
				rate: rational(155n),
				spreadBps: 30,
			}),
		).toMatchObject({ amount: 3887, fee: 12 });
		// ¥1000 at 0.0065 $/¥ into Kuwaiti dinars at 0.307 KD/$: 1.9955 KD = 1995.5 fils → 1996;
		// with 0.3 %: 2001.4865 → 2002 fils.
		expect(
			cardPresentment({
				amount: 1000,
				currency: "jpy",
				payerCurrency: "kwd",
				rate: parseRational("0.0019955"),
				spreadBps: 30,
			}),
		).toMatchObject({ amount: 2002, fee: 6 });
	});

	it("does not present a charge in the price's own currency", () => {
		expect(
			cardPresentment({
				amount: 100,
				currency: "eur",
				payerCurrency: "eur",
				rate: rational(1n),
				spreadBps: 30,
			}),
		).toBeNull();
	});

	it("always charges at least the price's worth, less than two units over it with the spread", () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 10_000_000 }),
				fc.bigInt({ min: 1n, max: 10n ** 9n }),
				fc.bigInt({ min: 1n, max: 10n ** 9n }),
				fc.integer({ min: 0, max: 1000 }),
				(amount, n, d, bps) => {
					const rate = rational(n, d);
					const p = cardPresentment({
						amount,
						currency: "usd",
						payerCurrency: "eur",
						rate,
						spreadBps: bps,
					});
					if (p === null) return;
					const exact = BigInt(amount) * rate.numerator; // × 1/rate.denominator
					const charged = BigInt(p.amount) * rate.denominator * 10_000n;
					const due = exact * BigInt(10_000 + bps);
					expect(charged >= due && charged - due < rate.denominator * 10_000n).toBe(true);
					expect(p.fee).toBeGreaterThanOrEqual(0);
					expect(BigInt(p.amount - p.fee) * rate.denominator >= exact).toBe(true);
				},
			),
		);
	});

	it("travels in intent metadata and back", () => {
		const p = cardPresentment({
			amount: 10_000,
			currency: "usd",
			payerCurrency: "gbp",
			rate: parseRational("0.7874"),
			spreadBps: 30,
		});
		expect(p).not.toBeNull();
		if (!p) return;
		expect(presentmentFromMetadata(presentmentMetadata(p))).toEqual(p);
		expect(presentmentFromMetadata({ payment_id: "pay_1" })).toBeNull();
		expect(presentmentFromMetadata({ ...presentmentMetadata(p), presentment_amount: "-1" })).toBe(
			null,
		);
	});

	it("reads Stripe's payer-currency amounts back into the price currency", () => {
		const p = cardPresentment({
			amount: 10_000,
			currency: "usd",
			payerCurrency: "eur",
			rate: parseRational("0.92593"),
			spreadBps: 30,
		});
		if (!p) throw new Error("expected a presentment");
		expect(toPriceAmount(p, 9288, "up")).toBe(10_000);
		expect(toPriceAmount(p, 4644, "up")).toBe(5000);
		expect(toPriceAmount(p, 1000, "down")).toBe(1076); // 1076.66 down
		expect(toPriceAmount(p, 1000, "up")).toBe(1077);
		expect(toPresentedAmount(p, 10_000)).toBe(9288);
		expect(toPresentedAmount(p, 5000)).toBe(4644);
		const snapshot: StripeIntentSnapshot = {
			id: "pi_1",
			status: "succeeded",
			amount: 9288,
			currency: "eur",
			capture_method: "automatic",
			amount_capturable: 0,
			amount_received: 9288,
			cancellation_reason: null,
			last_payment_error: null,
			charge: { id: "ch_1", amount_refunded: 0, fee: 299, available_on: 10 },
		};
		expect(snapshotInPriceCurrency(snapshot, p, "eur")).toEqual({
			...snapshot,
			amount: 10_000,
			currency: "usd",
			amount_received: 10_000,
			charge: { id: "ch_1", amount_refunded: 0, fee: 321, available_on: 10 },
			presentment: p,
		});
		// A fee Stripe reports in the account's settlement currency is kept as it is.
		expect(snapshotInPriceCurrency(snapshot, p, "usd").charge?.fee).toBe(299);
		// Intents without a presentment pass through untouched.
		expect(snapshotInPriceCurrency(snapshot, null, "eur")).toBe(snapshot);
	});
});

describe("country currencies", () => {
	it("maps the main card markets to their currency", () => {
		expect(currencyForCountry("DE")).toBe("eur");
		expect(currencyForCountry("bg")).toBe("eur");
		expect(currencyForCountry("GB")).toBe("gbp");
		expect(currencyForCountry("JP")).toBe("jpy");
		expect(currencyForCountry("US")).toBe("usd");
		expect(currencyForCountry("AQ")).toBeNull();
		expect(currencyForCountry(null)).toBeNull();
		expect(currencyForCountry("constructor")).toBeNull();
	});

	it("names only currencies the gateway supports", () => {
		for (const [country, currency] of Object.entries(COUNTRY_CURRENCIES)) {
			expect(country).toMatch(/^[A-Z]{2}$/);
			expect(Object.hasOwn(CURRENCIES, currency), `${country} → ${currency}`).toBe(true);
		}
	});
});
