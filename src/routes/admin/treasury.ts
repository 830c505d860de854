import { z } from "@hono/zod-openapi";
import { type TreasuryView, treasuryView } from "../../services/treasury";
import type { App } from "../../types";
import { adminRoute, jsonResponse } from "../define";
import { errorResponses } from "../schemas";

const Amount = z.string().openapi({ example: "2500000" });

const ModeSchema = z.object({
	livemode: z.boolean(),
	settlement: Amount.openapi({
		description:
			"This mode's settlement accounts in the ledger (negative: funds received into the account).",
	}),
	unattributed: Amount.openapi({ description: "Funds no payment took, held for their senders." }),
	held: Amount.openapi({
		description: "Payments' holding accounts: excess, late and not yet settled funds.",
	}),
	owed_to_merchants: Amount.openapi({
		description: "Merchants' available and pending balances in this token.",
	}),
	fees: Amount.openapi({ description: "Gateway fees earned in this token." }),
	float: Amount.openapi({
		description: "The gateway's own funds: what the account held when watching began, top-ups.",
	}),
});

const TreasurySchema = z
	.object({
		object: z.literal("treasury"),
		chain_livemode: z.boolean().openapi({
			description: "True on mainnet-beta, where the settlement wallet holds live money.",
		}),
		data: z.array(
			z.object({
				currency: z.string().openapi({ description: "The token's mint, or sol." }),
				token: z.string().openapi({ example: "USDC" }),
				address: z.string().openapi({
					description: "The settlement account: the wallet (SOL) or its associated token account.",
				}),
				chain_balance: Amount.nullable().openapi({
					description:
						"At the latest check: the wallet's lamports, or every token account the wallet owns for the mint. Null before the first check.",
				}),
				ledger_balance: Amount.nullable().openapi({
					description: "At the latest check: both modes' settlement accounts, summed.",
				}),
				difference: Amount.nullable().openapi({
					description: "chain_balance + ledger_balance: 0 when the ledger agrees with the chain.",
				}),
				caught_up: z.boolean().nullable().openapi({
					description:
						"False when the watcher was still booking: the difference then proves nothing.",
				}),
				slot: z.number().int().nullable(),
				checked_at: z.number().int().nullable().openapi({ description: "Unix seconds." }),
				modes: z.array(ModeSchema).openapi({
					description: "Where the funds belong, per mode, from the ledger now.",
				}),
			}),
		),
	})
	.openapi("Treasury");

export type TreasuryJson = z.infer<typeof TreasurySchema>;

const retrieve = adminRoute({
	method: "get",
	path: "/admin/v1/treasury",
	tags: ["Admin"],
	summary: "The settlement accounts: chain against ledger, and whose funds they hold",
	description:
		"Per settlement account (the wallet for SOL, its token account per mint): the latest treasury check of the minute cron (chain balance, ledger balance, difference), and per mode the ledger's breakdown. Amounts are base units as decimal strings.",
	responses: {
		200: jsonResponse("The treasury", TreasurySchema),
		...errorResponses(401),
	},
});

function toTreasuryJson(view: TreasuryView): TreasuryJson {
	return {
		object: "treasury",
		chain_livemode: view.chainLivemode,
		data: view.accounts.map(({ account, check, modes }) => ({
			currency: account.currency,
			token: account.token.symbol,
			address: account.address,
			chain_balance: check?.chainBalance.toString() ?? null,
			ledger_balance: check?.ledgerBalance.toString() ?? null,
			difference: check?.difference.toString() ?? null,
			caught_up: check?.caughtUp ?? null,
			slot: check?.slot ?? null,
			checked_at: check?.checkedAt ?? null,
			modes: modes.map(({ livemode, ledger }) => ({
				livemode,
				settlement: ledger.settlement.toString(),
				unattributed: ledger.unattributed.toString(),
				held: ledger.held.toString(),
				owed_to_merchants: ledger.owedToMerchants.toString(),
				fees: ledger.fees.toString(),
				float: ledger.float.toString(),
			})),
		})),
	};
}

export function registerAdminTreasury(app: App): void {
	app.openapi(retrieve, async (c) => c.json(toTreasuryJson(await treasuryView(c.env)), 200));
}

/** The shapes these operations answer with, for their tests and clients. */
export type TreasuryResponse = z.infer<typeof TreasurySchema>;
