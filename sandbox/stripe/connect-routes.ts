import type Stripe from "stripe";
import type { Router } from "../http.js";
import { type ApiCall, accountInvalid, apiRoute } from "./api.js";
import {
	BUSINESS_TYPES,
	type CapabilityName,
	checkDeletable,
	completeOnboarding,
	createAccount,
	createAccountLink,
	readLinkUrl,
	restrictAccount,
} from "./connect-accounts.js";
import {
	balanceJson,
	connectedBalance,
	createTransfer,
	platformBalance,
	reversalsOf,
	reverseTransfer,
	topUp,
} from "./connect-transfers.js";
import type { StripeEmulator } from "./emulator.js";
import { invalidParam, missingParam, resourceMissing } from "./errors.js";
import { applyMetadata } from "./form.js";
import { MAX_AMOUNT, readCurrency } from "./money.js";
import { createdFilter, listPage, snapshot } from "./store.js";

// HTTP endpoints for Connect: accounts, account links, balance, transfers and reversals, and the
// emulator-only `_test` routes that stand in for the merchant (onboarding) and for Stripe
// (restricting an account, refusing the next transfer, topping up the platform's balance).

/** Stripe answers an unknown or deleted account id with its 403 `account_invalid`. */
function accountFor(call: ApiCall): Stripe.Account {
	const id = call.path.id ?? "";
	const account = call.em.store.accounts.get(id);
	if (!account) throw accountInvalid(call.apiKey, id);
	return account;
}

function readCapabilities(call: ApiCall): CapabilityName[] {
	const capabilities = call.params.object("capabilities");
	const requested: CapabilityName[] = [];
	if (capabilities) {
		capabilities.only(["card_payments", "transfers"]);
		for (const name of ["transfers", "card_payments"] as const) {
			const capability = capabilities.object(name);
			if (!capability) continue;
			capability.only(["requested"]);
			if (capability.boolean("requested")) requested.push(name);
		}
	}
	// Express accounts in the sandbox exist to receive transfers (Stripe requires a capability).
	if (!requested.includes("transfers")) {
		throw invalidParam(
			"Express accounts must request the `transfers` capability (capabilities[transfers][requested]=true).",
			"capabilities",
		);
	}
	return requested;
}

function createAccountRoute(call: ApiCall): unknown {
	const { em, params } = call;
	params.only([
		"business_profile",
		"business_type",
		"capabilities",
		"country",
		"default_currency",
		"email",
		"expand",
		"metadata",
		"type",
	]);
	const type = params.requiredString("type");
	if (type !== "express") {
		throw invalidParam(
			`The Stripe emulator creates Express accounts only (type=express), not '${type}'.`,
			"type",
		);
	}
	const account = createAccount(em, {
		country: params.string("country") ?? "US",
		email: params.nullableString("email") ?? null,
		businessType: params.enumeration("business_type", BUSINESS_TYPES) ?? null,
		capabilities: readCapabilities(call),
		metadata: applyMetadata({}, params.metadata()),
	});
	return snapshot(account);
}

function listAccounts({ em, params }: ApiCall): unknown {
	params.only(["created", "ending_before", "expand", "limit", "starting_after"]);
	const created = createdFilter(params);
	const items = [...em.store.accounts.values()].filter((a) => created(a.created ?? 0));
	return listPage(items, params, "/v1/accounts", "account");
}

/** Platform-editable fields only: what onboarding collects is the merchant's to change. */
function updateAccount(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(["email", "expand", "metadata"]);
	const account = accountFor(call);
	const previous: Partial<Stripe.Account> = {};
	const email = params.nullableString("email");
	if (email !== undefined && email !== account.email) {
		previous.email = account.email;
		account.email = email;
	}
	const metadata = applyMetadata(account.metadata ?? {}, params.metadata());
	if (JSON.stringify(metadata) !== JSON.stringify(account.metadata ?? {})) {
		previous.metadata = account.metadata ?? {};
		account.metadata = metadata;
	}
	if (Object.keys(previous).length > 0) {
		em.emit("account.updated", account, ctx, previous, account.id);
	}
	return snapshot(account);
}

function deleteAccount(call: ApiCall): unknown {
	call.params.only([]);
	const account = accountFor(call);
	checkDeletable(call.em, account);
	call.em.store.accounts.delete(account.id);
	call.em.store.connectedBalances.delete(account.id);
	return { id: account.id, object: "account", deleted: true };
}

function createAccountLinkRoute({ em, params, ctx }: ApiCall): unknown {
	params.only([
		"account",
		"collect",
		"collection_options",
		"expand",
		"refresh_url",
		"return_url",
		"type",
	]);
	const accountId = params.requiredString("account");
	const refreshUrl = readLinkUrl(params.requiredString("refresh_url"), "refresh_url");
	const returnUrl = readLinkUrl(params.requiredString("return_url"), "return_url");
	const type = params.requiredString("type");
	if (type !== "account_onboarding") {
		throw invalidParam(
			`Invalid type: the Stripe emulator makes account_onboarding links only, not '${type}'.`,
			"type",
		);
	}
	if (!em.store.accounts.has(accountId)) {
		throw invalidParam(`No such account: '${accountId}'`, "account", "resource_missing");
	}
	return createAccountLink(em, { account: accountId, refreshUrl, returnUrl }, ctx);
}

function balanceRoute({ em, params, account }: ApiCall): unknown {
	params.only(["expand"]);
	return balanceJson(account ? connectedBalance(em, account) : platformBalance(em));
}

function readAmount(call: ApiCall, name: string): number | undefined {
	const amount = call.params.positiveInteger(name);
	if (amount !== undefined && amount > MAX_AMOUNT) {
		throw invalidParam(`Amount must be no more than ${MAX_AMOUNT}`, name, "amount_too_large");
	}
	return amount;
}

function createTransferRoute(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only([
		"amount",
		"currency",
		"description",
		"destination",
		"expand",
		"metadata",
		"source_type",
		"transfer_group",
	]);
	const amount = readAmount(call, "amount");
	if (amount === undefined) throw missingParam("amount");
	const currency = readCurrency(params.requiredString("currency"));
	const destination = params.requiredString("destination");
	const sourceType = params.string("source_type");
	if (sourceType !== undefined && sourceType !== "card") {
		throw invalidParam(
			"Invalid source_type: the sandbox's balance is card funds only.",
			"source_type",
		);
	}
	const transfer = createTransfer(
		em,
		{
			amount,
			currency,
			destination,
			transferGroup: params.nullableString("transfer_group") ?? null,
			description: params.nullableString("description") ?? null,
			metadata: applyMetadata({}, params.metadata()),
		},
		ctx,
	);
	return snapshot(transfer);
}

function listTransfers({ em, params }: ApiCall): unknown {
	params.only([
		"created",
		"destination",
		"ending_before",
		"expand",
		"limit",
		"starting_after",
		"transfer_group",
	]);
	const destination = params.string("destination");
	const group = params.string("transfer_group");
	const created = createdFilter(params);
	const items = [...em.store.transfers.values()].filter(
		(t) =>
			(!destination || t.destination === destination) &&
			(!group || t.transfer_group === group) &&
			created(t.created),
	);
	return listPage(items, params, "/v1/transfers", "transfer");
}

function transferFor({ em, path }: ApiCall): Stripe.Transfer {
	return em.store.get(em.store.transfers, "transfer", path.id ?? "");
}

function updateTransfer(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(["description", "expand", "metadata"]);
	const transfer = transferFor(call);
	const previous: Partial<Stripe.Transfer> = {};
	const description = params.nullableString("description");
	if (description !== undefined && description !== transfer.description) {
		previous.description = transfer.description;
		transfer.description = description;
	}
	const metadata = applyMetadata(transfer.metadata, params.metadata());
	if (JSON.stringify(metadata) !== JSON.stringify(transfer.metadata)) {
		previous.metadata = transfer.metadata;
		transfer.metadata = metadata;
	}
	if (Object.keys(previous).length > 0) em.emit("transfer.updated", transfer, ctx, previous);
	return snapshot(transfer);
}

function createReversalRoute(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(["amount", "description", "expand", "metadata", "refund_application_fee"]);
	const transfer = transferFor(call);
	const reversal = reverseTransfer(
		em,
		transfer,
		{
			amount: readAmount(call, "amount"),
			description: params.nullableString("description") ?? null,
			metadata: applyMetadata({}, params.metadata()),
		},
		ctx,
	);
	return snapshot(reversal);
}

function listReversals(call: ApiCall): unknown {
	call.params.only(["ending_before", "expand", "limit", "starting_after"]);
	const transfer = transferFor(call);
	const page = listPage(
		reversalsOf(call.em, transfer.id),
		call.params,
		`/v1/transfers/${transfer.id}/reversals`,
		"transfer_reversal",
	);
	return page;
}

function retrieveReversal(call: ApiCall): unknown {
	call.params.only(["expand"]);
	const transfer = transferFor(call);
	const id = call.path.reversal ?? "";
	const reversal = call.em.store.transferReversals.get(id);
	if (!reversal || reversal.transfer !== transfer.id)
		throw resourceMissing("transfer_reversal", id);
	return snapshot(reversal);
}

// Emulator-only routes.

function completeOnboardingRoute(call: ApiCall): unknown {
	call.params.only([]);
	return snapshot(completeOnboarding(call.em, accountFor(call), call.ctx));
}

function restrictRoute(call: ApiCall): unknown {
	call.params.only([]);
	return snapshot(restrictAccount(call.em, accountFor(call), call.ctx));
}

function failNextTransferRoute(call: ApiCall): unknown {
	call.params.only([]);
	const account = accountFor(call);
	call.em.store.failNextTransfer.add(account.id);
	return { account: account.id, fail_next_transfer: true };
}

function topUpRoute(call: ApiCall): unknown {
	call.params.only(["amount", "currency"]);
	const amount = readAmount(call, "amount");
	if (amount === undefined) throw missingParam("amount");
	const currency = readCurrency(call.params.requiredString("currency"));
	const txn = topUp(call.em, amount, currency);
	return { balance_transaction: snapshot(txn), balance: balanceJson(platformBalance(call.em)) };
}

export function registerConnectRoutes(router: Router, em: StripeEmulator): void {
	const test = { test: true };
	router
		.post("/v1/accounts", apiRoute(em, createAccountRoute))
		.get("/v1/accounts", apiRoute(em, listAccounts))
		.get(
			"/v1/accounts/:id",
			apiRoute(em, (call) => {
				call.params.only(["expand"]);
				return snapshot(accountFor(call));
			}),
		)
		.post("/v1/accounts/:id", apiRoute(em, updateAccount))
		.delete("/v1/accounts/:id", apiRoute(em, deleteAccount))
		.post("/v1/accounts/:id/_test/complete_onboarding", apiRoute(em, completeOnboardingRoute, test))
		.post("/v1/accounts/:id/_test/restrict", apiRoute(em, restrictRoute, test))
		.post("/v1/accounts/:id/_test/fail_next_transfer", apiRoute(em, failNextTransferRoute, test))
		.post("/v1/account_links", apiRoute(em, createAccountLinkRoute))
		.get("/v1/balance", apiRoute(em, balanceRoute, { connect: true }))
		.post("/v1/balance/_test/top_up", apiRoute(em, topUpRoute, test))
		.post("/v1/transfers", apiRoute(em, createTransferRoute))
		.get("/v1/transfers", apiRoute(em, listTransfers))
		.get(
			"/v1/transfers/:id",
			apiRoute(em, (call) => {
				call.params.only(["expand"]);
				return snapshot(transferFor(call));
			}),
		)
		.post("/v1/transfers/:id", apiRoute(em, updateTransfer))
		.post("/v1/transfers/:id/reversals", apiRoute(em, createReversalRoute))
		.get("/v1/transfers/:id/reversals", apiRoute(em, listReversals))
		.get("/v1/transfers/:id/reversals/:reversal", apiRoute(em, retrieveReversal));
}
