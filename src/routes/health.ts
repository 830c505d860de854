import { createRoute, z } from "@hono/zod-openapi";
import {
	type SettlementAccountStatus,
	settlementAccountStatuses,
} from "../services/settlement-readiness";
import type { App } from "../types";

// Two probes: `/health/live` says the Worker runs and answers (no I/O at all, so a load balancer
// or uptime check never costs a D1 read, and benchmarks use it as the floor of the request path);
// `/health` also reads D1 and whether the settlement accounts exist on chain (cached per isolate,
// so at most one RPC call a minute), and answers 503 when something needs the operator.

const live = createRoute({
	method: "get",
	path: "/health/live",
	tags: ["Operations"],
	summary: "Liveness: the Worker answers (no D1 or other I/O)",
	responses: {
		200: {
			description: "Alive",
			content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
		},
	},
});

const SettlementAccountHealthSchema = z.object({
	token: z.string().openapi({ example: "USDC" }),
	currency: z
		.string()
		.openapi({ description: "The ledger's name for the token: its mint, or sol." }),
	address: z.string().openapi({
		description: "The settlement wallet (SOL) or its associated token account for the mint.",
	}),
	exists: z.boolean().nullable().openapi({
		description: "Whether the account exists on chain; null when the Solana RPC could not be read.",
	}),
});

function healthBody<S extends "ok" | "degraded">(status: S) {
	return z.object({
		status: z.literal(status),
		environment: z.string(),
		settlement_accounts: z.array(SettlementAccountHealthSchema),
		problems: z.array(z.string()).openapi({ description: "What needs the operator, in words." }),
	});
}

const health = createRoute({
	method: "get",
	path: "/health",
	tags: ["Operations"],
	summary: "Liveness, D1 reachability and the settlement accounts on chain",
	responses: {
		200: {
			description: "Healthy",
			content: { "application/json": { schema: healthBody("ok") } },
		},
		503: {
			description: "D1 unreachable, or a settlement account missing on chain",
			content: { "application/json": { schema: healthBody("degraded") } },
		},
	},
});

function missingAccount(a: SettlementAccountStatus): string {
	if (!a.token.mint) {
		return `The settlement wallet ${a.address} holds no SOL: fund it (it pays the network fees of refunds and of \`npm run solana:setup\`).`;
	}
	return `The settlement wallet has no ${a.token.symbol} token account (${a.address}, mint ${a.token.mint}): run \`npm run solana:setup\`; ${a.token.symbol} is not quoted until then.`;
}

async function d1Reachable(db: D1Database): Promise<boolean> {
	try {
		await db.prepare("SELECT 1").first();
		return true;
	} catch {
		return false;
	}
}

export function registerHealth(app: App): void {
	app.openapi(live, (c) => c.json({ status: "ok" as const }, 200));
	app.openapi(health, async (c) => {
		const [d1, accounts] = await Promise.all([
			d1Reachable(c.env.DB),
			settlementAccountStatuses(c.env),
		]);
		const problems: string[] = [];
		if (!d1) problems.push("D1 is unreachable.");
		for (const a of accounts) if (a.exists === false) problems.push(missingAccount(a));
		const body = {
			environment: c.env.ENVIRONMENT,
			settlement_accounts: accounts.map((a) => ({
				token: a.token.symbol,
				currency: a.currency,
				address: a.address,
				exists: a.exists,
			})),
			problems,
		};
		if (problems.length > 0) return c.json({ status: "degraded" as const, ...body }, 503);
		return c.json({ status: "ok" as const, ...body }, 200);
	});
}
