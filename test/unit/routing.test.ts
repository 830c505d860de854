import { describe, expect, it } from "vitest";
import {
	BREAKER_DEFAULTS,
	breakerOpen,
	breakerRecord,
	estimateCost,
	type RoutingConfig,
	RoutingConfigSchema,
	type RoutingInput,
	route,
} from "../../src/domain/routing";

const config = (input: unknown): RoutingConfig => RoutingConfigSchema.parse(input);

const payment = (over: Partial<RoutingInput> = {}): RoutingInput => ({
	amount: 10_000,
	currency: "usd",
	methods: ["solana", "card"],
	country: "US",
	risk: "allow",
	...over,
});

describe("defaults with no rules", () => {
	it("takes the payment's first method's processor, the others as alternatives", () => {
		const d = route(config({}), payment());
		expect(d).toMatchObject({ processor: "solana", rule_id: null, strategy: "first_match" });
		expect(d.alternatives.map((a) => a.processor)).toEqual(["stripe"]);
		expect(route(config({}), payment({ methods: ["card"] })).processor).toBe("stripe");
	});

	it("decides nothing when no processor takes the methods", () => {
		const d = route(config({}), payment({ methods: [] }));
		expect(d.processor).toBeNull();
		expect(d.reason).toMatch(/no processor/);
	});
});

describe("rule conditions", () => {
	const rules = (conditions: Record<string, unknown>, processor = "stripe") =>
		config({ rules: [{ id: "r1", conditions, action: { processor, settings: {} } }] });

	it.each([
		[{ methods: ["card"] }, {}, true],
		[{ methods: ["solana"] }, {}, false],
		[{ currencies: ["USD"] }, {}, true],
		[{ currencies: ["eur"] }, {}, false],
		[{ amount_gte: 10_000 }, {}, true],
		[{ amount_gte: 10_001 }, {}, false],
		[{ amount_lte: 10_000 }, {}, true],
		[{ amount_lte: 9_999 }, {}, false],
		[{ countries: ["us", "CA"] }, {}, true],
		[{ countries: ["DE"] }, {}, false],
		[{ countries: ["US"] }, { country: null }, false],
		[{ not_countries: ["US"] }, {}, false],
		[{ not_countries: ["US"] }, { country: null }, true],
		[{ risk_levels: ["review"] }, { risk: "review" }, true],
		[{ risk_levels: ["review"] }, {}, false],
		[{ risk_levels: ["allow"] }, { risk: null }, false],
	] as const)("%j on %j matches: %s", (conditions, over, expected) => {
		const d = route(rules(conditions), payment(over as Partial<RoutingInput>));
		expect(d.rule_id === "r1").toBe(expected);
	});

	it("never routes to a processor whose method the payment does not accept", () => {
		const d = route(rules({}, "stripe"), payment({ methods: ["solana"] }));
		expect(d.processor).toBe("solana");
		expect(d.rule_id).toBeNull();
	});
});

describe("first_match", () => {
	it("the first matching rule decides and carries its settings", () => {
		const c = config({
			rules: [
				{
					id: "big-card",
					conditions: { methods: ["card"], amount_gte: 50_000 },
					action: { processor: "stripe", settings: { capture_method: "manual" } },
				},
				{
					id: "usd-crypto",
					conditions: { currencies: ["usd"] },
					action: {
						processor: "solana",
						settings: { required_commitment: "finalized", accepted_tokens: ["USDC"] },
					},
				},
				{ id: "cards", conditions: {}, action: { processor: "stripe", settings: {} } },
			],
		});
		const small = route(c, payment());
		expect(small).toMatchObject({
			processor: "solana",
			rule_id: "usd-crypto",
			settings: { required_commitment: "finalized", accepted_tokens: ["USDC"] },
		});
		expect(small.alternatives).toEqual([
			expect.objectContaining({ processor: "stripe", rule_id: "cards" }),
		]);
		const big = route(c, payment({ amount: 60_000 }));
		expect(big).toMatchObject({
			processor: "stripe",
			rule_id: "big-card",
			settings: { capture_method: "manual" },
		});
	});

	it("keeps the merchant's choice when that processor is failing, and says so", () => {
		const d = route(config({}), payment({ unavailable: ["solana"] }));
		expect(d.processor).toBe("solana");
		expect(d.reason).toMatch(/failing/);
	});
});

describe("priority with fallback", () => {
	const c = config({
		strategy: "priority",
		rules: [
			{ id: "prefer-card", conditions: {}, action: { processor: "stripe", settings: {} } },
			{ id: "then-crypto", conditions: {}, action: { processor: "solana", settings: {} } },
		],
	});

	it("takes the first healthy processor in rule order", () => {
		expect(route(c, payment()).processor).toBe("stripe");
	});

	it("falls back when a processor's circuit is open", () => {
		const d = route(c, payment({ unavailable: ["stripe"] }));
		expect(d).toMatchObject({ processor: "solana", rule_id: "then-crypto" });
		expect(d.reason).toMatch(/skipped failing stripe/);
		expect(d.alternatives).toEqual([
			expect.objectContaining({
				processor: "stripe",
				reason: expect.stringMatching(/circuit open/),
			}),
		]);
	});

	it("decides nothing when every processor is down", () => {
		const d = route(c, payment({ unavailable: ["stripe", "solana"] }));
		expect(d.processor).toBeNull();
		expect(d.alternatives).toHaveLength(2);
	});
});

describe("lowest_cost", () => {
	const c = config({ strategy: "lowest_cost" });

	it("picks the cheapest processor and shows the estimates", () => {
		const d = route(c, payment({ methods: ["card", "solana"] }));
		expect(d.processor).toBe("solana");
		expect(d.cost).toEqual({ processor_fee: 50, network_fee: 1, conversion_spread: 30, total: 81 });
		expect(d.alternatives[0]).toMatchObject({ processor: "stripe", cost: { total: 320 } });
	});

	it("includes cross-border card fees", () => {
		expect(estimateCost("stripe", payment({ country: "DE" })).total).toBe(470);
		expect(estimateCost("stripe", payment({ country: null })).total).toBe(320);
	});

	it("breaks ties by rule order", () => {
		const model = {
			stripe: { bps: 0, fixed: { usd: 0 }, cross_border_bps: 0, home_country: "US" },
			solana: { bps: 0, network_fee: { usd: 0 }, conversion_spread_bps: 0 },
		};
		const d = route(
			config({ strategy: "lowest_cost" }),
			payment({ methods: ["card", "solana"], costModel: model }),
		);
		expect(d.processor).toBe("stripe");
	});

	it("skips a failing processor even when it is cheaper", () => {
		const d = route(c, payment({ unavailable: ["solana"] }));
		expect(d.processor).toBe("stripe");
	});
});

describe("rule validation", () => {
	it("refuses bad rules with a path to the problem", () => {
		const bad = (input: unknown) => RoutingConfigSchema.safeParse(input);
		expect(bad({ rules: [{ id: "x", action: { processor: "paypal" } }] }).success).toBe(false);
		expect(
			bad({
				rules: [
					{
						id: "x",
						conditions: { amount_gte: 5, amount_lte: 1 },
						action: { processor: "stripe" },
					},
				],
			}).success,
		).toBe(false);
		expect(
			bad({
				rules: [
					{
						id: "x",
						action: { processor: "stripe", settings: { required_commitment: "finalized" } },
					},
				],
			}).success,
		).toBe(false);
		expect(
			bad({
				rules: [
					{ id: "a", action: { processor: "stripe" } },
					{ id: "a", action: { processor: "solana" } },
				],
			}).success,
		).toBe(false);
		expect(
			bad({ rules: [{ id: "x", conditions: { colour: "red" }, action: { processor: "stripe" } }] })
				.success,
		).toBe(false);
		expect(bad({ strategy: "random" }).success).toBe(false);
	});
});

describe("circuit breaker", () => {
	const opts = BREAKER_DEFAULTS;
	it("opens after consecutive failures, half-opens after the cool-down, closes on success", () => {
		let s = { failures: 0, opened_at: null as number | null };
		for (let i = 0; i < opts.threshold - 1; i++) s = breakerRecord(s, "failure", 1000);
		expect(breakerOpen(s, 1000)).toBe(false);
		s = breakerRecord(s, "failure", 1000);
		expect(breakerOpen(s, 1000)).toBe(true);
		expect(breakerOpen(s, 1000 + opts.cooldownMs)).toBe(false);
		// The trial after the cool-down fails: open again from now.
		s = breakerRecord(s, "failure", 1000 + opts.cooldownMs);
		expect(breakerOpen(s, 1000 + opts.cooldownMs + 1)).toBe(true);
		s = breakerRecord(s, "success", 1000 + 2 * opts.cooldownMs);
		expect(s).toEqual({ failures: 0, opened_at: null });
	});

	it("a success in between resets the count", () => {
		let s = { failures: 0, opened_at: null as number | null };
		for (let i = 0; i < 10; i++) s = breakerRecord(s, i % 2 ? "success" : "failure", 0);
		expect(breakerOpen(s, 0)).toBe(false);
	});
});
