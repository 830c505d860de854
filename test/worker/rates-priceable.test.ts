import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { priceableCurrencies } from "../../src/services/rates";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
} from "./helpers/api";

const now = () => Math.floor(Date.now() / 1000);

function createSolana(key: string, currency: string, amount = 2500) {
	return call("POST", "/v1/payments", {
		key,
		body: { amount, currency, payment_method_types: ["solana"], solana: { token: "SOL" } },
	});
}

describe("GET /v1/rates: priceable currencies", () => {
	it("lists the currencies a quote can price, from the quote's own rule, whatever the base", async () => {
		const m = await createMerchant();
		const all = await json<ListJson<unknown> & { priceable_currencies: string[] }>(
			await call("GET", "/v1/rates", { key: m.sk }),
		);
		// The sandbox's feeds price exactly these: SOL/USD, USDC/USD and the EUR, GBP, JPY FX feeds.
		expect(all.priceable_currencies).toEqual(["eur", "gbp", "jpy", "usd"]);
		expect(all.priceable_currencies).toEqual(priceableCurrencies());
		const sol = await json<{ priceable_currencies: string[] }>(
			await call("GET", "/v1/rates?base=SOL", { key: m.sk }),
		);
		expect(sol.priceable_currencies).toEqual(all.priceable_currencies);
	});

	it("documents the field in the OpenAPI schema", async () => {
		const spec = await json<{
			paths: Record<string, { get: { responses: Record<string, unknown> } }>;
		}>(await call("GET", "/v1/openapi.json"));
		const schema = JSON.stringify(spec.paths["/v1/rates"]?.get.responses["200"]);
		expect(schema).toContain("priceable_currencies");
	});

	it("every listed currency quotes", async () => {
		const m = await createMerchant();
		for (const currency of priceableCurrencies()) {
			const res = await createSolana(m.sk, currency);
			expect(res.status, `${currency}: ${await res.clone().text()}`).toBe(200);
		}
	});
});

describe("a currency no rate can price", () => {
	it.each(["kwd", "chf", "vnd", "clf"])(
		"%s: creation with a token is a 400 naming currency, not a 503",
		async (currency) => {
			const m = await createMerchant();
			const error = await expectApiError(
				await createSolana(m.sk, currency),
				"parameter_invalid",
				"currency",
			);
			expect(error.message).toBe(
				`Solana payments cannot be priced in ${currency}: no token rate exists for it. Use one of: eur, gbp, jpy, usd, or accept cards only.`,
			);
		},
	);

	it("a payment created without a token is refused when quoted, with any key, naming currency", async () => {
		const m = await createMerchant();
		// Cards can still take it: creation without a quote stays allowed.
		const p = await createPayment(m.sk, { amount: 1250, currency: "kwd" });
		for (const key of [m.sk, m.pk]) {
			const res = await call("POST", `/v1/payments/${p.id}/quote`, {
				key,
				body: { token: "USDC" },
			});
			const error = await expectApiError(res, "parameter_invalid", "currency");
			expect(error.message).toContain("cannot be priced in kwd");
		}
	});

	it("a priceable currency whose rate is stale stays a 503 to retry", async () => {
		// Only the cache can answer: a fresh SOL/USD, a EUR/USD ten minutes old.
		const priceSourceDown = {
			...env,
			PYTH_HERMES_URL: `${env.SANDBOX_CONTROL_URL}/hermes-down`,
			FX_REFERENCE_URL: `${env.SANDBOX_CONTROL_URL}/fx-down`,
		};
		const cache = (pair: string, numerator: string, age: number) => {
			const [base, quote] = pair.split("/");
			return env.DB.prepare(
				`INSERT OR REPLACE INTO rates (pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at)
				 VALUES (?, 'pyth', ?, ?, ?, '100000000', ?, ?)`,
			)
				.bind(pair, base, quote, numerator, now() - age, now())
				.run();
		};
		await cache("SOL/USD", "15000000000", 0);
		await cache("EUR/USD", "108000000", 600);
		const m = await createMerchant();
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("http://gateway.test/v1/payments", {
				method: "POST",
				headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
				body: JSON.stringify({
					amount: 2500,
					currency: "eur",
					payment_method_types: ["solana"],
					solana: { token: "SOL" },
				}),
			}),
			priceSourceDown,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const error = await expectApiError(res, "service_unavailable");
		expect(error.message).toMatch(/^No current SOL\/eur rate: EUR\/USD price is 6\d\d s old/);
	});
});
