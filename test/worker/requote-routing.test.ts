import { describe, expect, it } from "vitest";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails | null };

const USDC_FINALIZED = {
	id: "usdc-final",
	conditions: { methods: ["solana"] },
	action: {
		processor: "solana",
		settings: { required_commitment: "finalized", accepted_tokens: ["USDC"] },
	},
};

async function merchantWithRules(rules: unknown[]) {
	const m = await createMerchant();
	const res = await call("PUT", "/v1/routing_rules", { key: m.sk, body: { rules } });
	if (res.status !== 200) throw new Error(`PUT rules failed: ${res.status} ${await res.text()}`);
	return m;
}

function requote(key: string, id: string, token: string) {
	return call("POST", `/v1/payments/${id}/quote`, { key, body: { token } });
}

async function retrieve(key: string, id: string): Promise<SolanaPayment> {
	const res = await call("GET", `/v1/payments/${id}`, { key });
	expect(res.status).toBe(200);
	return json<SolanaPayment>(res);
}

/** What the payment's page hands its script. */
async function bootstrap(
	id: string,
): Promise<{ checkout_token: string; tokens: { symbol: string }[] }> {
	const html = await (await call("GET", `/checkout/${id}`)).text();
	const match = /<script type="application\/json" id="checkout-data">([^<]*)<\/script>/.exec(html);
	if (!match?.[1]) throw new Error("no checkout bootstrap");
	return JSON.parse(match[1]);
}

/** The signed checkout token the payment's page hands its script. */
async function checkoutToken(id: string): Promise<string> {
	return (await bootstrap(id)).checkout_token;
}

async function expectRuleRefusal(res: Response, param: string) {
	const error = await expectApiError(res, "parameter_invalid", param);
	expect(error.message).toContain("routing rule 'usdc-final'");
	expect(error.message).toContain("accepts only USDC");
}

describe("re-quotes follow the payment's routing decision", () => {
	it("creation: the rule's token and its finalized commitment (stricter than the amount's)", async () => {
		const m = await merchantWithRules([USDC_FINALIZED]);
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		})) as SolanaPayment;
		// $25 is under the finality threshold: only the rule asks for finalized.
		expect(p.solana?.required_commitment).toBe("finalized");
		const refused = await call("POST", "/v1/payments", {
			key: m.sk,
			body: {
				amount: 2500,
				currency: "usd",
				payment_method_types: ["solana"],
				solana: { token: "SOL" },
			},
		});
		await expectRuleRefusal(refused, "solana[token]");
	});

	it("publishable key: SOL is refused naming the rule; USDC keeps finalized", async () => {
		const m = await merchantWithRules([USDC_FINALIZED]);
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		})) as SolanaPayment;
		await expectRuleRefusal(await requote(m.pk, p.id, "SOL"), "token");
		// The refusal changed nothing.
		expect((await retrieve(m.sk, p.id)).solana?.reference).toBe(p.solana?.reference);

		const res = await requote(m.pk, p.id, "USDC");
		expect(res.status).toBe(200);
		const after = await retrieve(m.sk, p.id);
		expect(after.solana?.token).toBe("USDC");
		expect(after.solana?.reference).not.toBe(p.solana?.reference);
		expect(after.solana?.required_commitment).toBe("finalized");
	});

	it("secret key and checkout token: the same rule", async () => {
		const m = await merchantWithRules([USDC_FINALIZED]);
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		})) as SolanaPayment;
		await expectRuleRefusal(await requote(m.sk, p.id, "SOL"), "token");
		const bySecret = await requote(m.sk, p.id, "USDC");
		expect(bySecret.status).toBe(200);
		expect((await json<SolanaPayment>(bySecret)).solana?.required_commitment).toBe("finalized");

		// The page offers only what a re-quote accepts.
		expect((await bootstrap(p.id)).tokens.map((t) => t.symbol)).toEqual(["USDC"]);
		const token = await checkoutToken(p.id);
		await expectRuleRefusal(await requote(token, p.id, "SOL"), "token");
		expect((await requote(token, p.id, "USDC")).status).toBe(200);
		expect((await retrieve(m.sk, p.id)).solana?.required_commitment).toBe("finalized");
	});

	it("a payment created without a token follows the rule when first quoted", async () => {
		const m = await merchantWithRules([USDC_FINALIZED]);
		const p = (await createPayment(m.sk, { payment_method_types: ["solana"] })) as SolanaPayment;
		expect(p.solana).toBeNull();
		await expectRuleRefusal(await requote(m.pk, p.id, "SOL"), "token");
		expect((await retrieve(m.sk, p.id)).solana).toBeNull();
		const res = await requote(m.pk, p.id, "USDC");
		expect(res.status).toBe(200);
		const after = await retrieve(m.sk, p.id);
		expect(after.solana?.token).toBe("USDC");
		expect(after.solana?.required_commitment).toBe("finalized");
	});

	it("a rule's 'confirmed' never weakens the amount's finalized, at creation or re-quote", async () => {
		const m = await merchantWithRules([
			{
				id: "fast",
				action: { processor: "solana", settings: { required_commitment: "confirmed" } },
			},
		]);
		// $200 is over the default threshold (10000 minor units).
		const p = (await createPayment(m.sk, {
			amount: 20_000,
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		})) as SolanaPayment;
		expect(p.solana?.required_commitment).toBe("finalized");
		expect((await requote(m.pk, p.id, "USDC")).status).toBe(200);
		expect((await retrieve(m.sk, p.id)).solana?.required_commitment).toBe("finalized");
	});

	it("routed to Stripe: the Solana side is quoted under the merchant's settings, as at creation", async () => {
		const m = await merchantWithRules([
			{ id: "cards", action: { processor: "stripe" } },
			USDC_FINALIZED,
		]);
		const p = (await createPayment(m.sk, {
			payment_method_types: ["card", "solana"],
			solana: { token: "SOL" },
		})) as SolanaPayment & { routing: { processor: string } };
		expect(p.routing.processor).toBe("stripe");
		expect(p.solana?.required_commitment).toBe("confirmed");
		expect((await requote(m.pk, p.id, "SOL")).status).toBe(200);
		expect((await retrieve(m.sk, p.id)).solana).toMatchObject({
			token: "SOL",
			required_commitment: "confirmed",
		});
	});
});
