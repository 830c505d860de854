import fc from "fast-check";
import { describe, expect, it } from "vitest";
import sanctionedList from "../../data/sanctioned-addresses.json";
import {
	assessRisk,
	cidrContains,
	parseCidr,
	parseIp,
	type RiskConfig,
	RiskConfigSchema,
	type RiskInput,
	SANCTIONS_RULE,
	velocityKeys,
} from "../../src/domain/risk";

const WALLET = "CeUCzXnJhiGcAYo2kpsHSDuSdhotPpCiFzUVQP16dn4M";
const OTHER_WALLET = "8NBa7EdPFHxwkJLLgdxJdNTDbYjrTGAaAFQMQqaQNTAY";

function input(over: Partial<RiskInput> = {}): RiskInput {
	return {
		amount: 2500,
		currency: "usd",
		customer: null,
		email: null,
		ip: null,
		country: null,
		wallet: null,
		card_fingerprint: null,
		velocity: {},
		wallet_first_seen: null,
		sanctioned: new Set(),
		...over,
	};
}

function config(rules: unknown[], extra: Record<string, unknown> = {}): RiskConfig {
	return RiskConfigSchema.parse({ rules, ...extra });
}

describe("risk rules: validation", () => {
	it("fills defaults and normalises currencies", () => {
		const c = config([{ id: "big", kind: "amount", currency: "USD", max: 100 }]);
		expect(c).toEqual({
			review_at: 50,
			block_at: 90,
			rules: [{ id: "big", kind: "amount", currency: "usd", max: 100, action: "block" }],
		});
	});

	it.each([
		[{ rules: [{ id: "a", kind: "amount" }] }, "an amount rule needs min or max"],
		[{ rules: [{ id: "a", kind: "amount", min: 10, max: 5 }] }, "min must not exceed max"],
		[
			{ rules: [{ id: "a", kind: "block_list", field: "ip", values: ["10.0.0.0/33"] }] },
			"must be an IPv4 or IPv6 address or CIDR range",
		],
		[
			{ rules: [{ id: "a", kind: "block_list", field: "wallet", values: ["0xabc"] }] },
			"must be a Solana address",
		],
		[
			{ rules: [{ id: "a", kind: "allow_list", field: "country", values: ["USA"] }] },
			"must be an ISO 3166-1 alpha-2 code",
		],
		[
			{
				rules: [
					{ id: "a", kind: "amount", max: 1 },
					{ id: "a", kind: "amount", max: 2 },
				],
			},
			"rule ids must be unique",
		],
		[{ review_at: 95, block_at: 90 }, "review_at must not exceed block_at"],
		[
			{ rules: [{ id: "v", kind: "velocity", key: "ip", window_seconds: 10, max: 1 }] },
			"Too small",
		],
		[{ rules: [{ id: "x", kind: "unknown" }] }, "Invalid input"],
	])("refuses %j", (body, message) => {
		const result = RiskConfigSchema.safeParse(body);
		expect(result.success).toBe(false);
		expect(JSON.stringify(result.error?.issues)).toContain(message);
	});
});

describe("risk rules: each kind", () => {
	it("allows a payment no rule touches, with score 0 and no reasons", () => {
		expect(assessRisk(config([]), input())).toEqual({ score: 0, decision: "allow", reasons: [] });
	});

	it("velocity: fires once the count in the window passes max, per key", () => {
		const c = config([
			{ id: "ip5", kind: "velocity", key: "ip", window_seconds: 3600, max: 5, action: "review" },
		]);
		expect(assessRisk(c, input({ velocity: { ip5: 5 } })).decision).toBe("allow");
		expect(assessRisk(c, input({ velocity: { ip5: 6 } }))).toEqual({
			score: 50,
			decision: "review",
			reasons: [{ rule: "ip5", detail: "6 payments by this ip in 3600 s (limit 5)" }],
		});
	});

	it("velocity: counts by the subject it names, and skips payments without one", () => {
		const c = config([
			{ id: "c", kind: "velocity", key: "customer", window_seconds: 60, max: 1 },
			{ id: "e", kind: "velocity", key: "email", window_seconds: 120, max: 1 },
			{ id: "i", kind: "velocity", key: "ip", window_seconds: 60, max: 1 },
			{ id: "w", kind: "velocity", key: "wallet", window_seconds: 60, max: 1 },
			{ id: "f", kind: "velocity", key: "card_fingerprint", window_seconds: 60, max: 1 },
		]);
		expect(
			velocityKeys(c, {
				customer: "cus_1",
				email: " A@Example.com ",
				ip: "::ffff:192.0.2.1",
				country: null,
				wallet: null,
				card_fingerprint: "fp_1",
			}),
		).toEqual([
			{ rule: "c", key: "customer:cus_1", window_seconds: 60 },
			{ rule: "e", key: "email:a@example.com", window_seconds: 120 },
			{ rule: "i", key: "ip:4:c0000201", window_seconds: 60 },
			{ rule: "f", key: "card_fingerprint:fp_1", window_seconds: 60 },
		]);
	});

	it("amount: fires above max or below min, in its currency only", () => {
		const c = config([
			{ id: "cap", kind: "amount", currency: "usd", max: 10_000 },
			{ id: "tiny", kind: "amount", min: 100, action: "review" },
		]);
		expect(assessRisk(c, input({ amount: 10_000 })).decision).toBe("allow");
		expect(assessRisk(c, input({ amount: 10_001 })).reasons).toEqual([
			{ rule: "cap", detail: "amount 10001 usd is above 10000" },
		]);
		expect(assessRisk(c, input({ amount: 10_001, currency: "eur" })).decision).toBe("allow");
		expect(assessRisk(c, input({ amount: 50 })).decision).toBe("review");
	});

	it("block lists: wallets, emails and email domains, IPs and CIDR ranges, countries", () => {
		const c = config([
			{ id: "w", kind: "block_list", field: "wallet", values: [WALLET] },
			{ id: "e", kind: "block_list", field: "email", values: ["bad@x.com", "spam.example"] },
			{
				id: "i",
				kind: "block_list",
				field: "ip",
				values: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
			},
			{ id: "c", kind: "block_list", field: "country", values: ["kp"], action: "review" },
		]);
		const decide = (over: Partial<RiskInput>) => assessRisk(c, input(over)).decision;
		expect(decide({ wallet: WALLET })).toBe("block");
		expect(decide({ wallet: OTHER_WALLET })).toBe("allow");
		expect(decide({ email: "Bad@X.com" })).toBe("block");
		expect(decide({ email: "someone@spam.example" })).toBe("block");
		expect(decide({ email: "someone@notspam.example" })).toBe("allow");
		expect(decide({ ip: "203.0.113.250" })).toBe("block");
		expect(decide({ ip: "203.0.114.1" })).toBe("allow");
		expect(decide({ ip: "2001:db8:1::5" })).toBe("block");
		expect(decide({ ip: "2001:db9::5" })).toBe("allow");
		expect(decide({ ip: "::ffff:198.51.100.7" })).toBe("block");
		expect(decide({ country: "KP" })).toBe("review");
		expect(assessRisk(c, input({ ip: "203.0.113.9" })).reasons).toEqual([
			{ rule: "i", detail: "ip 203.0.113.9 is on the block list" },
		]);
	});

	it("allow lists exempt from velocity, amount and first-seen, never from block lists", () => {
		const c = config([
			{ id: "ok", kind: "allow_list", field: "email", values: ["vip@shop.example"] },
			{ id: "cap", kind: "amount", max: 100 },
			{ id: "v", kind: "velocity", key: "email", window_seconds: 60, max: 1 },
			{ id: "new", kind: "first_seen_wallet", action: "review" },
			{ id: "b", kind: "block_list", field: "country", values: ["RU"] },
		]);
		const vip = { email: "vip@shop.example", wallet: WALLET, wallet_first_seen: true };
		expect(assessRisk(c, input({ ...vip, amount: 500, velocity: { v: 9 } })).decision).toBe(
			"allow",
		);
		expect(assessRisk(c, input({ ...vip, country: "RU" })).decision).toBe("block");
		expect(assessRisk(c, input({ email: "x@y.example", amount: 500 })).decision).toBe("block");
	});

	it("first-seen wallet: a wallet new to the merchant adds its score", () => {
		const c = config([{ id: "new", kind: "first_seen_wallet" }]);
		expect(assessRisk(c, input({ wallet: WALLET, wallet_first_seen: true }))).toEqual({
			score: 25,
			decision: "allow",
			reasons: [{ rule: "new", detail: `wallet ${WALLET} has never paid this merchant before` }],
		});
		expect(assessRisk(c, input({ wallet: WALLET, wallet_first_seen: false })).score).toBe(0);
		const strict = config([{ id: "new", kind: "first_seen_wallet", action: "review" }]);
		expect(assessRisk(strict, input({ wallet: WALLET, wallet_first_seen: true })).decision).toBe(
			"review",
		);
	});

	it("sanctions: a listed wallet is blocked, even when allow-listed", () => {
		const c = config([{ id: "ok", kind: "allow_list", field: "wallet", values: [WALLET] }]);
		const sanctioned = new Set(sanctionedList.addresses);
		expect(assessRisk(c, input({ wallet: WALLET, sanctioned }))).toEqual({
			score: 100,
			decision: "block",
			reasons: [{ rule: SANCTIONS_RULE, detail: `wallet ${WALLET} is on the sanctions list` }],
		});
	});

	it("scores add up to the thresholds and cap at 100", () => {
		const c = config(
			[
				{ id: "a", kind: "amount", max: 10, action: "score", score: 30 },
				{
					id: "b",
					kind: "block_list",
					field: "country",
					values: ["FR"],
					action: "score",
					score: 30,
				},
				{ id: "n", kind: "first_seen_wallet", score: 60 },
			],
			{ review_at: 40, block_at: 80 },
		);
		expect(assessRisk(c, input({ amount: 20 })).decision).toBe("allow");
		expect(assessRisk(c, input({ amount: 20, country: "FR" }))).toMatchObject({
			score: 60,
			decision: "review",
		});
		expect(
			assessRisk(c, input({ amount: 20, country: "FR", wallet: WALLET, wallet_first_seen: true })),
		).toMatchObject({ score: 100, decision: "block" });
	});
});

describe("IP parsing", () => {
	it.each([
		["10.0.0.0/8", "10.255.1.2", true],
		["10.0.0.0/8", "11.0.0.1", false],
		["0.0.0.0/0", "8.8.8.8", true],
		["::/0", "2001:db8::1", true],
		["::1", "::1", true],
		["fe80::/10", "febf::1", true],
		["fe80::/10", "fec0::1", false],
		["192.0.2.1", "::ffff:c000:201", true],
		["10.0.0.0/8", "::a00:1", false],
	])("%s contains %s: %s", (range, ip, expected) => {
		const r = parseCidr(range);
		const p = parseIp(ip);
		expect(r && p && cidrContains(r, p)).toBe(expected);
	});

	it.each(["", "1.2.3", "256.1.1.1", "1.2.3.4/", "1::2::3", "1:2:3:4:5:6:7:8:9", "x::1"])(
		"refuses %j",
		(s) => {
			expect(parseCidr(s)).toBeNull();
		},
	);
});

describe("risk rules: properties", () => {
	const decisionRank = { allow: 0, review: 1, block: 2 } as const;
	const fields = ["wallet", "email", "ip", "country"] as const;
	const inputArb = fc.record({
		amount: fc.integer({ min: 0, max: 1_000_000 }),
		currency: fc.constantFrom("usd", "eur"),
		customer: fc.option(fc.constantFrom("cus_a", "cus_b"), { nil: null }),
		email: fc.option(fc.constantFrom("a@x.example", "b@y.example"), { nil: null }),
		ip: fc.option(fc.constantFrom("10.1.2.3", "2001:db8::7", "192.0.2.9"), { nil: null }),
		country: fc.option(fc.constantFrom("US", "FR", "KP"), { nil: null }),
		wallet: fc.option(fc.constantFrom(WALLET, OTHER_WALLET), { nil: null }),
		card_fingerprint: fc.constant(null),
		velocity: fc.dictionary(fc.constantFrom("v1", "v2"), fc.integer({ min: 1, max: 20 })),
		wallet_first_seen: fc.option(fc.boolean(), { nil: null }),
		sanctioned: fc.constant(new Set<string>()),
	});
	const values: Record<(typeof fields)[number], string[]> = {
		wallet: [WALLET, OTHER_WALLET],
		email: ["a@x.example", "y.example"],
		ip: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.9"],
		country: ["US", "FR", "KP"],
	};
	const listArb = (kind: "block_list" | "allow_list") =>
		fc
			.constantFrom(...fields)
			.chain((field) =>
				fc
					.subarray(values[field], { minLength: 1 })
					.map((v) => ({ kind, field, values: v }) as Record<string, unknown>),
			);
	const ruleArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
		fc.record({
			kind: fc.constant("velocity"),
			key: fc.constantFrom("customer", "email", "ip", "wallet"),
			window_seconds: fc.constant(60),
			max: fc.integer({ min: 1, max: 10 }),
			action: fc.constantFrom("review", "block", "score"),
		}),
		fc.record({
			kind: fc.constant("amount"),
			max: fc.integer({ min: 0, max: 1_000_000 }),
			action: fc.constantFrom("review", "block", "score"),
		}),
		listArb("block_list").map((r) => ({ ...r, action: "review" })),
		listArb("allow_list"),
		fc.record({
			kind: fc.constant("first_seen_wallet"),
			action: fc.constantFrom("review", "score"),
		}),
	);
	const rulesArb = fc
		.array(ruleArb, { maxLength: 8 })
		.map((rs) =>
			rs.map((r, i) => ({ ...r, id: i < 2 && r.kind === "velocity" ? `v${i + 1}` : `r${i}` })),
		);

	it("adding a block rule never lowers the decision or the score", () => {
		fc.assert(
			fc.property(rulesArb, listArb("block_list"), inputArb, (rules, block, facts) => {
				const before = assessRisk(config(rules), facts);
				const after = assessRisk(config([...rules, { ...block, id: "added" }]), facts);
				expect(decisionRank[after.decision]).toBeGreaterThanOrEqual(decisionRank[before.decision]);
				expect(after.score).toBeGreaterThanOrEqual(before.score);
			}),
		);
	});

	it("the score stays within 0–100, every reason names a rule, and allow means no block floor", () => {
		fc.assert(
			fc.property(rulesArb, inputArb, (rules, facts) => {
				const c = config(rules);
				const r = assessRisk(c, facts);
				expect(r.score).toBeGreaterThanOrEqual(0);
				expect(r.score).toBeLessThanOrEqual(100);
				const ids = new Set([...c.rules.map((x) => x.id), SANCTIONS_RULE]);
				for (const reason of r.reasons) expect(ids.has(reason.rule)).toBe(true);
				if (r.reasons.length === 0) expect(r).toEqual({ score: 0, decision: "allow", reasons: [] });
			}),
		);
	});

	it("a sanctioned wallet is always blocked, whatever the rules", () => {
		fc.assert(
			fc.property(rulesArb, inputArb, (rules, facts) => {
				const r = assessRisk(config(rules), {
					...facts,
					wallet: WALLET,
					sanctioned: new Set([WALLET]),
				});
				expect(r.decision).toBe("block");
			}),
		);
	});

	it("rules are data: a config survives a JSON round trip unchanged", () => {
		fc.assert(
			fc.property(rulesArb, (rules) => {
				const c = config(rules);
				expect(RiskConfigSchema.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
			}),
		);
	});
});
