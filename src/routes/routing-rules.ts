import { z } from "@hono/zod-openapi";
import { PROCESSORS, RISK_LEVELS, RoutingConfigSchema, RoutingRuleSchema } from "../domain/routing";
import { auditApiChange } from "../services/audit";
import {
	decideRouting,
	getRoutingRules,
	replaceRoutingRules,
	toApiRoutingRules,
} from "../services/routing";
import type { App } from "../types";
import { apiRoute, jsonBody, jsonResponse, requireJsonPut } from "./define";
import { CreatePaymentBody } from "./payments";
import { AmountSchema, CurrencySchema, errorResponses, IdempotencyHeaderSchema } from "./schemas";

const RoutingConfigBody = RoutingConfigSchema.openapi("RoutingConfig", {
	description:
		"The whole routing configuration; it replaces the current one. Omitted fields take their defaults (first_match, no rules).",
});

const RoutingRulesSchema = z
	.object({
		object: z.literal("routing_rules"),
		livemode: z.boolean(),
		strategy: z.enum(["first_match", "priority", "lowest_cost"]),
		rules: z.array(RoutingRuleSchema).openapi({
			description: "The rules, in order, as last set (currencies lowercase, countries uppercase).",
		}),
		updated: z.number().int().nullable().openapi({
			description: "Unix seconds of the last change; null while the defaults apply.",
		}),
	})
	.openapi("RoutingRules");

const PreviewBody = z
	.object({
		amount: AmountSchema,
		currency: CurrencySchema,
		payment_method_types: CreatePaymentBody.shape.payment_method_types,
		country: z
			.string()
			.regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
			.optional()
			.openapi({ description: "The payer's country, when known.", example: "US" }),
		risk: z.enum(RISK_LEVELS).optional(),
	})
	.strict()
	.openapi("RoutingPreviewRequest");

const CostSchema = z.object({
	processor_fee: z.number().int(),
	network_fee: z.number().int(),
	conversion_spread: z.number().int(),
	total: z.number().int(),
});

const RoutingDecisionSchema = z
	.object({
		processor: z.enum(PROCESSORS).nullable(),
		settings: z.record(z.string(), z.unknown()),
		rule_id: z.string().nullable(),
		strategy: z.enum(["first_match", "priority", "lowest_cost"]),
		reason: z.string(),
		cost: CostSchema.optional(),
		alternatives: z.array(
			z.object({
				processor: z.enum(PROCESSORS),
				rule_id: z.string().nullable(),
				reason: z.string(),
				cost: CostSchema.optional(),
			}),
		),
	})
	.openapi("RoutingDecision");

const tags = ["Routing"];
const rulesResponse = (description: string) => ({
	description,
	content: { "application/json": { schema: RoutingRulesSchema } },
});

const retrieveRules = apiRoute({
	method: "get",
	path: "/v1/routing_rules",
	tags,
	summary: "Retrieve the routing rules of this mode",
	responses: { 200: rulesResponse("The routing rules"), ...errorResponses(401) },
});

const replaceRules = apiRoute({
	method: "put",
	path: "/v1/routing_rules",
	tags,
	summary: "Replace the routing rules of this mode",
	request: {
		body: jsonBody(RoutingConfigBody),
	},
	responses: { 200: rulesResponse("The new routing rules"), ...errorResponses(400, 401) },
});

const previewRouting = apiRoute({
	method: "post",
	path: "/v1/routing_rules/preview",
	tags,
	summary: "Show which processor the current rules would pick for a payment",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(PreviewBody),
	},
	responses: {
		200: jsonResponse(
			"The decision a payment with these facts would get now",
			RoutingDecisionSchema,
		),
		...errorResponses(400, 401, 409, 422),
	},
});

/** Routing rules per merchant and mode, and a preview of their decision for a payment. */
export function registerRoutingRules(app: App): void {
	requireJsonPut(app, "/v1/routing_rules");

	app.openapi(retrieveRules, async (c) => {
		const auth = c.get("auth");
		const record = await getRoutingRules(c.env.DB, auth);
		return c.json(toApiRoutingRules(record, auth.livemode), 200);
	});

	app.openapi(replaceRules, async (c) => {
		const auth = c.get("auth");
		const record = await replaceRoutingRules(c.env.DB, auth, c.req.valid("json"));
		const rules = toApiRoutingRules(record, auth.livemode);
		await auditApiChange(c.env, auth, "routing_rules.updated", null, {
			strategy: rules.strategy,
			rules: rules.rules,
		});
		return c.json(rules, 200);
	});

	app.openapi(previewRouting, async (c) => {
		const auth = c.get("auth");
		const body = c.req.valid("json");
		const decision = await decideRouting(c.env, {
			merchantId: auth.merchantId,
			livemode: auth.livemode,
			amount: body.amount,
			currency: body.currency,
			methods: body.payment_method_types,
			country: body.country ?? null,
			risk: body.risk ?? null,
		});
		return c.json(decision, 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type RoutingDecisionResponse = z.infer<typeof RoutingDecisionSchema>;
