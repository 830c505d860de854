import type { Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createControlServer } from "../../sandbox/control.js";
import { closeServer, formatUrl, listen } from "../../sandbox/http.js";
import { formatRate } from "../../sandbox/prices/fx-reference.js";
import { PriceStore } from "../../sandbox/prices/index.js";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { tokenAmountForPrice } from "../../src/domain/conversion";
import { fetchReferenceRates } from "../../src/processors/prices/fx-reference";
import { fetchPythPrices } from "../../src/processors/prices/pyth";
import { getTokenRate, pythSource, RateStaleError } from "../../src/processors/prices/rates";

const SOL = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
const USDC = "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a";
const EUR = "a995d00bb36a63cef7fd2c287dc105fc8f3d93779f062f09551b0af3e81ec30b";
const UNKNOWN = "00".repeat(32);

const nowSeconds = () => Math.floor(Date.now() / 1000);

function price(p: string, conf: string, expo: number, t: number) {
	return { price: p, conf, expo, publish_time: t };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: typeof body === "string" ? body : JSON.stringify(body),
	});
	return { status: res.status, json: await res.json() };
}

interface Parsed {
	id: string;
	price: { price: string; publish_time: number };
}

describe("sandbox price feeds over HTTP", () => {
	let sandbox: Sandbox;
	let control: string;

	beforeAll(async () => {
		sandbox = await startSandbox({ solanaPort: 0, stripePort: 0, controlPort: 0 });
		control = sandbox.urls.control;
	});
	afterAll(() => sandbox.close());
	afterEach(async () => {
		expect((await post(`${control}/admin/prices/reset`, {})).status).toBe(200);
	});

	const latest = (query: string) => fetch(`${control}/hermes/v2/updates/price/latest?${query}`);

	it("serves SOL/USD in Hermes' exact shape", async () => {
		const before = nowSeconds();
		const res = await latest(`ids[]=${SOL}`);
		const after = nowSeconds();
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
		const body = (await res.json()) as { parsed: Parsed[] };
		const t = body.parsed[0]?.price.publish_time ?? 0;
		expect(t).toBeGreaterThanOrEqual(before);
		expect(t).toBeLessThanOrEqual(after);
		expect(body).toStrictEqual({
			binary: { encoding: "hex", data: [expect.stringMatching(/^504e4155(?:[0-9a-f]{2})+$/)] },
			parsed: [
				{
					id: SOL,
					price: price("15000000000", "7500000", -8, t),
					ema_price: price("15000000000", "7500000", -8, t),
					metadata: {
						slot: expect.any(Number),
						proof_available_time: t + 1,
						prev_publish_time: t - 1,
					},
				},
			],
		});
	});

	it("accepts ids%5B%5D= and 0x ids, keeps request order and drops repeats", async () => {
		const res = await latest(`ids%5B%5D=0x${USDC}&ids%5B%5D=${SOL.toUpperCase()}&ids[]=${USDC}`);
		expect(res.status).toBe(200);
		const body = (await res.json()) as { parsed: Parsed[]; binary: { data: string[] } };
		expect(body.parsed.map((p) => [p.id, p.price.price])).toEqual([
			[USDC, "100000000"],
			[SOL, "15000000000"],
		]);
		expect(body.binary.data).toHaveLength(1);
	});

	it("answers unknown ids with Hermes' 404 text, or skips them when asked", async () => {
		const res = await latest(`ids[]=${SOL}&ids[]=0x${UNKNOWN}`);
		expect(res.status).toBe(404);
		expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
		expect(await res.text()).toBe(`Price ids not found: 0x${UNKNOWN}`);

		const ignored = await latest(`ids[]=${SOL}&ids[]=${UNKNOWN}&ignore_invalid_price_ids=true`);
		expect(ignored.status).toBe(200);
		expect(((await ignored.json()) as { parsed: Parsed[] }).parsed.map((p) => p.id)).toEqual([SOL]);
	});

	it("rejects a missing or malformed id and serves base64 on request", async () => {
		expect((await latest("")).status).toBe(400);
		const bad = await latest("ids[]=0x1234");
		expect(bad.status).toBe(400);
		expect(await bad.text()).toContain("invalid price id");
		const b64 = await latest(`ids[]=${SOL}&encoding=base64`);
		const body = (await b64.json()) as { binary: { encoding: string; data: string[] } };
		expect(body.binary.encoding).toBe("base64");
		expect(
			Buffer.from(body.binary.data[0] ?? "", "base64")
				.subarray(0, 4)
				.toString(),
		).toBe("PNAU");
	});

	it("sets a price from a decimal string, lags a feed and resets", async () => {
		const set = await post(`${control}/admin/prices`, { feed: "SOL/USD", price: "123.45" });
		expect(set).toMatchObject({
			status: 200,
			json: { feed: "SOL/USD", id: SOL, price: "123.45000000", conf: "0.06172500", expo: -8 },
		});
		const stale = await post(`${control}/admin/prices/stale`, { feed: "sol/usd", seconds: 120 });
		expect(stale.status).toBe(200);
		const body = (await (await latest(`ids[]=${SOL}`)).json()) as { parsed: Parsed[] };
		expect(body.parsed[0]?.price.price).toBe("12345000000");
		expect(nowSeconds() - (body.parsed[0]?.price.publish_time ?? 0)).toBeGreaterThanOrEqual(120);

		await post(`${control}/admin/prices/reset`, {});
		const reset = (await (await latest(`ids[]=${SOL}`)).json()) as { parsed: Parsed[] };
		expect(reset.parsed[0]?.price.price).toBe("15000000000");
		expect(nowSeconds() - (reset.parsed[0]?.price.publish_time ?? 0)).toBeLessThan(5);
	});

	it("refuses float prices, excess precision and unknown feeds", async () => {
		const url = `${control}/admin/prices`;
		expect((await post(url, { feed: "SOL/USD", price: 123.45 })).status).toBe(400);
		expect((await post(url, { feed: "EUR/USD", price: "1.123456" })).status).toBe(400);
		expect((await post(url, "{not json")).status).toBe(400);
		const unknown = await post(url, { feed: "DOGE/USD", price: "1" });
		expect(unknown.status).toBe(404);
		expect(unknown.json).toMatchObject({ error: { code: "unknown_feed" } });
		expect(
			(await post(`${control}/admin/prices/stale`, { feed: "SOL/USD", seconds: -1 })).status,
		).toBe(400);
	});

	it("serves Frankfurter-style reference rates as exact decimals in the raw text", async () => {
		const res = await fetch(`${control}/fx/latest?base=USD&symbols=EUR,JPY,GBP`);
		expect(res.status).toBe(200);
		const text = await res.text();
		const date = new Date().toISOString().slice(0, 10);
		// 1 / 1.08 = 0.925925… → 0.92593; 1 / 1.27 = 0.787401… → 0.7874.
		expect(text).toBe(
			`{"amount":1.0,"base":"USD","date":"${date}","rates":{"EUR":0.92593,"JPY":155.0,"GBP":0.7874}}`,
		);

		const eurBase = await (await fetch(`${control}/fx/latest?from=eur`)).text();
		expect(JSON.parse(eurBase)).toEqual({
			amount: 1,
			base: "EUR",
			date,
			rates: { USD: 1.08, GBP: 0.85039, JPY: 167.4 },
		});
		const unknown = await fetch(`${control}/fx/latest?base=USD&symbols=XYZ`);
		expect(unknown.status).toBe(404);
		expect(await unknown.json()).toEqual({ message: "not found" });
	});

	it("dates reference rates by their oldest FX feed", async () => {
		await post(`${control}/admin/prices/stale`, { feed: "EUR/USD", seconds: 3 * 86400 });
		const body = (await (await fetch(`${control}/fx/latest?base=USD&symbols=EUR`)).json()) as {
			date: string;
		};
		const expected = new Date((nowSeconds() - 3 * 86400) * 1000).toISOString().slice(0, 10);
		expect(body.date).toBe(expected);
	});

	it("feeds the gateway's Pyth client, rate and reference-rate parser end to end", async () => {
		const base = `${control}/hermes`;
		const prices = await fetchPythPrices(base, [`0x${SOL}`, USDC, EUR]);
		expect(prices.get(SOL)).toMatchObject({ price: 15000000000n, expo: -8 });
		expect(prices.get(EUR)).toMatchObject({ price: 108000n, expo: -5 });

		const request = {
			token: "SOL",
			priceCurrency: "usd",
			now: nowSeconds(),
			maxStalenessSeconds: 60,
			source: pythSource(base),
		};
		const rate = await getTokenRate(request);
		expect(tokenAmountForPrice(2500n, rate)).toBe(166666667n);

		await post(`${control}/admin/prices/stale`, { feed: "SOL/USD", seconds: 61 });
		await expect(getTokenRate({ ...request, now: nowSeconds() })).rejects.toBeInstanceOf(
			RateStaleError,
		);

		const ref = await fetchReferenceRates(`${control}/fx`, { base: "usd", symbols: ["eur"] });
		expect(ref.rates.get("eur")).toEqual({ mantissa: 92593n, expo: -5 });
	});
});

describe("sandbox price store from code", () => {
	const NOW_MS = 1_750_000_000_500;
	let prices: PriceStore;
	let server: Server;
	let url: string;

	beforeAll(async () => {
		prices = new PriceStore({ now: () => NOW_MS });
		server = createControlServer({
			services: { solana: "", stripe: "" },
			startedAt: new Date(NOW_MS),
			prices,
		});
		url = formatUrl("127.0.0.1", await listen(server, 0, "127.0.0.1"));
	});
	afterAll(() => closeServer(server));

	it("serves what prices.set and prices.stale configure, at the store's clock", async () => {
		prices.set("SOL/USD", "123.45");
		prices.set("Crypto.USDC/USD", "0.9998", { conf: "0.0001" });
		prices.stale(`0x${USDC}`, 30);
		const res = await fetch(`${url}/hermes/v2/updates/price/latest?ids[]=${SOL}&ids[]=${USDC}`);
		const body = (await res.json()) as { parsed: unknown[]; binary: { data: string[] } };
		expect(body.parsed).toEqual([
			expect.objectContaining({
				price: price("12345000000", "6172500", -8, 1_750_000_000),
				metadata: {
					slot: 4_375_000_001,
					proof_available_time: 1_750_000_001,
					prev_publish_time: 1_749_999_999,
				},
			}),
			expect.objectContaining({ price: price("99980000", "10000", -8, 1_749_999_970) }),
		]);
		// The stand-in update data carries the same numbers: id, price, conf, expo, publish_time.
		const data = Buffer.from(body.binary.data[0] ?? "", "hex");
		expect(data.length).toBe(4 + 2 * 60);
		expect(data.subarray(4, 36).toString("hex")).toBe(SOL);
		expect(data.readBigInt64BE(36)).toBe(12345000000n);
		expect(data.readInt32BE(52)).toBe(-8);
		expect(data.readBigInt64BE(56)).toBe(1_750_000_000n);
		prices.reset();
		expect(prices.snapshot("SOL/USD").price).toBe(15000000000n);
	});

	it("refuses JPY/USD, which Pyth quotes the other way round", () => {
		expect(() => prices.set("JPY/USD", "0.0065")).toThrow(/unknown price feed "JPY\/USD"/);
		expect(prices.set("USD/JPY", "150.125").price).toBe(150125n);
	});

	it("rounds reference rates half up to five places", () => {
		expect(formatRate({ num: 1n, den: 3n })).toBe("0.33333");
		expect(formatRate({ num: 2n, den: 3n })).toBe("0.66667");
		expect(formatRate({ num: 155n, den: 1n })).toBe("155.0");
		expect(formatRate({ num: 1n, den: 200000n })).toBe("0.00001");
		expect(formatRate({ num: 1n, den: 200001n })).toBe("0.0");
	});
});
