import { z } from "@hono/zod-openapi";
import { latestTreasuryChecks, type TreasuryCheck } from "../db/treasury";
import type { Env } from "../env";
import { log } from "../lib/log";
import { currencyOfToken } from "../services/settlement-accounts";
import {
	type SettlementAccountStatus,
	settlementAccountStatuses,
} from "../services/settlement-readiness";
import { tokenCatalog } from "../services/tokens";
import type { App } from "../types";
import { jsonResponse, publicRoute } from "./define";

// Two probes: `/health/live` says the Worker runs and answers (no I/O at all, so a load balancer
// or uptime check never costs a D1 read, and benchmarks use it as the floor of the request path);
// `/health` also reads D1 (the latest treasury checks) and whether the settlement accounts exist
// on chain (cached per isolate, so at most one RPC call a minute), and answers 503 when something
// needs the operator: D1 down, a settlement account missing, or the ledger not agreeing with the
// chain.

const live = publicRoute({
	method: "get",
	path: "/health/live",
	tags: ["Operations"],
	summary: "Liveness: the Worker answers (no D1 or other I/O)",
	responses: {
		200: jsonResponse("Alive", z.object({ status: z.literal("ok") })),
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

const TreasuryHealthSchema = z.object({
	token: z.string().openapi({ example: "USDC" }),
	currency: z.string(),
	difference: z.string().openapi({
		description:
			"The latest treasury check's chain balance + ledger balance, base units: 0 when they agree.",
	}),
	caught_up: z.boolean().openapi({
		description: "False when the watcher was still booking: the difference then proves nothing.",
	}),
	checked_at: z.number().int().openapi({ description: "Unix seconds." }),
});

function healthBody<S extends "ok" | "degraded">(status: S) {
	return z.object({
		status: z.literal(status),
		environment: z.string(),
		settlement_accounts: z.array(SettlementAccountHealthSchema),
		treasury: z.array(TreasuryHealthSchema),
		problems: z.array(z.string()).openapi({ description: "What needs the operator, in words." }),
	});
}

const health = publicRoute({
	method: "get",
	path: "/health",
	tags: ["Operations"],
	summary: "Liveness, D1, the settlement accounts on chain and the treasury's latest checks",
	responses: {
		200: jsonResponse("Healthy", healthBody("ok")),
		503: jsonResponse(
			"D1 unreachable, a settlement account missing on chain, or a treasury difference",
			healthBody("degraded"),
		),
	},
});

function missingAccount(a: SettlementAccountStatus): string {
	if (!a.token.mint) {
		return `The settlement wallet ${a.address} holds no SOL: fund it (it pays the network fees of refunds and of \`npm run solana:setup\`).`;
	}
	return `The settlement wallet has no ${a.token.symbol} token account (${a.address}, mint ${a.token.mint}): run \`npm run solana:setup\`; ${a.token.symbol} is not quoted until then.`;
}

function treasuryDifference(check: TreasuryCheck, token: string): string {
	return `The ledger and the chain disagree on ${token} (${check.currency}): difference ${check.difference} base units (chain balance + ledger balance) at the check of ${new Date(check.checkedAt * 1000).toISOString()}; see GET /admin/v1/treasury.`;
}

/** The latest treasury checks; null when D1 does not answer (this read is also the D1 probe). */
async function latestChecks(env: Env): Promise<TreasuryCheck[] | null> {
	try {
		return await latestTreasuryChecks(env.DB, tokenCatalog(env).map(currencyOfToken));
	} catch (err) {
		log("warn", "health: D1 did not answer", {
			error: err instanceof Error ? err.message : String(err),
		});
		return null;
	}
}

export function registerHealth(app: App): void {
	app.openapi(live, (c) => c.json({ status: "ok" as const }, 200));
	app.openapi(health, async (c) => {
		const [checks, accounts] = await Promise.all([
			latestChecks(c.env),
			settlementAccountStatuses(c.env),
		]);
		const symbol = (currency: string) =>
			accounts.find((a) => a.currency === currency)?.token.symbol ?? currency;
		const problems: string[] = [];
		if (!checks) problems.push("D1 is unreachable.");
		for (const a of accounts) if (a.exists === false) problems.push(missingAccount(a));
		for (const check of checks ?? []) {
			// A check the watcher was still booking during proves nothing; the next one will.
			if (check.caughtUp && check.difference !== 0n)
				problems.push(treasuryDifference(check, symbol(check.currency)));
		}
		const body = {
			environment: c.env.ENVIRONMENT,
			settlement_accounts: accounts.map((a) => ({
				token: a.token.symbol,
				currency: a.currency,
				address: a.address,
				exists: a.exists,
			})),
			treasury: (checks ?? []).map((check) => ({
				token: symbol(check.currency),
				currency: check.currency,
				difference: check.difference.toString(),
				caught_up: check.caughtUp,
				checked_at: check.checkedAt,
			})),
			problems,
		};
		if (problems.length > 0) return c.json({ status: "degraded" as const, ...body }, 503);
		return c.json({ status: "ok" as const, ...body }, 200);
	});
}
