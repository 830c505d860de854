import { z } from "@hono/zod-openapi";
import { formatRational } from "../domain/fx";
import {
	type CachedRate,
	listCachedRates,
	maxAgeSeconds,
	priceableCurrencies,
} from "../services/rates";
import type { App } from "../types";
import { apiRoute } from "./define";
import { errorResponses } from "./schemas";

const RateSchema = z
	.object({
		object: z.literal("rate"),
		pair: z.string().openapi({ example: "SOL/USD" }),
		base: z.string().openapi({ example: "SOL" }),
		quote: z.string().openapi({ example: "USD" }),
		rate: z.string().openapi({
			description: "`quote` units per one `base` unit, exactly as published.",
			example: "150.00000000",
		}),
		source: z.enum(["pyth", "fx_reference"]),
		publish_time: z.number().int().openapi({ description: "When the provider published it." }),
		fetched_at: z.number().int(),
		age_seconds: z.number().int().openapi({ description: "Now minus `publish_time`." }),
		max_age_seconds: z.number().int().openapi({ description: "Older than this is refused." }),
		stale: z.boolean(),
	})
	.openapi("Rate");

const route = apiRoute({
	method: "get",
	path: "/v1/rates",
	tags: ["Rates"],
	summary: "The cached exchange rates quoting and conversions use, with their ages",
	request: {
		query: z.object({
			base: z
				.string()
				.regex(/^[A-Za-z0-9]{2,10}$/, "must be a currency code or token symbol")
				.optional()
				.openapi({ description: "Only pairs of this base (`SOL`, `usd`).", example: "SOL" }),
		}),
	},
	responses: {
		200: {
			description: "Cached rates",
			content: {
				"application/json": {
					schema: z.object({
						object: z.literal("list"),
						data: z.array(RateSchema),
						has_more: z.boolean(),
						url: z.string(),
						priceable_currencies: z.array(z.string()).openapi({
							description:
								"Price currencies (lowercase ISO 4217) a Solana payment can be quoted in: the dollar and each currency with an exchange-rate feed. Quoting a payment in any other currency is refused with 400 `parameter_invalid` (`currency`); a listed currency whose rate is stale only pauses quoting (503). Not narrowed by `base`.",
							example: ["eur", "gbp", "jpy", "usd"],
						}),
					}),
				},
			},
		},
		...errorResponses(400, 401),
	},
});

export function registerRates(app: App): void {
	app.openapi(route, async (c) => {
		const { base } = c.req.valid("query");
		const now = Math.floor(Date.now() / 1000);
		const rates = await listCachedRates(c.env.DB, base);
		return c.json(
			{
				object: "list" as const,
				data: rates.map((r) => {
					const limit = maxAgeSeconds(c.env, r.source);
					const age = Math.max(0, now - r.publishTime);
					return {
						object: "rate" as const,
						pair: r.pair,
						base: r.base,
						quote: r.quote,
						rate: asPublished(r),
						source: r.source,
						publish_time: r.publishTime,
						fetched_at: r.fetchedAt,
						age_seconds: age,
						max_age_seconds: limit,
						stale: age > limit,
					};
				}),
				has_more: false,
				url: "/v1/rates",
				priceable_currencies: priceableCurrencies(),
			},
			200,
		);
	});
}

/** The stored decimal with every digit the provider sent ("150.00000000"). */
function asPublished(r: CachedRate): string {
	if (!/^10*$/.test(r.denominator) || !/^\d+$/.test(r.numerator)) return formatRational(r.rate);
	const digits = r.denominator.length - 1;
	if (digits === 0) return r.numerator;
	const padded = r.numerator.padStart(digits + 1, "0");
	return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** The shapes these operations answer with, for their tests and clients. */
export type RateResponse = z.infer<typeof RateSchema>;
