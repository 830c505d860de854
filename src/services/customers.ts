import {
	type CustomerRow,
	customerIdExists,
	customerRow,
	customerWindow,
	deleteCustomerRow,
	insertCustomer,
	updateCustomerRow,
	verifyWallet,
	type WalletRow,
	walletHolders,
	walletsOfCustomer,
	walletsOfCustomers,
} from "../db/customers";
import { checkCursors, createdIdBounds, type PageQuery, paginate } from "../db/pagination";
import { isId, newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { Env } from "../env";
import {
	EncryptionConfigError,
	encrypt,
	type Keyring,
	loadKeyring,
	lookupHash,
	lookupHashes,
	openField,
} from "../lib/encryption";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { tokenCatalog } from "./tokens";

export interface CustomerWalletJson {
	address: string;
	verified_at: number | null;
	added_at: number;
}

export interface CustomerJson {
	id: string;
	object: "customer";
	livemode: boolean;
	email: string | null;
	name: string | null;
	preferred_token: string | null;
	wallets: CustomerWalletJson[];
	metadata: Record<string, string>;
	created: number;
}

export interface CustomerParams {
	email?: string | null | undefined;
	name?: string | null | undefined;
	preferred_token?: string | null | undefined;
	wallets?: string[] | undefined;
	metadata?: Record<string, string> | undefined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Emails are compared case-insensitively, without surrounding spaces. */
function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

/** The keyring for customer emails, or a 503 that says why (the message names no key). */
async function emailKeyring(env: Env): Promise<Keyring> {
	try {
		return await loadKeyring(env.ENCRYPTION_KEYS);
	} catch (error) {
		if (!(error instanceof EncryptionConfigError)) throw error;
		log("error", "customer emails unavailable", { error: error.message });
		throw new ApiError(
			"service_unavailable",
			"Customer emails are unavailable: the gateway's encryption keys are not configured.",
		);
	}
}

/**
 * `email` is stored as an envelope bound to the customer's id, beside a keyed lookup hash of the
 * normalized address for the list filter. Rows written before emails were encrypted hold the
 * plaintext and an unkeyed SHA-256 until the rotation job seals them; both read correctly.
 */
export async function sealEmail(
	keyring: Keyring,
	customerId: string,
	email: string,
): Promise<{ email: string; emailHash: string }> {
	return {
		email: await encrypt(keyring, email, `customer:${customerId}:email`),
		emailHash: await lookupHash(keyring, normalizeEmail(email)),
	};
}

/** Rows with their emails opened (a row without an email needs no key). */
async function openEmails(env: Env, rows: CustomerRow[]): Promise<CustomerRow[]> {
	if (rows.every((r) => r.email === null)) return rows;
	const keyring = await emailKeyring(env);
	return Promise.all(
		rows.map(async (row) =>
			row.email === null
				? row
				: { ...row, email: await openField(keyring, row.email, `customer:${row.id}:email`) },
		),
	);
}

function toCustomerJson(row: CustomerRow, wallets: WalletRow[]): CustomerJson {
	return {
		id: row.id,
		object: "customer",
		livemode: row.livemode,
		email: row.email,
		name: row.name,
		preferred_token: row.preferredToken,
		wallets: wallets
			.filter((w) => w.customerId === row.id)
			.sort((a, b) => a.addedAt - b.addedAt || (a.address < b.address ? -1 : 1))
			.map((w) => ({ address: w.address, verified_at: w.verifiedAt, added_at: w.addedAt })),
		metadata: row.metadata,
		created: row.created,
	};
}

function checkPreferredToken(env: Env, token: string | null | undefined): void {
	if (token === undefined || token === null) return;
	const symbols = tokenCatalog(env).map((t) => t.symbol);
	if (!symbols.includes(token)) {
		throw new ApiError(
			"parameter_invalid",
			`Invalid preferred_token: '${token}' is not a configured token. Use one of: ${symbols.join(", ")}.`,
			"preferred_token",
		);
	}
}

/** Refuses wallets that already belong to another customer of this merchant and mode. */
async function checkWalletsFree(
	env: Env,
	owner: Owner,
	addresses: string[],
	customerId: string | null,
): Promise<void> {
	if (addresses.length === 0) return;
	const taken = await walletHolders(env.DB, owner, addresses);
	const other = taken.find((t) => t.customerId !== customerId);
	if (other) throw walletConflict(addresses.indexOf(other.address), other.address);
}

function walletConflict(index: number, address: string): ApiError {
	return new ApiError(
		"resource_conflict",
		`The wallet '${address}' already belongs to another customer.`,
		index >= 0 ? `wallets[${index}]` : "wallets",
	);
}

/** Two requests racing to claim one wallet: the unique index lets only one of them win. */
function isWalletUniqueViolation(err: unknown): boolean {
	const text = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
	return /UNIQUE constraint failed: customer_wallets/.test(text);
}

export async function createCustomer(
	env: Env,
	owner: Owner,
	params: CustomerParams,
): Promise<CustomerJson> {
	checkPreferredToken(env, params.preferred_token);
	const addresses = params.wallets ?? [];
	await checkWalletsFree(env, owner, addresses, null);
	const now = nowSeconds();
	const id = newId("customer");
	const sealed = params.email ? await sealEmail(await emailKeyring(env), id, params.email) : null;
	const row: CustomerRow = {
		id,
		merchantId: owner.merchantId,
		livemode: owner.livemode,
		email: sealed?.email ?? null,
		emailHash: sealed?.emailHash ?? null,
		name: params.name ?? null,
		preferredToken: params.preferred_token ?? null,
		metadata: params.metadata ?? {},
		created: now,
		updated: now,
	};
	const wallets: WalletRow[] = addresses.map((address) => ({
		customerId: row.id,
		merchantId: owner.merchantId,
		livemode: owner.livemode,
		address,
		verifiedAt: null,
		addedAt: now,
	}));
	try {
		await insertCustomer(env.DB, row, wallets);
	} catch (err) {
		if (isWalletUniqueViolation(err)) throw walletConflict(-1, addresses.join(", "));
		throw err;
	}
	return toCustomerJson({ ...row, email: params.email ?? null }, wallets);
}

export async function getCustomer(
	env: Env,
	owner: Owner,
	id: string,
): Promise<CustomerJson | null> {
	if (!isId("customer", id)) return null;
	const row = await customerRow(env.DB, owner, id);
	if (!row) return null;
	const wallets = await walletsOfCustomer(env.DB, id);
	const [opened] = await openEmails(env, [row]);
	return toCustomerJson(opened ?? row, wallets);
}

/** Whether `id` is a customer of this merchant in this mode (payments may name only those). */
export async function customerExists(env: Env, owner: Owner, id: string): Promise<boolean> {
	if (!isId("customer", id)) return false;
	return customerIdExists(env.DB, owner, id);
}

/**
 * Stripe's update semantics: fields sent replace the stored ones (null clears), `metadata` is
 * merged key by key (an empty value removes the key), and `wallets` replaces the list while
 * wallets that stay keep their verification and the time they were added.
 */
export async function updateCustomer(
	env: Env,
	owner: Owner,
	id: string,
	params: CustomerParams,
): Promise<CustomerJson | null> {
	const current = await getCustomer(env, owner, id);
	if (!current) return null;
	checkPreferredToken(env, params.preferred_token);
	const now = nowSeconds();
	const changes: Partial<CustomerRow> = { updated: now };
	if (params.email !== undefined) {
		const sealed =
			params.email === null ? null : await sealEmail(await emailKeyring(env), id, params.email);
		changes.email = sealed?.email ?? null;
		changes.emailHash = sealed?.emailHash ?? null;
	}
	if (params.name !== undefined) changes.name = params.name;
	if (params.preferred_token !== undefined) changes.preferredToken = params.preferred_token;
	if (params.metadata !== undefined) {
		const merged = { ...current.metadata, ...params.metadata };
		for (const [key, value] of Object.entries(params.metadata))
			if (value === "") delete merged[key];
		if (Object.keys(merged).length > 50) {
			throw new ApiError(
				"parameter_invalid",
				"Invalid metadata: at most 50 metadata keys",
				"metadata",
			);
		}
		changes.metadata = merged;
	}
	const wallets: { removed: string[]; added: WalletRow[] } = { removed: [], added: [] };
	if (params.wallets !== undefined) {
		const kept = new Set(current.wallets.map((w) => w.address));
		const wanted = new Set(params.wallets);
		await checkWalletsFree(env, owner, params.wallets, id);
		wallets.removed = [...kept].filter((a) => !wanted.has(a));
		wallets.added = params.wallets
			.filter((a) => !kept.has(a))
			.map((address) => ({
				customerId: id,
				merchantId: owner.merchantId,
				livemode: owner.livemode,
				address,
				verifiedAt: null,
				addedAt: now,
			}));
	}
	try {
		await updateCustomerRow(env.DB, owner, id, changes, wallets);
	} catch (err) {
		if (isWalletUniqueViolation(err)) throw walletConflict(-1, (params.wallets ?? []).join(", "));
		throw err;
	}
	return getCustomer(env, owner, id);
}

/** Deletes the customer and frees its wallets; payments keep the customer's id, as in Stripe. */
export async function deleteCustomer(env: Env, owner: Owner, id: string): Promise<boolean> {
	if (!(await customerExists(env, owner, id))) return false;
	await deleteCustomerRow(env.DB, owner, id);
	return true;
}

/**
 * A page of customers, newest first, with the same cursor and `created` semantics as the other
 * lists: cursors and time bounds become id bounds on the (merchant, mode[, email hash], id) index.
 */
export async function listCustomers(
	env: Env,
	owner: Owner,
	query: PageQuery & { email?: string | undefined },
): Promise<{ data: CustomerJson[]; has_more: boolean }> {
	checkCursors(query, "customer");
	const created = createdIdBounds("customer", query);
	const { data: page, has_more } = await paginate(query, async (window): Promise<CustomerRow[]> => {
		const pageOf = (emailHash?: string) =>
			customerWindow(env.DB, owner, created, window, emailHash);
		if (query.email === undefined) return pageOf();
		// Rows not yet rotated carry a hash under an older key, or the legacy unkeyed one: one
		// bounded range on the email index per hash (an IN list would make SQLite pick the
		// merchant index and scan), merged in id order.
		const hashes = await lookupHashes(await emailKeyring(env), normalizeEmail(query.email));
		const pages = await Promise.all(hashes.map((h) => pageOf(h)));
		return pages
			.flat()
			.sort((a, b) => (a.id < b.id ? 1 : -1) * (window.order === "asc" ? -1 : 1))
			.slice(0, window.take);
	});
	const wallets =
		page.length === 0
			? []
			: await walletsOfCustomers(
					env.DB,
					page.map((r) => r.id),
				);
	const opened = await openEmails(env, page);
	return { data: opened.map((row) => toCustomerJson(row, wallets)), has_more };
}

/**
 * The customer a wallet signs in as: the one that holds the wallet at this merchant and mode
 * (its wallet now verified), or a new customer holding it, verified. Concurrent first sign-ins
 * with one wallet end with one customer: the unique index refuses the second, which then finds
 * the first.
 */
export async function customerForVerifiedWallet(
	env: Env,
	owner: Owner,
	address: string,
): Promise<string> {
	const now = nowSeconds();
	const verify = () => verifyWallet(env.DB, owner, address, now);
	const existing = await verify();
	if (existing) return existing;
	const id = newId("customer");
	try {
		await insertCustomer(
			env.DB,
			{
				id,
				merchantId: owner.merchantId,
				livemode: owner.livemode,
				email: null,
				emailHash: null,
				name: null,
				preferredToken: null,
				metadata: {},
				created: now,
				updated: now,
			},
			[
				{
					customerId: id,
					merchantId: owner.merchantId,
					livemode: owner.livemode,
					address,
					verifiedAt: now,
					addedAt: now,
				},
			],
		);
		return id;
	} catch (err) {
		if (!isWalletUniqueViolation(err)) throw err;
		const winner = await verify();
		if (!winner) throw err;
		return winner;
	}
}
