import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordProcessorOutcome } from "../../src/services/routing";
import { call, createMerchant, type EventJson, expectApiError, json, list } from "./helpers/api";

interface RoutingRulesJson {
	object: "routing_rules";
	livemode: boolean;
	strategy: string;
	rules: Record<string, unknown>[];
	updated: number | null;
}

interface DecisionJson {
	processor: string | null;
	settings: Record<string, unknown>;
	rule_id: string | null;
	strategy: string;
	reason: string;
	cost?: { total: number };
	alternatives: { processor: string; rule_id: string | null; reason: string }[];
}

async function getRules(key: string): Promise<RoutingRulesJson> {
	const res = await call("GET", "/v1/routing_rules", { key });
	expect(res.status, "GET /v1/routing_rules").toBe(200);
	return json<RoutingRulesJson>(res);
}

async function putRules(key: string, body: unknown): Promise<RoutingRulesJson> {
	const res = await call("PUT", "/v1/routing_rules", { key, body });
	if (res.status !== 200) throw new Error(`PUT failed: ${res.status} ${await res.text()}`);
	return json<RoutingRulesJson>(res);
}

async function preview(key: string, body: Record<string, unknown> = {}): Promise<DecisionJson> {
	const res = await call("POST", "/v1/routing_rules/preview", {
		key,
		body: { amount: 10_000, currency: "usd", payment_method_types: ["solana", "card"], ...body },
	});
	if (res.status !== 200) throw new Error(`preview failed: ${res.status} ${await res.text()}`);
	return json<DecisionJson>(res);
}

const DEFAULTS = { object: "routing_rules", strategy: "first_match", rules: [], updated: null };

describe("GET /v1/routing_rules", () => {
	it("returns the defaults while the merchant never set rules", async () => {
		const m = await createMerchant();
		expect(await getRules(m.sk)).toStrictEqual({ ...DEFAULTS, livemode: false });
		expect(await getRules(m.skLive)).toStrictEqual({ ...DEFAULTS, livemode: true });
	});

	it("needs the secret key", async () => {
		const m = await createMerchant();
		await expectApiError(
			await call("GET", "/v1/routing_rules", { key: m.pk }),
			"secret_key_required",
		);
		await expectApiError(await call("GET", "/v1/routing_rules"), "api_key_missing");
	});
});

describe("PUT /v1/routing_rules", () => {
	it("stores the configuration, normalised, and GET returns exactly it", async () => {
		const m = await createMerchant();
		const before = Math.floor(Date.now() / 1000);
		const put = await putRules(m.sk, {
			strategy: "priority",
			rules: [
				{
					id: "eu-cards",
					description: "European cards via Stripe",
					conditions: { methods: ["card"], currencies: ["EUR"], countries: ["de", "FR"] },
					action: { processor: "stripe", settings: { capture_method: "manual" } },
				},
				{ id: "crypto", action: { processor: "solana" } },
			],
		});
		expect(put).toStrictEqual({
			object: "routing_rules",
			livemode: false,
			strategy: "priority",
			rules: [
				{
					id: "eu-cards",
					description: "European cards via Stripe",
					conditions: { methods: ["card"], currencies: ["eur"], countries: ["DE", "FR"] },
					action: { processor: "stripe", settings: { capture_method: "manual" } },
				},
				{ id: "crypto", conditions: {}, action: { processor: "solana", settings: {} } },
			],
			updated: expect.any(Number),
		});
		expect(put.updated).toBeGreaterThanOrEqual(before);
		expect(await getRules(m.sk)).toStrictEqual(put);
	});

	it("replaces the whole configuration: omitted fields return to their defaults", async () => {
		const m = await createMerchant();
		await putRules(m.sk, {
			strategy: "lowest_cost",
			rules: [{ id: "a", action: { processor: "stripe" } }],
		});
		const put = await putRules(m.sk, {});
		expect(put).toMatchObject({ strategy: "first_match", rules: [] });
		expect(await getRules(m.sk)).toStrictEqual(put);
	});

	const invalid: {
		case: string;
		body: unknown;
		code: "parameter_invalid" | "parameter_missing";
		param: string;
	}[] = [
		{
			case: "amount_gte above amount_lte",
			body: {
				rules: [
					{
						id: "r",
						conditions: { amount_gte: 5, amount_lte: 1 },
						action: { processor: "stripe" },
					},
				],
			},
			code: "parameter_invalid",
			param: "rules[0][conditions][amount_gte]",
		},
		{
			case: "an unknown condition",
			body: {
				rules: [{ id: "r", conditions: { colour: "red" }, action: { processor: "stripe" } }],
			},
			code: "parameter_invalid",
			param: "rules[0][conditions][colour]",
		},
		{
			case: "an unknown top-level field",
			body: { strategy: "priority", mode: "fast" },
			code: "parameter_invalid",
			param: "mode",
		},
		{
			case: "an unknown strategy",
			body: { strategy: "cheapest" },
			code: "parameter_invalid",
			param: "strategy",
		},
		{
			case: "a bad currency in the second rule",
			body: {
				rules: [
					{ id: "a", action: { processor: "solana" } },
					{ id: "b", conditions: { currencies: ["dollars"] }, action: { processor: "stripe" } },
				],
			},
			code: "parameter_invalid",
			param: "rules[1][conditions][currencies][0]",
		},
		{
			case: "a setting of the other processor",
			body: {
				rules: [
					{
						id: "a",
						action: { processor: "stripe", settings: { required_commitment: "finalized" } },
					},
				],
			},
			code: "parameter_invalid",
			param: "rules[0][action][settings][required_commitment]",
		},
		{
			case: "a rule without an action",
			body: { rules: [{ id: "a" }] },
			code: "parameter_missing",
			param: "rules[0][action]",
		},
		{
			case: "duplicate rule ids",
			body: {
				rules: [
					{ id: "a", action: { processor: "solana" } },
					{ id: "a", action: { processor: "stripe" } },
				],
			},
			code: "parameter_invalid",
			param: "rules",
		},
	];

	it.each(invalid)("refuses $case ($code at $param) and keeps the stored rules", async (t) => {
		const m = await createMerchant();
		const stored = await putRules(m.sk, { strategy: "priority" });
		const res = await call("PUT", "/v1/routing_rules", { key: m.sk, body: t.body });
		await expectApiError(res, t.code, t.param);
		expect(await getRules(m.sk)).toStrictEqual(stored);
	});

	it("refuses a body that is not a JSON object, and one sent without the JSON content type", async () => {
		const m = await createMerchant();
		const stored = await putRules(m.sk, { strategy: "priority" });
		await expectApiError(
			await call("PUT", "/v1/routing_rules", { key: m.sk, body: [] }),
			"body_invalid",
		);
		await expectApiError(
			await call("PUT", "/v1/routing_rules", {
				key: m.sk,
				rawBody: "{not json",
				headers: { "Content-Type": "application/json" },
			}),
			"body_invalid",
		);
		// Without a JSON body, validation would see `{}` and reset the rules.
		await expectApiError(await call("PUT", "/v1/routing_rules", { key: m.sk }), "body_invalid");
		await expectApiError(
			await call("PUT", "/v1/routing_rules", {
				key: m.sk,
				rawBody: "strategy=lowest_cost",
				headers: { "Content-Type": "application/x-www-form-urlencoded" },
			}),
			"body_invalid",
		);
		expect(await getRules(m.sk)).toStrictEqual(stored);
	});

	it("keeps test and live rules apart, and each merchant's own", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		await putRules(m.sk, { strategy: "priority" });
		expect(await getRules(m.skLive)).toStrictEqual({ ...DEFAULTS, livemode: true });
		expect(await getRules(other.sk)).toStrictEqual({ ...DEFAULTS, livemode: false });

		await putRules(m.skLive, { strategy: "lowest_cost" });
		expect((await getRules(m.sk)).strategy).toBe("priority");
		expect((await getRules(m.skLive)).strategy).toBe("lowest_cost");
		expect((await preview(m.sk)).strategy).toBe("priority");
		expect((await preview(m.skLive)).strategy).toBe("lowest_cost");
		expect((await preview(other.sk)).strategy).toBe("first_match");
	});

	it("appends one routing_rules.updated event per change, in its mode, carrying the new rules", async () => {
		const m = await createMerchant();
		const first = await putRules(m.sk, { strategy: "priority" });
		const second = await putRules(m.sk, {
			rules: [{ id: "cards", action: { processor: "stripe" } }],
		});
		await putRules(m.skLive, { strategy: "lowest_cost" });

		const events = await list<EventJson>(m.sk, "/v1/events?type=routing_rules.updated");
		expect(events.data.map((e) => e.data.object)).toStrictEqual([second, first]);
		expect(events.data.map((e) => e.livemode)).toStrictEqual([false, false]);
		expect(events.data[0]?.id).toMatch(/^evt_[0-9A-Z]{30}$/);
		expect(events.data[0]?.created).toBe(second.updated);

		const live = await list<EventJson>(m.skLive, "/v1/events?type=routing_rules.updated");
		expect(live.data.map((e) => e.data.object.strategy)).toStrictEqual(["lowest_cost"]);

		// The event names the merchant as its object, versioned by each change.
		const rows = await env.DB.prepare(
			"SELECT object_id, object_version FROM events WHERE merchant_id = ? AND livemode = 0 AND type = 'routing_rules.updated' ORDER BY id",
		)
			.bind(m.merchant.id)
			.all<{ object_id: string; object_version: number }>();
		expect(rows.results).toStrictEqual([
			{ object_id: m.merchant.id, object_version: 1 },
			{ object_id: m.merchant.id, object_version: 2 },
		]);
	});

	it("leaves no event behind a refused change", async () => {
		const m = await createMerchant();
		await call("PUT", "/v1/routing_rules", { key: m.sk, body: { strategy: "cheapest" } });
		const events = await list<EventJson>(m.sk, "/v1/events?type=routing_rules.updated");
		expect(events.data).toStrictEqual([]);
	});
});

describe("POST /v1/routing_rules/preview", () => {
	it("first_match: the first matching rule decides, with its settings", async () => {
		const m = await createMerchant();
		await putRules(m.sk, {
			rules: [
				{
					id: "big-cards",
					conditions: { methods: ["card"], amount_gte: 50_000 },
					action: { processor: "stripe", settings: { capture_method: "manual" } },
				},
				{
					id: "crypto",
					conditions: { methods: ["solana"] },
					action: { processor: "solana", settings: { required_commitment: "finalized" } },
				},
			],
		});
		expect(await preview(m.sk, { amount: 60_000 })).toMatchObject({
			processor: "stripe",
			settings: { capture_method: "manual" },
			rule_id: "big-cards",
			strategy: "first_match",
			reason: "first match: rule big-cards",
			alternatives: [{ processor: "solana", rule_id: "crypto" }],
		});
		expect(await preview(m.sk, { amount: 1_000 })).toMatchObject({
			processor: "solana",
			settings: { required_commitment: "finalized" },
			rule_id: "crypto",
		});
	});

	it("with no rules: the payment's first method decides", async () => {
		const m = await createMerchant();
		expect(await preview(m.sk, { payment_method_types: ["card", "solana"] })).toMatchObject({
			processor: "stripe",
			rule_id: null,
			strategy: "first_match",
			reason: "first match: default for the payment's methods",
		});
	});

	it("priority: matching rules in order", async () => {
		const m = await createMerchant();
		await putRules(m.sk, {
			strategy: "priority",
			rules: [
				{
					id: "review-to-stripe",
					conditions: { risk_levels: ["review"] },
					action: { processor: "stripe" },
				},
				{ id: "solana", action: { processor: "solana" } },
			],
		});
		expect(await preview(m.sk, { risk: "review" })).toMatchObject({
			processor: "stripe",
			rule_id: "review-to-stripe",
			reason: "priority: rule review-to-stripe",
		});
		expect(await preview(m.sk, { risk: "allow" })).toMatchObject({
			processor: "solana",
			rule_id: "solana",
		});
	});

	it("lowest_cost: the cheaper processor for the payment, with its estimate", async () => {
		const m = await createMerchant();
		await putRules(m.sk, { strategy: "lowest_cost" });
		// $100 from the US: Stripe 2.9% + 30¢ = 320; Solana 0.5% + 1 + 0.3% spread = 81.
		const d = await preview(m.sk, { payment_method_types: ["card", "solana"], country: "us" });
		expect(d).toMatchObject({
			processor: "solana",
			strategy: "lowest_cost",
			reason: "lowest estimated cost 81 usd (default for the payment's methods)",
			cost: { total: 81 },
			alternatives: [
				{
					processor: "stripe",
					reason: "estimated cost 320 usd (default for the payment's methods)",
				},
			],
		});
	});

	it("sees a change made by PUT at once", async () => {
		const m = await createMerchant();
		expect((await preview(m.sk)).processor).toBe("solana");
		await putRules(m.sk, { rules: [{ id: "cards-first", action: { processor: "stripe" } }] });
		expect(await preview(m.sk)).toMatchObject({ processor: "stripe", rule_id: "cards-first" });
	});

	it.each([
		[{ amount: 0 }, "amount"],
		[{ currency: "dollars" }, "currency"],
		[{ payment_method_types: ["cash"] }, "payment_method_types[0]"],
		[{ country: "USA" }, "country"],
		[{ risk: "high" }, "risk"],
		[{ colour: "red" }, "colour"],
	])("refuses %j, naming %s", async (body, param) => {
		const m = await createMerchant();
		const res = await call("POST", "/v1/routing_rules/preview", {
			key: m.sk,
			body: { amount: 100, currency: "usd", ...body },
		});
		await expectApiError(res, "parameter_invalid", param);
	});
});

describe("processor health", () => {
	const stripeHealth = () => {
		const ns = env.PROCESSOR_HEALTH;
		if (!ns) throw new Error("PROCESSOR_HEALTH is not bound");
		return ns.get(ns.idFromName("stripe"));
	};

	it("opens Stripe's circuit after 5 failures: priority falls back to Solana and says so; a success closes it", async () => {
		const m = await createMerchant();
		await putRules(m.sk, {
			strategy: "priority",
			rules: [
				{ id: "cards", action: { processor: "stripe" } },
				{ id: "crypto", action: { processor: "solana" } },
			],
		});
		expect((await preview(m.sk)).processor).toBe("stripe");

		for (let i = 0; i < 4; i++) await recordProcessorOutcome(env, "stripe", "failure");
		expect(await stripeHealth().state()).toMatchObject({ failures: 4, open: false });
		expect((await preview(m.sk)).processor).toBe("stripe");

		await recordProcessorOutcome(env, "stripe", "failure");
		const state = await stripeHealth().state();
		expect(state).toMatchObject({ failures: 5, open: true });
		expect(state.retry_at).toBe((state.opened_at ?? 0) + 30_000);
		expect(await preview(m.sk)).toMatchObject({
			processor: "solana",
			rule_id: "crypto",
			reason: "priority: rule crypto; skipped failing stripe",
			alternatives: [{ processor: "stripe", rule_id: "cards", reason: "circuit open: rule cards" }],
		});
		// first_match keeps the merchant's choice even while it fails, and says that too.
		await putRules(m.sk, { rules: [{ id: "cards", action: { processor: "stripe" } }] });
		expect(await preview(m.sk)).toMatchObject({
			processor: "stripe",
			reason: "first match: rule cards (processor currently failing)",
		});

		await recordProcessorOutcome(env, "stripe", "success");
		expect(await stripeHealth().state()).toStrictEqual({
			failures: 0,
			opened_at: null,
			open: false,
			retry_at: null,
		});
		expect((await preview(m.sk)).reason).toBe("first match: rule cards");
	});
});

describe("OpenAPI", () => {
	it("documents the routing endpoints from their schemas", async () => {
		const doc = await json<{
			paths: Record<string, Record<string, unknown>>;
			components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
		}>(await call("GET", "/v1/openapi.json"));
		expect(Object.keys(doc.paths["/v1/routing_rules"] ?? {}).sort()).toEqual(["get", "put"]);
		expect(Object.keys(doc.paths["/v1/routing_rules/preview"] ?? {})).toEqual(["post"]);
		for (const name of [
			"RoutingConfig",
			"RoutingRules",
			"RoutingPreviewRequest",
			"RoutingDecision",
		]) {
			expect(doc.components.schemas[name], name).toBeDefined();
		}
		expect(Object.keys(doc.components.schemas.RoutingConfig?.properties ?? {})).toEqual([
			"strategy",
			"rules",
		]);
	});
});
