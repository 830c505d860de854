import { describe, expect, it } from "vitest";
import { CHECKOUT_LANGUAGES, negotiateLocale } from "../../src/checkout/i18n";
import { en } from "../../src/checkout/i18n/en";
import {
	explorerTxUrl,
	formatDateTime,
	formatDecimal,
	formatFiat,
	formatRate,
	formatToken,
	roundDecimal,
	walletBrowseLinks,
} from "../../src/domain/checkout-format";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("checkout languages", () => {
	it("speaks English, Spanish, French, German, Portuguese and Japanese", () => {
		expect(Object.keys(CHECKOUT_LANGUAGES).sort()).toEqual(["de", "en", "es", "fr", "ja", "pt"]);
	});

	it.each(Object.entries(CHECKOUT_LANGUAGES))(
		"%s has every key of the English, no other, each with the same placeholders",
		(_, messages) => {
			expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
			for (const [key, text] of Object.entries(en)) {
				const translated = messages[key as keyof typeof en];
				expect(translated.trim(), key).not.toBe("");
				expect(placeholders(translated), key).toEqual(placeholders(text));
			}
		},
	);
});

describe("negotiateLocale", () => {
	it("takes the payer's highest-weighted language the checkout speaks", () => {
		expect(negotiateLocale("es-MX,es;q=0.9,en;q=0.8")).toMatchObject({
			language: "es",
			locale: "es-MX",
		});
		expect(negotiateLocale("nl-NL, fr;q=0.7, de;q=0.9").language).toBe("de");
		expect(negotiateLocale("pt-br").locale).toBe("pt-BR");
		// Only language and region: no other numbering system for the whole part of an amount.
		expect(negotiateLocale("ja-JP-u-nu-hanidec").locale).toBe("ja-JP");
		expect(negotiateLocale("ja").messages.status_succeeded).toBe("支払い済み");
	});

	it("keeps the header's order among equal weights", () => {
		expect(negotiateLocale("fr;q=0.5, ja;q=0.5").language).toBe("fr");
	});

	it("falls back to English for none, unknown, refused, wildcard or malformed headers", () => {
		for (const header of [undefined, "", "nl", "de;q=0", "*", "xx-;;;q=abc", "constructor"]) {
			expect(negotiateLocale(header)).toMatchObject({ language: "en", locale: "en" });
		}
	});
});

describe("checkout formatting", () => {
	it("formats money from integer minor units for the locale, without floats", () => {
		expect(formatFiat("en-US", 2500, "usd")).toBe("$25.00");
		expect(formatFiat("de-DE", 123456, "eur")).toBe("1.234,56\u00a0€");
		expect(formatFiat("ja", 1500, "jpy")).toBe("￥1,500");
		// Past Number.MAX_SAFE_INTEGER in the digits a float would lose.
		expect(formatDecimal("en-US", "90071992547409930.99")).toBe("90,071,992,547,409,930.99");
	});

	it("writes token amounts with every significant decimal, in the locale's digits", () => {
		expect(formatToken("en-US", "25075000", 6, "USDC")).toBe("25.075 USDC");
		expect(formatToken("fr-FR", "1000000001", 9, "SOL")).toBe("1,000000001 SOL");
		expect(formatToken("de-DE", "18446744073709551615", 9, "SOL")).toBe(
			"18.446.744.073,709551615 SOL",
		);
	});

	it("rounds a rate to a sensible precision", () => {
		expect(roundDecimal("187.544999", 2)).toBe("187.54");
		expect(roundDecimal("0.999999", 2)).toBe("1.00");
		expect(roundDecimal("9.995", 2)).toBe("10.00");
		expect(formatRate("en-US", "187.5449", "usd")).toBe("$187.54");
		expect(formatRate("en-US", "1.000123", "usd")).toBe("$1.00");
		expect(formatRate("en-US", "0.0000123456", "usd")).toBe("$0.00001235");
		expect(formatRate("ja", "23456.78", "jpy")).toBe("￥23,457");
	});

	it("writes times in UTC on the server, naming the zone", () => {
		expect(formatDateTime("en-US", 1_800_000_000, true)).toMatch(/Jan 15, 2027.*UTC/);
	});

	it("links the explorer for the payment's cluster", () => {
		expect(explorerTxUrl("sig1", "mainnet-beta", "")).toBe("https://explorer.solana.com/tx/sig1");
		expect(explorerTxUrl("sig1", "devnet", "")).toBe(
			"https://explorer.solana.com/tx/sig1?cluster=devnet",
		);
		expect(explorerTxUrl("sig1", "localnet", "http://127.0.0.1:8899")).toBe(
			"https://explorer.solana.com/tx/sig1?cluster=custom&customUrl=http%3A%2F%2F127.0.0.1%3A8899",
		);
	});

	it("opens the checkout in Phantom's and Solflare's browsers by their browse deep links", () => {
		const links = walletBrowseLinks("https://pay.example.com/checkout/pay_1?x=1");
		expect(links.phantom).toBe(
			"https://phantom.app/ul/browse/https%3A%2F%2Fpay.example.com%2Fcheckout%2Fpay_1%3Fx%3D1?ref=https%3A%2F%2Fpay.example.com",
		);
		expect(links.solflare).toBe(
			"https://solflare.com/ul/v1/browse/https%3A%2F%2Fpay.example.com%2Fcheckout%2Fpay_1%3Fx%3D1?ref=https%3A%2F%2Fpay.example.com",
		);
	});
});
