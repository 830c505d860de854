// `customers` and `customer_wallets`: every query the customers service, the payment's chain
// watcher and the key rotation run on them.
import { and, eq, gte, inArray, lt, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Owner } from "../domain/owner";
import { createDb } from "./client";
import { idWindow, type PageWindow } from "./pagination";
import { customers, customerWallets } from "./schema";

export type CustomerRow = typeof customers.$inferSelect;
export type WalletRow = typeof customerWallets.$inferSelect;

function ownedBy(owner: Owner, id: string) {
	return and(
		eq(customers.id, id),
		eq(customers.merchantId, owner.merchantId),
		eq(customers.livemode, owner.livemode),
	);
}

/** Which of `addresses` are already held by a customer of this merchant and mode, and by whom. */
export function walletHolders(
	d1: D1Database,
	owner: Owner,
	addresses: string[],
): Promise<{ address: string; customerId: string }[]> {
	return createDb(d1)
		.select({ address: customerWallets.address, customerId: customerWallets.customerId })
		.from(customerWallets)
		.where(
			and(
				eq(customerWallets.merchantId, owner.merchantId),
				eq(customerWallets.livemode, owner.livemode),
				inArray(customerWallets.address, addresses),
			),
		);
}

/** Inserts a customer and its wallets in one batch. */
export async function insertCustomer(
	d1: D1Database,
	row: CustomerRow,
	wallets: WalletRow[],
): Promise<void> {
	const db = createDb(d1);
	await db.batch([
		db.insert(customers).values(row),
		...wallets.map((w) => db.insert(customerWallets).values(w)),
	]);
}

/** The owner's customer with this id, if any. */
export async function customerRow(
	d1: D1Database,
	owner: Owner,
	id: string,
): Promise<CustomerRow | undefined> {
	const [row] = await createDb(d1).select().from(customers).where(ownedBy(owner, id));
	return row;
}

/** One customer's wallets. */
export function walletsOfCustomer(d1: D1Database, customerId: string): Promise<WalletRow[]> {
	return createDb(d1)
		.select()
		.from(customerWallets)
		.where(eq(customerWallets.customerId, customerId));
}

/** The wallets of the given customers (a page of them). */
export function walletsOfCustomers(d1: D1Database, customerIds: string[]): Promise<WalletRow[]> {
	return createDb(d1)
		.select()
		.from(customerWallets)
		.where(inArray(customerWallets.customerId, customerIds));
}

/** Whether the owner has a customer with this id. */
export async function customerIdExists(d1: D1Database, owner: Owner, id: string): Promise<boolean> {
	const [row] = await createDb(d1)
		.select({ id: customers.id })
		.from(customers)
		.where(ownedBy(owner, id));
	return row !== undefined;
}

/**
 * Updates a customer's fields and, in the same batch, removes and adds wallets (`removed` and
 * `added` empty when the wallets are left alone).
 */
export async function updateCustomerRow(
	d1: D1Database,
	owner: Owner,
	id: string,
	changes: Partial<CustomerRow>,
	wallets: { removed: string[]; added: WalletRow[] },
): Promise<void> {
	const db = createDb(d1);
	const statements: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] = [
		db.update(customers).set(changes).where(ownedBy(owner, id)),
	];
	if (wallets.removed.length > 0) {
		statements.push(
			db
				.delete(customerWallets)
				.where(
					and(
						eq(customerWallets.customerId, id),
						inArray(customerWallets.address, wallets.removed),
					),
				),
		);
	}
	for (const wallet of wallets.added) statements.push(db.insert(customerWallets).values(wallet));
	await db.batch(statements);
}

/** Deletes a customer and its wallets in one batch. */
export async function deleteCustomerRow(d1: D1Database, owner: Owner, id: string): Promise<void> {
	const db = createDb(d1);
	await db.batch([
		db.delete(customerWallets).where(eq(customerWallets.customerId, id)),
		db.delete(customers).where(ownedBy(owner, id)),
	]);
}

/**
 * One window of the owner's customers on the (merchant, mode[, email hash], id) index: ids at or
 * above each of `created.lowest` and below each of `created.below`, with this email hash if given.
 */
export function customerWindow(
	d1: D1Database,
	owner: Owner,
	created: { lowest: string[]; below: string[] },
	window: PageWindow,
	emailHash?: string,
): Promise<CustomerRow[]> {
	const conditions: SQL[] = [
		eq(customers.merchantId, owner.merchantId),
		eq(customers.livemode, owner.livemode),
	];
	for (const id of created.lowest) conditions.push(gte(customers.id, id));
	for (const id of created.below) conditions.push(lt(customers.id, id));
	const { bounds, orderBy } = idWindow(customers.id, window);
	const extra = emailHash === undefined ? [] : [eq(customers.emailHash, emailHash)];
	return createDb(d1)
		.select()
		.from(customers)
		.where(and(...conditions, ...bounds, ...extra))
		.orderBy(orderBy)
		.limit(window.take);
}

/** Marks the owner's wallet verified (keeping an earlier time) and returns the customer holding it. */
export async function verifyWallet(
	d1: D1Database,
	owner: Owner,
	address: string,
	now: number,
): Promise<string | null> {
	const row = await d1
		.prepare(
			`UPDATE customer_wallets SET verified_at = COALESCE(verified_at, ?1)
			 WHERE merchant_id = ?2 AND livemode = ?3 AND address = ?4 RETURNING customer_id`,
		)
		.bind(now, owner.merchantId, owner.livemode ? 1 : 0, address)
		.first<{ customer_id: string }>();
	return row?.customer_id ?? null;
}

/** The customer of this merchant and mode that holds a wallet, if any (verified or not). */
export async function customerOwningWallet(
	d1: D1Database,
	merchantId: string,
	livemode: boolean,
	address: string,
): Promise<string | null> {
	const row = await d1
		.prepare(
			"SELECT customer_id FROM customer_wallets WHERE merchant_id = ? AND livemode = ? AND address = ?",
		)
		.bind(merchantId, livemode ? 1 : 0, address)
		.first<{ customer_id: string }>();
	return row?.customer_id ?? null;
}

/** Customers after `after` by id, with their sealed emails (the key rotation's walk). */
export async function customerEmailsAfter(
	db: D1Database,
	after: string,
	limit: number,
): Promise<{ id: string; email: string | null }[]> {
	const { results } = await db
		.prepare("SELECT id, email FROM customers WHERE id > ? ORDER BY id LIMIT ?")
		.bind(after, limit)
		.all<{ id: string; email: string | null }>();
	return results;
}

/** Replaces a customer's sealed email and its lookup hash, only if the email is still the one read. */
export function resealCustomerEmailStatement(
	db: D1Database,
	id: string,
	sealed: { email: string; emailHash: string },
	readEmail: string,
): D1PreparedStatement {
	return db
		.prepare("UPDATE customers SET email = ?, email_hash = ? WHERE id = ? AND email = ?")
		.bind(sealed.email, sealed.emailHash, id, readEmail);
}
