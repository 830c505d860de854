import { z } from "@hono/zod-openapi";
import type { MerchantSettings } from "../domain/merchant-settings";
import { isSupportedCurrency } from "../domain/money";
import { PAYOUT_INTERVALS, WEEKDAYS } from "../domain/payout-schedule";
import { ApiError, notFound } from "../lib/errors";
import { auditApiChange } from "../services/audit";
import { getMerchant, updateMerchant } from "../services/merchants";
import { applyPayoutSettings, payoutSettingsJson } from "../services/payout-settings";
import { tokenCatalog } from "../services/tokens";
import type { App } from "../types";
import { apiRoute, jsonBody, jsonResponse } from "./define";
import { errorResponses, IdempotencyHeaderSchema } from "./schemas";

const SettlementCurrencySchema = z
	.string()
	.refine((v) => isSupportedCurrency(v) || /^[A-Z][A-Z0-9]{1,9}$/.test(v), {
		message: "must be a lowercase ISO 4217 code such as 'usd' or a token symbol such as 'USDC'",
	})
	.openapi({
		description:
			"What received crypto is converted into: a currency ('usd') or a token ('USDC'). Unset: kept as received.",
		example: "usd",
	});

const EXTRA_FUNDS = ["refund", "hold"] as const;

/** The conversion settings, shared by the admin API's merchant settings and `/v1/settings`. */
export const ConversionSettingsShape = {
	settlement_currency: SettlementCurrencySchema.optional(),
	conversion_rate_policy: z.enum(["locked", "current"]).optional().openapi({
		description:
			"locked (default): the quote's rate at payment time; current: the rate when the conversion runs.",
	}),
	card_presentment: z.enum(["price_currency", "payer_currency"]).optional().openapi({
		description:
			"payer_currency: cross-border cards are charged in the payer's currency at the current rate plus the spread.",
	}),
};

const PayoutScheduleSchema = z
	.object({
		interval: z.enum(PAYOUT_INTERVALS),
		weekly_anchor: z.enum(WEEKDAYS).optional().openapi({
			description: "The weekday (UTC) of a weekly schedule; Monday when not given.",
		}),
	})
	.strict()
	.openapi("PayoutSchedule", {
		description:
			"`manual` (default): only payouts you request. `daily` or `weekly`: the cron after midnight UTC pays out each available balance to your default destination of its kind (a wallet for tokens, a Stripe account for fiat).",
	});

const PayoutMinimumsSchema = z.record(z.string(), z.union([z.string(), z.number().int()])).openapi({
	description:
		"The least an automatic payout sends, per currency (a fiat code, a token symbol or mint): minor units for fiat, base units (a decimal string) for tokens. Replaces the previous minimums; `null` removes them.",
	example: { usd: "5000", sol: "100000000" },
});

const SettingsSchema = z
	.object({
		object: z.literal("settings"),
		settlement_currency: z.string().nullable(),
		conversion_rate_policy: z.enum(["locked", "current"]),
		card_presentment: z.enum(["price_currency", "payer_currency"]),
		accepted_tokens: z.array(z.string()).nullable(),
		solana_finalized_above: z.number().int().nullable(),
		extra_funds: z.enum(EXTRA_FUNDS),
		payout_schedule: z.object({
			interval: z.enum(PAYOUT_INTERVALS),
			weekly_anchor: z.enum(WEEKDAYS).nullable(),
		}),
		payout_minimums: z.record(z.string(), z.string()).openapi({
			description: "Per ledger currency (a fiat code, `sol` or a mint), minor or base units.",
		}),
	})
	.openapi("Settings");

const SettingsUpdate = z
	.object({
		settlement_currency: SettlementCurrencySchema.nullable().optional().openapi({
			description: "`null` stops converting.",
		}),
		conversion_rate_policy: ConversionSettingsShape.conversion_rate_policy,
		card_presentment: ConversionSettingsShape.card_presentment,
		extra_funds: z.enum(EXTRA_FUNDS).optional().openapi({
			description:
				"What happens to funds by the method that did not pay a payment's price (a card charged after crypto paid, or crypto sent after the card paid): `refund` (default) sends them back to their payer by that method at once; `hold` keeps them in the payment for you to refund (funds: held).",
		}),
		payout_schedule: PayoutScheduleSchema.optional(),
		payout_minimums: PayoutMinimumsSchema.nullable().optional(),
	})
	.strict();

function toApiSettings(s: MerchantSettings): z.infer<typeof SettingsSchema> {
	return {
		object: "settings",
		settlement_currency: s.settlement_currency ?? null,
		conversion_rate_policy: s.conversion_rate_policy ?? "locked",
		card_presentment: s.card_presentment ?? "price_currency",
		accepted_tokens: s.accepted_tokens ?? null,
		solana_finalized_above: s.solana_finalized_above ?? null,
		extra_funds: s.extra_funds ?? "refund",
		...payoutSettingsJson(s),
	};
}

const tags = ["Settings"];

const retrieve = apiRoute({
	method: "get",
	path: "/v1/settings",
	tags,
	summary: "Your payment settings (the same in test and live mode)",
	responses: {
		200: jsonResponse("Settings", SettingsSchema),
		...errorResponses(401),
	},
});

const update = apiRoute({
	method: "post",
	path: "/v1/settings",
	tags,
	summary:
		"Change your settlement currency, conversion policy, card presentment, what happens to extra funds, or your payout schedule and minimums",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(SettingsUpdate),
	},
	responses: {
		200: jsonResponse("Settings", SettingsSchema),
		...errorResponses(400, 401, 422),
	},
});

export function registerSettings(app: App): void {
	app.openapi(retrieve, async (c) => {
		const { merchantId } = c.get("auth");
		const merchant = await getMerchant(c.env.DB, merchantId);
		if (!merchant) throw notFound("merchant", merchantId);
		return c.json(toApiSettings(merchant.settings), 200);
	});

	app.openapi(update, async (c) => {
		const { merchantId } = c.get("auth");
		const body = c.req.valid("json");
		const target = body.settlement_currency;
		if (
			target &&
			!isSupportedCurrency(target) &&
			!tokenCatalog(c.env).some((t) => t.symbol === target)
		) {
			throw new ApiError(
				"parameter_invalid",
				`'${target}' is neither a supported currency nor a token the gateway holds.`,
				"settlement_currency",
			);
		}
		const merchant = await getMerchant(c.env.DB, merchantId);
		if (!merchant) throw notFound("merchant", merchantId);
		const settings: MerchantSettings = { ...merchant.settings };
		if (body.settlement_currency === null) delete settings.settlement_currency;
		else if (body.settlement_currency !== undefined) {
			settings.settlement_currency = body.settlement_currency;
		}
		if (body.conversion_rate_policy) settings.conversion_rate_policy = body.conversion_rate_policy;
		if (body.card_presentment) settings.card_presentment = body.card_presentment;
		if (body.extra_funds) settings.extra_funds = body.extra_funds;
		applyPayoutSettings(c.env, settings, body);
		const updated = await updateMerchant(c.env.DB, merchantId, { settings });
		await auditApiChange(c.env, c.get("auth"), "settings.updated", merchantId, {
			fields: Object.keys(body).filter((k) => body[k as keyof typeof body] !== undefined),
			changes: body,
		});
		return c.json(toApiSettings(updated?.settings ?? settings), 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type SettingsResponse = z.infer<typeof SettingsSchema>;
