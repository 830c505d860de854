import { randomBytes } from "node:crypto";
import type Stripe from "stripe";
import { invalidRequest, resourceMissing } from "./errors.js";
import type { Params } from "./form.js";

// The emulator's state, in memory: one map per resource kind (insertion order is creation
// order, so lists read them backwards for newest first), id generation, cursor lists and
// `expand`. One Stripe test account: every sk_test_ key sees the same objects.

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(length: number): string {
	const bytes = randomBytes(length);
	let out = "";
	for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
	return out;
}

/** What a test card does when charged; kept beside the PaymentMethod it was created from. */
export interface CardBehaviour {
	decline?: { code: string; declineCode?: string; message: string; reason: string };
	/** "always": every payment needs 3-D Secure; "on_session": only when the customer is present. */
	authentication?: "always" | "on_session";
	/** The charge succeeds, then is disputed as fraudulent. */
	dispute?: boolean;
	/** Refunds start succeeded, then fail asynchronously. */
	refundFails?: boolean;
	/** The charge's funds are available at once instead of pending (Stripe's 4000000000000077). */
	bypassPending?: boolean;
}

/** A confirmation waiting for 3-D Secure, or a payment waiting out `processing`. */
export interface PendingAttempt {
	paymentMethod: string;
	offSession: boolean;
	returnUrl: string | null;
}

/** An account link's state: single use, short-lived, as on Stripe. */
export interface AccountLinkState {
	account: string;
	refreshUrl: string;
	returnUrl: string;
	expiresAt: number;
	/** Visited links cannot be opened again (they send the browser to refresh_url). */
	visited: boolean;
	/** Answered (completed or cancelled): the form cannot be posted again. */
	done: boolean;
}

export class StripeStore {
	readonly paymentIntents = new Map<string, Stripe.PaymentIntent>();
	readonly charges = new Map<string, Stripe.Charge>();
	readonly refunds = new Map<string, Stripe.Refund>();
	readonly balanceTransactions = new Map<string, Stripe.BalanceTransaction>();
	readonly paymentMethods = new Map<string, Stripe.PaymentMethod>();
	readonly disputes = new Map<string, Stripe.Dispute>();
	readonly events = new Map<string, Stripe.Event>();
	readonly cards = new Map<string, CardBehaviour>();
	readonly attempts = new Map<string, PendingAttempt>();
	/** Connect: connected accounts, account links by their token, transfers and reversals. */
	readonly accounts = new Map<string, Stripe.Account>();
	readonly accountLinks = new Map<string, AccountLinkState>();
	readonly transfers = new Map<string, Stripe.Transfer>();
	readonly transferReversals = new Map<string, Stripe.TransferReversal>();
	/** Each connected account's available balance per currency (minor units). */
	readonly connectedBalances = new Map<string, Map<string, number>>();
	/** Destinations whose next transfer is refused (the `_test` failure knob). */
	readonly failNextTransfer = new Set<string>();

	constructor(readonly now: () => number = Date.now) {}

	/** Unix seconds, as in every `created`. */
	seconds(): number {
		return Math.floor(this.now() / 1000);
	}

	newId(prefix: string): string {
		return `${prefix}_${randomToken(24)}`;
	}

	clear(): void {
		for (const map of [
			this.paymentIntents,
			this.charges,
			this.refunds,
			this.balanceTransactions,
			this.paymentMethods,
			this.disputes,
			this.events,
			this.cards,
			this.attempts,
			this.accounts,
			this.accountLinks,
			this.transfers,
			this.transferReversals,
			this.connectedBalances,
		] as Map<string, unknown>[]) {
			map.clear();
		}
		this.failNextTransfer.clear();
	}

	/** Looks an id up by its prefix; used by `expand`. */
	byId(id: string): object | undefined {
		const prefix = id.slice(0, id.indexOf("_"));
		const maps: Record<string, Map<string, object>> = {
			pi: this.paymentIntents,
			ch: this.charges,
			re: this.refunds,
			txn: this.balanceTransactions,
			pm: this.paymentMethods,
			du: this.disputes,
			evt: this.events,
			acct: this.accounts,
			tr: this.transfers,
			trr: this.transferReversals,
		};
		return maps[prefix]?.get(id);
	}

	get<T>(map: Map<string, T>, kind: string, id: string): T {
		const found = map.get(id);
		if (!found) throw resourceMissing(kind, id);
		return found;
	}
}

/** A response copy, so expansion and later mutations never touch stored objects. */
export function snapshot<T>(value: T): T {
	return structuredClone(value);
}

/**
 * Stripe's cursor list over `items` (oldest first): newest first, `limit` 1–100 (default 10),
 * `starting_after` / `ending_before` by id.
 */
export function listPage<T extends { id: string }>(
	items: T[],
	params: Params,
	url: string,
	kind: string,
): Stripe.ApiList<T> {
	const newestFirst = [...items].reverse();
	const limit = params.integer("limit") ?? 10;
	if (limit < 1 || limit > 100) {
		throw invalidRequest("Invalid integer: limit must be between 1 and 100", {
			param: "limit",
			code: "parameter_invalid_integer",
		});
	}
	const after = params.string("starting_after");
	const before = params.string("ending_before");
	let data: T[];
	let hasMore: boolean;
	if (after) {
		const index = newestFirst.findIndex((item) => item.id === after);
		if (index < 0) throw resourceMissing(kind, after, "starting_after");
		const rest = newestFirst.slice(index + 1);
		data = rest.slice(0, limit);
		hasMore = rest.length > limit;
	} else if (before) {
		const index = newestFirst.findIndex((item) => item.id === before);
		if (index < 0) throw resourceMissing(kind, before, "ending_before");
		const rest = newestFirst.slice(0, index);
		data = rest.slice(Math.max(0, rest.length - limit));
		hasMore = rest.length > limit;
	} else {
		data = newestFirst.slice(0, limit);
		hasMore = newestFirst.length > limit;
	}
	return { object: "list", data: data.map(snapshot), has_more: hasMore, url };
}

/** `created` filter: `created=<ts>` or `created[gt|gte|lt|lte]=<ts>`. */
export function createdFilter(params: Params): (created: number) => boolean {
	if (!params.has("created")) return () => true;
	const exact = params.raw.created;
	if (typeof exact === "string") {
		const value = params.integer("created");
		return (created) => created === value;
	}
	const range = params.object("created");
	const gt = range?.integer("gt");
	const gte = range?.integer("gte");
	const lt = range?.integer("lt");
	const lte = range?.integer("lte");
	return (created) =>
		(gt === undefined || created > gt) &&
		(gte === undefined || created >= gte) &&
		(lt === undefined || created < lt) &&
		(lte === undefined || created <= lte);
}

/**
 * Applies `expand[]` paths (`latest_charge`, `latest_charge.balance_transaction`, and
 * `data.*` on lists) to a response copy. A path through anything but an id is Stripe's 400.
 */
export function expandPaths(body: unknown, paths: string[], store: StripeStore): void {
	for (const path of paths) {
		const segments = path.split(".");
		if (segments.length > 4) {
			throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`);
		}
		expandInto(body, segments, path, store);
	}
}

function expandInto(node: unknown, segments: string[], path: string, store: StripeStore): void {
	const [head, ...rest] = segments;
	if (head === undefined || node === null || typeof node !== "object") return;
	const record = node as Record<string, unknown>;
	if (head === "data" && Array.isArray(record.data) && record.object === "list") {
		for (const item of record.data) expandInto(item, rest, path, store);
		return;
	}
	if (!(head in record)) throw invalidRequest(`This property cannot be expanded (${head}).`);
	let value = record[head];
	if (typeof value === "string") {
		const found = store.byId(value);
		if (!found) throw invalidRequest(`This property cannot be expanded (${head}).`);
		value = snapshot(found);
		record[head] = value;
	} else if (value !== null && (typeof value !== "object" || rest.length === 0)) {
		throw invalidRequest(`This property cannot be expanded (${head}).`);
	}
	if (rest.length > 0) expandInto(value, rest, path, store);
}
