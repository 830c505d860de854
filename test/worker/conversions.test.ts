import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { merchantBalance } from "../../src/db/ledger";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import worker from "../../src/index";
import { openCardIntent } from "../../src/services/cards";
import type { ConversionJson } from "../../src/services/conversion-json";
import { quoteSolanaPayment } from "../../src/services/solana-quote";
import {
	ADMIN_TOKEN,
	call,
	createMerchant,
	createPayment,
	type EventJson,
	expectApiError,
	json,
	type ListJson,
	type PaymentJson,
} from "./helpers/api";
import { expectLedgerBalanced } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { eventTypes, paymentObject, recordConversionMessages } from "./helpers/objects";
import { payTransferRequestInFull } from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };
type Merchant = Awaited<ReturnType<typeof createMerchant>>;

const now = () => Math.floor(Date.now() / 1000);

/** A price source that cannot answer: only the cache can serve a rate. */
const priceSourceDown = {
	...env,
	PYTH_HERMES_URL: `${env.SANDBOX_CONTROL_URL}/hermes-down`,
	FX_REFERENCE_URL: `${env.SANDBOX_CONTROL_URL}/fx-down`,
};

/** Writes a rate into the cache as the cron would, with the given age. */
async function cacheRate(
	pair: string,
	numerator: string,
	denominator: string,
	ageSeconds = 0,
	source = "pyth",
): Promise<void> {
	const [base, quote] = pair.split("/");
	await env.DB.prepare(
		`INSERT OR REPLACE INTO rates (pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	)
		.bind(pair, source, base, quote, numerator, denominator, now() - ageSeconds, now())
		.run();
}

async function merchantWith(settings: Record<string, unknown>): Promise<Merchant> {
	const m = await createMerchant();
	const res = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
		key: ADMIN_TOKEN,
		body: { settings },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return m;
}

/** Creates a SOL payment of $25.00 and pays it in full on the local chain. */
async function paidSolPayment(m: Merchant, body: Record<string, unknown> = {}) {
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
		...body,
	})) as SolanaPayment;
	const messages = await recordConversionMessages(p.id);
	await payTransferRequestInFull(p);
	const paid = await json<SolanaPayment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
	expect(paid.status).toBe("succeeded");
	return { p: paid, messages };
}

let messageSeq = 0;

/** Delivers messages to the gateway's queue handler as the conversions queue would. */
async function deliver(
	messages: { body: unknown; attempts?: number }[],
	withEnv: Cloudflare.Env = env,
) {
	const batch = createMessageBatch(
		"conversions",
		messages.map((m) => ({
			id: `conv-msg-${++messageSeq}`,
			timestamp: new Date(),
			attempts: m.attempts ?? 1,
			body: m.body,
		})),
	);
	// getQueueResult names the retried messages; the delays asked for are recorded here.
	const delays = new Map<string, number | undefined>();
	for (const message of batch.messages) {
		const retry = message.retry.bind(message);
		Object.defineProperty(message, "retry", {
			value: (options?: QueueRetryOptions) => {
				delays.set(message.id, options?.delaySeconds);
				retry(options);
			},
		});
	}
	const ctx = createExecutionContext();
	await worker.queue(batch, withEnv, ctx);
	const result = await getQueueResult(batch, ctx);
	return { ids: batch.messages.map((m) => m.id), result, delays };
}

async function conversionsOf(m: Merchant, paymentId: string): Promise<ConversionJson[]> {
	const res = await call("GET", `/v1/conversions?payment=${paymentId}`, { key: m.sk });
	expect(res.status).toBe(200);
	return (await json<ListJson<ConversionJson>>(res)).data;
}

async function postings(transferId: string) {
	const { results } = await env.DB.prepare(
		"SELECT account, currency, CAST(amount AS TEXT) AS amount FROM ledger_postings WHERE transfer_id = ? ORDER BY seq",
	)
		.bind(transferId)
		.all<{ account: string; currency: string; amount: string }>();
	return results;
}

// A SOL payment of $25.00 at the sandbox's $150: 166666667 lamports for the merchant.
const PRICE_LAMPORTS = 166_666_667n;

beforeEach(async () => {
	// Every test starts from an empty cache, so rates come from the sandbox unless a test says.
	await env.DB.prepare("DELETE FROM rates").run();
});

describe("converting received crypto", () => {
	it("converts a SOL payment to USD at the quote's locked rate, less the spread", async () => {
		const m = await merchantWith({ settlement_currency: "usd" });
		const { p, messages } = await paidSolPayment(m);
		expect(messages).toEqual([{ kind: "payment_succeeded", payment_id: p.id }]);

		const { ids, result } = await deliver(messages.map((body) => ({ body })));
		expect(result.explicitAcks).toEqual(ids);
		expect(result.retryMessages).toEqual([]);

		const [conversion] = await conversionsOf(m, p.id);
		expect(conversion).toEqual({
			id: expect.stringMatching(/^conv_[0-9A-HJKMNP-TV-Z]{30}$/),
			object: "conversion",
			livemode: false,
			payment: p.id,
			status: "completed",
			policy: "locked",
			from: { token: "SOL", currency: "sol", amount: PRICE_LAMPORTS.toString() },
			// $25.00 exactly at the quote's rate; 0.3 % spread = 7.5 cents, 7 kept, 2492.5 → 2493.
			to: { currency: "usd", token: null, amount: 2493 },
			rate: "149.9999997",
			rate_source: "quote",
			rate_published: null,
			spread_bps: 30,
			fee: 7,
			rounding: 0,
			failure_code: null,
			failure_message: null,
			created: expect.any(Number),
		});
		const id = conversion?.id as string;
		const single = await call("GET", `/v1/conversions/${id}`, { key: m.sk });
		expect(await json(single)).toEqual(conversion);

		// Sold through FX clearing; both currencies balance within the transfer.
		expect(await postings(`${p.id}:conversion`)).toEqual([
			{
				account: `test:merchant:${m.merchant.id}:sol:available`,
				currency: "sol",
				amount: "-166666667",
			},
			{ account: "test:fx:clearing:sol", currency: "sol", amount: "166666667" },
			{ account: "test:fx:clearing:usd", currency: "usd", amount: "-2500" },
			{ account: `test:merchant:${m.merchant.id}:usd:available`, currency: "usd", amount: "2493" },
			{ account: "test:gateway:fees:usd", currency: "usd", amount: "7" },
		]);
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([
			{ currency: "sol", amount: 0n },
			{ currency: "usd", amount: 2493n },
		]);
		await expectLedgerBalanced();

		expect(await eventTypes(id)).toEqual(["conversion.completed"]);
		const events = await json<ListJson<EventJson>>(
			await call("GET", `/v1/events?object_id=${id}`, { key: m.sk }),
		);
		expect(events.data[0]?.data.object).toEqual(conversion);
	});

	it("converts at the rate of the conversion's time under the current policy, rounding for the merchant", async () => {
		const m = await merchantWith({ settlement_currency: "usd", conversion_rate_policy: "current" });
		const { p, messages } = await paidSolPayment(m);
		// SOL has moved to $160 since the quote.
		await cacheRate("SOL/USD", "16000000000", "100000000");
		await deliver(messages.map((body) => ({ body })));

		const [conversion] = await conversionsOf(m, p.id);
		// 166666667 lamports × $160 = 2666.666672 cents; spread 8.000000016 → 8; the merchant's
		// 2658.666672 → 2659; the gateway bears the one cent of rounding.
		expect(conversion).toMatchObject({
			policy: "current",
			to: { currency: "usd", amount: 2659 },
			rate: "160",
			rate_source: "pyth",
			fee: 8,
			rounding: 1,
		});
		const exactNet = PRICE_LAMPORTS * 160n * 100n * 9_970n; // ÷ (10^9 × 10 000)
		const favour = BigInt(conversion?.to.amount as number) * 10n ** 13n - exactNet;
		expect(favour >= 0n && favour < 10n ** 13n).toBe(true);

		expect(await postings(`${p.id}:conversion`)).toContainEqual({
			account: "test:gateway:fx_rounding:usd",
			currency: "usd",
			amount: "-1",
		});
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toContainEqual({
			currency: "usd",
			amount: 2659n,
		});
		await expectLedgerBalanced();
	});

	it("converts to EUR through the FX reference feed", async () => {
		const m = await merchantWith({ settlement_currency: "eur", conversion_rate_policy: "current" });
		const { p, messages } = await paidSolPayment(m);
		await deliver(messages.map((body) => ({ body })));

		const [conversion] = await conversionsOf(m, p.id);
		// 166666667 lamports × $150 × €0.92593/$ = 2314.8250046 euro cents; 6 kept, 2308 credited.
		expect(conversion).toMatchObject({
			status: "completed",
			to: { currency: "eur", token: null, amount: 2308 },
			rate: "138.8895",
			rate_source: "pyth+fx_reference",
			fee: 6,
			rounding: 0,
		});
		expect(conversion?.rate_published).toBe(Math.floor(now() / 86_400) * 86_400);
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toContainEqual({
			currency: "eur",
			amount: 2308n,
		});
		await expectLedgerBalanced();
		// The reference rate it used is now in the cache.
		const rates = await json<ListJson<{ pair: string; source: string; rate: string }>>(
			await call("GET", "/v1/rates?base=usd", { key: m.sk }),
		);
		expect(rates.data).toContainEqual(
			expect.objectContaining({ pair: "USD/EUR", source: "fx_reference", rate: "0.92593" }),
		);
	});

	it("converts a euro-priced payment back to exactly its price under the locked policy", async () => {
		const m = await merchantWith({ settlement_currency: "eur" });
		const { p, messages } = await paidSolPayment(m, { amount: 1000, currency: "eur" });
		await deliver(messages.map((body) => ({ body })));
		const [conversion] = await conversionsOf(m, p.id);
		// €10.00 less 0.3 % (3 cents).
		expect(conversion).toMatchObject({
			to: { currency: "eur", amount: 997 },
			fee: 3,
			rounding: 0,
			rate_source: "quote",
		});
		await expectLedgerBalanced();
	});

	it("converts nothing when the merchant settles in what it received, or keeps it by default", async () => {
		for (const settings of [{ settlement_currency: "SOL" }, {}]) {
			const m = await merchantWith(settings);
			const { p, messages } = await paidSolPayment(m);
			const { ids, result } = await deliver(messages.map((body) => ({ body })));
			expect(result.explicitAcks).toEqual(ids);
			expect(await conversionsOf(m, p.id)).toEqual([]);
			expect(await postings(`${p.id}:conversion`)).toEqual([]);
			expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([
				{ currency: "sol", amount: PRICE_LAMPORTS },
			]);
		}
	});

	it("changes nothing on a duplicate message", async () => {
		const m = await merchantWith({ settlement_currency: "usd" });
		const { p, messages } = await paidSolPayment(m);
		const body = messages[0];
		await deliver([{ body }]);
		const before = await conversionsOf(m, p.id);
		const balanceBefore = await merchantBalance(env.DB, m.merchant.id, false);

		// Redelivered, twice in one batch and again later (a cron republish, a retry).
		const { ids, result } = await deliver([{ body }, { body, attempts: 2 }]);
		expect(result.explicitAcks).toEqual(ids);
		await deliver([{ body }]);

		expect(await conversionsOf(m, p.id)).toEqual(before);
		expect(await merchantBalance(env.DB, m.merchant.id, false)).toEqual(balanceBefore);
		expect(await postings(`${p.id}:conversion`)).toHaveLength(5);
		expect(await eventTypes(before[0]?.id as string)).toEqual(["conversion.completed"]);
		await expectLedgerBalanced();
	});

	it("retries a stale rate with backoff, then gives up visibly", async () => {
		const logs = captureLogs();
		const m = await merchantWith({ settlement_currency: "usd", conversion_rate_policy: "current" });
		const { p, messages } = await paidSolPayment(m);
		const body = messages[0];
		// The cache holds a ten-minute-old price and the price source cannot be reached.
		await cacheRate("SOL/USD", "15000000000", "100000000", 600);

		const first = await deliver([{ body }], priceSourceDown);
		expect(first.result.explicitAcks).toEqual([]);
		expect(first.result.retryMessages).toEqual([{ msgId: first.ids[0] }]);
		expect([...first.delays]).toEqual([[first.ids[0], 30]]);
		const third = await deliver([{ body, attempts: 3 }], priceSourceDown);
		expect(third.result.retryMessages).toEqual([{ msgId: third.ids[0] }]);
		expect([...third.delays]).toEqual([[third.ids[0], 120]]);
		expect(await conversionsOf(m, p.id)).toEqual([]);

		const last = await deliver([{ body, attempts: 10 }], priceSourceDown);
		expect(last.result.explicitAcks).toEqual(last.ids);
		expect(last.result.retryMessages).toEqual([]);
		const [failed] = await conversionsOf(m, p.id);
		expect(failed).toMatchObject({
			status: "failed",
			policy: "current",
			from: { token: "SOL", amount: PRICE_LAMPORTS.toString() },
			to: { currency: "usd", token: null, amount: null },
			rate: null,
			fee: null,
			failure_code: "rate_stale",
			failure_message: expect.stringMatching(/SOL\/USD price is 60\d s old, over the 120 s limit/),
		});
		expect(await eventTypes(failed?.id as string)).toEqual(["conversion.failed"]);
		const giveUp = await env.DB.prepare(
			"SELECT queue, attempts, error FROM queue_failures WHERE message_id = ?",
		)
			.bind(last.ids[0])
			.first<{ queue: string; attempts: number; error: string }>();
		expect(giveUp).toMatchObject({ queue: "conversions", attempts: 10 });
		expect(giveUp?.error).toMatch(/^rate_stale: SOL\/USD price is/);
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "conversions", attempts: 10 }),
		]);
		// The merchant keeps the SOL; nothing was posted.
		expect(await postings(`${p.id}:conversion`)).toEqual([]);
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([
			{ currency: "sol", amount: PRICE_LAMPORTS },
		]);
		// A later message (the rates back) does not convert a conversion given up on.
		await deliver([{ body }]);
		expect((await conversionsOf(m, p.id)).map((c) => c.status)).toEqual(["failed"]);
	});

	it("refuses at once a settlement currency the gateway cannot deliver", async () => {
		const logs = captureLogs();
		const m = await merchantWith({ settlement_currency: "DOGE" });
		const { p, messages } = await paidSolPayment(m);
		const { ids, result } = await deliver(messages.map((body) => ({ body })));
		expect(result.explicitAcks).toEqual(ids);
		expect(await conversionsOf(m, p.id)).toMatchObject([
			{
				status: "failed",
				failure_code: "settlement_currency_unsupported",
				to: { currency: "DOGE" },
			},
		]);
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({
				queue: "conversions",
				attempts: 1,
				error: expect.stringMatching(/^settlement_currency_unsupported/),
			}),
		]);
	});

	it("lists conversions with cursors and keeps other merchants' out", async () => {
		const m = await merchantWith({ settlement_currency: "usd" });
		const a = await paidSolPayment(m);
		const b = await paidSolPayment(m);
		await deliver([...a.messages, ...b.messages].map((body) => ({ body })));
		const page = await json<ListJson<ConversionJson>>(
			await call("GET", "/v1/conversions?limit=1", { key: m.sk }),
		);
		expect(page.has_more).toBe(true);
		expect(page.data.map((c) => c.payment)).toEqual([b.p.id]);
		const next = await json<ListJson<ConversionJson>>(
			await call("GET", `/v1/conversions?limit=1&starting_after=${page.data[0]?.id}`, {
				key: m.sk,
			}),
		);
		expect(next.data.map((c) => c.payment)).toEqual([a.p.id]);
		const other = await createMerchant();
		await expectApiError(
			await call("GET", `/v1/conversions/${page.data[0]?.id}`, { key: other.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("GET", `/v1/conversions/${page.data[0]?.id}`, { key: m.skLive }),
			"resource_missing",
			"id",
		);
	});
});

describe("merchant settings", () => {
	it("reads and changes the settlement currency and policy with the secret key", async () => {
		const m = await createMerchant();
		const initial = await call("GET", "/v1/settings", { key: m.sk });
		expect(await json(initial)).toEqual({
			object: "settings",
			settlement_currency: null,
			conversion_rate_policy: "locked",
			card_presentment: "price_currency",
			accepted_tokens: null,
			solana_finalized_above: null,
			extra_funds: "refund",
			payout_schedule: { interval: "manual", weekly_anchor: null },
			payout_minimums: {},
		});
		const res = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { settlement_currency: "USDC", conversion_rate_policy: "current" },
		});
		expect(await json(res)).toMatchObject({
			settlement_currency: "USDC",
			conversion_rate_policy: "current",
		});
		await expectApiError(
			await call("POST", "/v1/settings", { key: m.sk, body: { settlement_currency: "DOGE" } }),
			"parameter_invalid",
			"settlement_currency",
		);
		await expectApiError(
			await call("POST", "/v1/settings", { key: m.sk, body: { settlement_currency: "USD" } }),
			"parameter_invalid",
			"settlement_currency",
		);
		const cleared = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { settlement_currency: null },
		});
		expect(await json(cleared)).toMatchObject({
			settlement_currency: null,
			conversion_rate_policy: "current",
		});
		await expectApiError(
			await call("POST", "/v1/settings", { key: m.sk, body: { extra_funds: "keep" } }),
			"parameter_invalid",
			"extra_funds",
		);
		await expectApiError(await call("GET", "/v1/settings", { key: m.pk }), "secret_key_required");
	});
});

describe("rates cache", () => {
	it("is refreshed from both sources by the minute cron and shown with ages", async () => {
		const ctx = createExecutionContext();
		await worker.scheduled(
			createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }),
			env,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const { results } = await env.DB.prepare(
			"SELECT pair, source, rate_numerator, rate_denominator FROM rates ORDER BY source, pair",
		).all();
		expect(results).toEqual([
			{
				pair: "USD/EUR",
				source: "fx_reference",
				rate_numerator: "92593",
				rate_denominator: "100000",
			},
			{
				pair: "USD/GBP",
				source: "fx_reference",
				rate_numerator: "7874",
				rate_denominator: "10000",
			},
			{ pair: "USD/JPY", source: "fx_reference", rate_numerator: "1550", rate_denominator: "10" },
			{ pair: "EUR/USD", source: "pyth", rate_numerator: "108000", rate_denominator: "100000" },
			{ pair: "GBP/USD", source: "pyth", rate_numerator: "127000", rate_denominator: "100000" },
			{
				pair: "PYUSD/USD",
				source: "pyth",
				rate_numerator: "100000000",
				rate_denominator: "100000000",
			},
			{
				pair: "SOL/USD",
				source: "pyth",
				rate_numerator: "15000000000",
				rate_denominator: "100000000",
			},
			{ pair: "USD/JPY", source: "pyth", rate_numerator: "155000", rate_denominator: "1000" },
			{
				pair: "USDC/USD",
				source: "pyth",
				rate_numerator: "100000000",
				rate_denominator: "100000000",
			},
		]);

		const m = await createMerchant();
		const res = await call("GET", "/v1/rates?base=SOL", { key: m.sk });
		expect(res.status).toBe(200);
		const body = await json<ListJson<Record<string, unknown>>>(res);
		expect(body.data).toEqual([
			{
				object: "rate",
				pair: "SOL/USD",
				base: "SOL",
				quote: "USD",
				rate: "150.00000000",
				source: "pyth",
				publish_time: expect.any(Number),
				fetched_at: expect.any(Number),
				age_seconds: expect.any(Number),
				max_age_seconds: 120,
				stale: false,
			},
		]);
		expect(body.data[0]?.age_seconds).toBeLessThanOrEqual(5);
		await expectApiError(await call("GET", "/v1/rates", { key: m.pk }), "secret_key_required");
	});

	it("serves quotes with one D1 read (and the reference's index write) and no price call while it is current", async () => {
		await cacheRate("SOL/USD", "20000000000", "100000000");
		let reads = 0;
		const db = new Proxy(env.DB, {
			get(target, prop, receiver) {
				if (prop === "prepare") {
					return (sql: string) => {
						reads++;
						return target.prepare(sql);
					};
				}
				const value = Reflect.get(target, prop, receiver);
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
		const quote = await quoteSolanaPayment(
			{ ...priceSourceDown, DB: db },
			{ id: "pay_x", amount: 2500, currency: "usd", expires_at: now() + 600, description: null },
			{ name: "Acme", settings: {} },
			"SOL",
		);
		expect(quote.quote).toMatchObject({ rate: "200.000000", amount_before_fee: "125000000" });
		expect(reads).toBe(2);
		// Through the API too.
		const m = await createMerchant();
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		})) as SolanaPayment;
		expect(p.solana.quote.rate).toBe("200.000000");
	});

	it("fetches live when the cache is cold, and keeps what it fetched", async () => {
		const m = await createMerchant();
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		})) as SolanaPayment;
		expect(p.solana.quote.rate).toBe("150.000000");
		const row = await env.DB.prepare(
			"SELECT publish_time FROM rates WHERE pair = 'SOL/USD'",
		).first<{
			publish_time: number;
		}>();
		expect(now() - (row?.publish_time ?? 0)).toBeLessThanOrEqual(5);
	});

	it("stops quoting with a 503 naming the pair and its age rather than use an old rate", async () => {
		await cacheRate("SOL/USD", "15000000000", "100000000", 600);
		const m = await createMerchant();
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("http://gateway.test/v1/payments", {
				method: "POST",
				headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
				body: JSON.stringify({
					amount: 2500,
					currency: "usd",
					payment_method_types: ["solana"],
					solana: { token: "SOL" },
				}),
			}),
			priceSourceDown,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const error = await expectApiError(res, "service_unavailable");
		expect(error.message).toMatch(
			/^No current SOL\/usd rate: SOL\/USD price is 60\d s old, over the 120 s limit\. Retry shortly\.$/,
		);
	});
});

describe("cross-border card presentment", () => {
	type CardPayment = PaymentJson & { card: CardPaymentDetails | null };

	async function cardPaymentFor(settings: Record<string, unknown>) {
		const m = await merchantWith(settings);
		const p = await createPayment(m.sk, { amount: 10_000, payment_method_types: ["card"] });
		const record = await paymentObject(p.id).get();
		if (!record) throw new Error("payment missing");
		return { m, p, record };
	}

	it("charges a payer in the euro area in euros at the current rate plus the spread", async () => {
		const { m, p, record } = await cardPaymentFor({ card_presentment: "payer_currency" });
		const { client_secret, payment } = await openCardIntent(env, record, { payerCountry: "DE" });
		const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
		// $100.00 at €0.92593/$: €92.593 → 9260 cents; with 0.3 %: 9287.08 → 9288 charged.
		expect(await stripe.paymentIntents.retrieve(intentId)).toMatchObject({
			amount: 9288,
			currency: "eur",
		});
		const presentment = {
			currency: "eur",
			amount: 9288,
			rate: "0.92593",
			fee: 28,
			spread_bps: 30,
			price_amount: 10_000,
			price_currency: "usd",
		};
		expect(payment.card?.presentment).toEqual(presentment);

		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const paid = await json<CardPayment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
		// The merchant is owed its price, in its currency; Stripe's euro fee read back in dollars.
		expect(paid).toMatchObject({ status: "succeeded", amount: 10_000, amount_received: 10_000 });
		expect(paid.card).toMatchObject({ amount_received: 10_000, presentment });
		const fee = paid.card?.fee as number;
		expect((await merchantBalance(env.DB, m.merchant.id, false)).pending).toEqual([
			{ currency: "usd", amount: BigInt(10_000 - fee) },
		]);
		await expectLedgerBalanced();
	});

	it("charges the price as it is unless the merchant opts in and the payer's currency differs", async () => {
		for (const [settings, country] of [
			[{}, "DE"],
			[{ card_presentment: "payer_currency" }, "US"],
			[{ card_presentment: "payer_currency" }, null],
		] as const) {
			const { record } = await cardPaymentFor(settings);
			const { client_secret, payment } = await openCardIntent(env, record, {
				payerCountry: country,
			});
			const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
			expect(await stripe.paymentIntents.retrieve(intentId)).toMatchObject({
				amount: 10_000,
				currency: "usd",
			});
			expect(payment.card?.presentment).toBeUndefined();
		}
	});
});
