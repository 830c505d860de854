import { z } from "@hono/zod-openapi";
import { toApiPayment } from "../domain/payment";
import { RiskConfigSchema, RiskRuleSchema } from "../domain/risk";
import { audit } from "../services/audit";
import { loadPayment, paymentStub, unwrapTransition } from "../services/payments";
import { getRiskRules, replaceRiskRules, toApiRiskRules } from "../services/risk";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse, requireJsonPut } from "./define";
import { errorResponses, IdempotencyHeaderSchema, PaymentSchema } from "./schemas";

const RiskConfigBody = RiskConfigSchema.openapi("RiskConfig", {
	description:
		"The whole risk configuration; it replaces the current one. Omitted fields take their defaults (review_at 50, block_at 90, no rules).",
});

const RiskRulesSchema = z
	.object({
		object: z.literal("risk_rules"),
		livemode: z.boolean(),
		review_at: z.number().int(),
		block_at: z.number().int(),
		rules: z.array(RiskRuleSchema),
		updated: z.number().int().nullable().openapi({
			description: "Unix seconds of the last change; null while the defaults apply.",
		}),
	})
	.openapi("RiskRules");

const rulesResponse = (description: string) => ({
	description,
	content: { "application/json": { schema: RiskRulesSchema } },
});

const retrieveRules = apiRoute({
	method: "get",
	path: "/v1/risk_rules",
	tags: ["Risk"],
	summary: "Retrieve the fraud and validation rules of this mode",
	responses: { 200: rulesResponse("The risk rules"), ...errorResponses(401) },
});

const replaceRules = apiRoute({
	method: "put",
	path: "/v1/risk_rules",
	tags: ["Risk"],
	summary: "Replace the fraud and validation rules of this mode",
	request: {
		body: jsonBody(RiskConfigBody),
	},
	responses: { 200: rulesResponse("The new risk rules"), ...errorResponses(400, 401) },
});

const PaymentIdParam = idParam("pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const reviewRoute = (verb: "approve" | "reject", summary: string) =>
	apiRoute({
		method: "post",
		path: `/v1/payments/{id}/${verb}`,
		tags: ["Payments"],
		summary,
		request: { params: PaymentIdParam, headers: IdempotencyHeaderSchema },
		responses: {
			200: jsonResponse("The payment after the decision", PaymentSchema),
			...errorResponses(401, 404, 409, 422),
		},
	});

const approvePayment = reviewRoute(
	"approve",
	"Approve a payment under review: it succeeds and its funds are settled",
);
const rejectPayment = reviewRoute(
	"reject",
	"Reject a payment under review: it fails and its funds are held for refund",
);

/** Fraud and validation rules per merchant and mode, and decisions on payments under review. */
export function registerRiskRules(app: App): void {
	requireJsonPut(app, "/v1/risk_rules");

	app.openapi(retrieveRules, async (c) => {
		const auth = c.get("auth");
		return c.json(toApiRiskRules(await getRiskRules(c.env.DB, auth), auth.livemode), 200);
	});

	app.openapi(replaceRules, async (c) => {
		const auth = c.get("auth");
		const record = await replaceRiskRules(c.env, auth, c.req.valid("json"));
		const rules = toApiRiskRules(record, auth.livemode);
		await audit(c.env, {
			merchant_id: auth.merchantId,
			livemode: auth.livemode,
			action: "risk_rules.updated",
			actor: { type: "api_key", id: auth.keyId },
			object_id: null,
			details: { review_at: rules.review_at, block_at: rules.block_at, rules: rules.rules },
		});
		return c.json(rules, 200);
	});

	for (const [route, verb] of [
		[approvePayment, "approve"],
		[rejectPayment, "reject"],
	] as const) {
		app.openapi(route, async (c) => {
			const { id } = c.req.valid("param");
			const auth = c.get("auth");
			await loadPayment(c.env, auth, id);
			const stub = paymentStub(c.env, id);
			const result = verb === "approve" ? await stub.approveReview() : await stub.rejectReview();
			const payment = unwrapTransition(result, id);
			await audit(c.env, {
				merchant_id: auth.merchantId,
				livemode: auth.livemode,
				action: verb === "approve" ? "payment.approved" : "payment.rejected",
				actor: { type: "api_key", id: auth.keyId },
				object_id: id,
				details: { status: payment.status, risk: payment.risk ?? null },
			});
			return c.json(toApiPayment(payment), 200);
		});
	}
}
