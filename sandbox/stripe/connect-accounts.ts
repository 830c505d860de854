import type Stripe from "stripe";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { invalidParam, invalidRequest } from "./errors.js";
import { randomToken } from "./store.js";

// Connect: Express connected accounts and their onboarding. A new account can receive nothing
// (details not submitted, transfers capability inactive, requirements due) until the merchant
// completes onboarding through an account link, or a test completes it through `_test`.
// Every change to an account is an `account.updated` event carrying the account's id in
// `account`, as Stripe sends Connect events.

/** Account links live a few minutes on Stripe; the sandbox gives five. */
export const ACCOUNT_LINK_TTL_SECONDS = 300;

/** What Stripe asks of a new US Express account before it may receive transfers. */
const ONBOARDING_REQUIREMENTS = [
	"business_profile.mcc",
	"business_profile.url",
	"business_type",
	"external_account",
	"individual.dob.day",
	"individual.first_name",
	"individual.last_name",
	"tos_acceptance.date",
	"tos_acceptance.ip",
];

const DEFAULT_CURRENCY: Record<string, string> = {
	US: "usd",
	CA: "cad",
	GB: "gbp",
	AU: "aud",
	NZ: "nzd",
	JP: "jpy",
	SG: "sgd",
	HK: "hkd",
	CH: "chf",
	SE: "sek",
	NO: "nok",
	DK: "dkk",
	PL: "pln",
	CZ: "czk",
	HU: "huf",
	MX: "mxn",
	BR: "brl",
	IN: "inr",
};
const EURO = ["AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU"];
for (const country of [...EURO, "LV", "MT", "NL", "PT", "SI", "SK"])
	DEFAULT_CURRENCY[country] = "eur";

export const BUSINESS_TYPES = ["company", "government_entity", "individual", "non_profit"] as const;

export type CapabilityName = "transfers" | "card_payments";

export interface NewAccount {
	country: string;
	email: string | null;
	businessType: Stripe.Account.BusinessType | null;
	capabilities: CapabilityName[];
	metadata: Record<string, string>;
}

function requirements(due: string[], disabledReason: string | null): Stripe.Account.Requirements {
	return {
		alternatives: [],
		current_deadline: null,
		currently_due: [...due],
		disabled_reason: disabledReason as Stripe.Account.Requirements.DisabledReason | null,
		errors: [],
		eventually_due: [...due],
		past_due: [...due],
		pending_verification: [],
	};
}

export function createAccount(em: StripeEmulator, init: NewAccount): Stripe.Account {
	const country = init.country.toUpperCase();
	const currency = DEFAULT_CURRENCY[country];
	if (!currency) {
		throw invalidParam(
			`Country '${init.country}' is unknown, or not supported by Connect.`,
			"country",
		);
	}
	const id = em.store.newId("acct").slice(0, 21);
	const due = ONBOARDING_REQUIREMENTS.filter(
		(field) => !(field === "business_type" && init.businessType),
	);
	const capabilities: Stripe.Account.Capabilities = {};
	for (const name of init.capabilities) capabilities[name] = "inactive";
	const account: Stripe.Account = {
		id,
		object: "account",
		business_profile: {
			annual_revenue: null,
			estimated_worker_count: null,
			mcc: null,
			minority_owned_business_designation: null,
			name: null,
			product_description: null,
			specified_commercial_transactions_act_url: null,
			support_address: null,
			support_email: null,
			support_phone: null,
			support_url: null,
			url: null,
		},
		business_type: init.businessType,
		capabilities,
		charges_enabled: false,
		controller: {
			fees: { payer: "application_express" },
			is_controller: true,
			losses: { payments: "application" },
			requirement_collection: "stripe",
			stripe_dashboard: { type: "express" },
			type: "application",
		},
		country,
		created: em.store.seconds(),
		default_currency: currency,
		details_submitted: false,
		email: init.email,
		external_accounts: {
			object: "list",
			data: [],
			has_more: false,
			url: `/v1/accounts/${id}/external_accounts`,
		},
		future_requirements: requirements([], null),
		metadata: init.metadata,
		payouts_enabled: false,
		requirements: requirements(due, "requirements.past_due"),
		settings: null,
		tos_acceptance: { date: null },
		type: "express",
	};
	em.store.accounts.set(id, account);
	em.store.connectedBalances.set(id, new Map([[currency, 0]]));
	return account;
}

/** Whether transfers may be sent to this account now. */
export function transfersActive(account: Stripe.Account): boolean {
	return account.capabilities?.transfers === "active";
}

function changed(
	em: StripeEmulator,
	account: Stripe.Account,
	previous: Partial<Stripe.Account>,
	ctx: RequestContext | null,
): void {
	em.emit("account.updated", account, ctx, previous, account.id);
}

function previousState(account: Stripe.Account): Partial<Stripe.Account> {
	return {
		capabilities: structuredClone(account.capabilities),
		charges_enabled: account.charges_enabled,
		details_submitted: account.details_submitted,
		payouts_enabled: account.payouts_enabled,
		requirements: structuredClone(account.requirements),
	};
}

/** The merchant finished onboarding: details submitted, every requested capability active. */
export function completeOnboarding(
	em: StripeEmulator,
	account: Stripe.Account,
	ctx: RequestContext | null,
): Stripe.Account {
	if (account.details_submitted && transfersActive(account) && account.payouts_enabled) {
		return account;
	}
	const previous = previousState(account);
	const capabilities: Stripe.Account.Capabilities = {};
	for (const name of Object.keys(account.capabilities ?? {}) as CapabilityName[]) {
		capabilities[name] = "active";
	}
	account.capabilities = capabilities;
	account.details_submitted = true;
	account.charges_enabled = true;
	account.payouts_enabled = true;
	account.requirements = requirements([], null);
	account.tos_acceptance = { date: em.store.seconds(), ip: "127.0.0.1", user_agent: null };
	if (!account.business_type) account.business_type = "individual";
	changed(em, account, previous, ctx);
	return account;
}

/**
 * Stripe restricts an account whose verification lapses: requirements past due, payouts and
 * charges disabled, capabilities inactive; transfers to it are refused until it onboards again.
 */
export function restrictAccount(
	em: StripeEmulator,
	account: Stripe.Account,
	ctx: RequestContext | null,
): Stripe.Account {
	const previous = previousState(account);
	const capabilities: Stripe.Account.Capabilities = {};
	for (const name of Object.keys(account.capabilities ?? {}) as CapabilityName[]) {
		capabilities[name] = "inactive";
	}
	account.capabilities = capabilities;
	account.charges_enabled = false;
	account.payouts_enabled = false;
	account.requirements = requirements(
		["individual.verification.document"],
		"requirements.past_due",
	);
	changed(em, account, previous, ctx);
	return account;
}

export function createAccountLink(
	em: StripeEmulator,
	input: { account: string; refreshUrl: string; returnUrl: string },
	ctx: RequestContext,
): Stripe.AccountLink {
	const created = em.store.seconds();
	const token = randomToken(32);
	const expiresAt = created + ACCOUNT_LINK_TTL_SECONDS;
	em.store.accountLinks.set(token, {
		account: input.account,
		refreshUrl: input.refreshUrl,
		returnUrl: input.returnUrl,
		expiresAt,
		visited: false,
		done: false,
	});
	return {
		object: "account_link",
		created,
		expires_at: expiresAt,
		url: `${ctx.baseUrl}/_test/connect/onboarding/${token}`,
	};
}

/** Stripe requires absolute http(s) URLs for refresh_url and return_url. */
export function readLinkUrl(value: string, param: string): string {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw invalidParam(`Not a valid URL`, param, "url_invalid");
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") {
		throw invalidParam(`Not a valid URL`, param, "url_invalid");
	}
	return url.toString();
}

/** Stripe refuses to delete an account that still holds money. */
export function checkDeletable(em: StripeEmulator, account: Stripe.Account): void {
	const balances = em.store.connectedBalances.get(account.id);
	for (const amount of balances?.values() ?? []) {
		if (amount !== 0) {
			throw invalidRequest(
				`This account cannot be deleted because it has a non-zero balance. Account: ${account.id}`,
				{ param: "account" },
			);
		}
	}
}
