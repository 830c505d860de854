import { and, desc, eq } from "drizzle-orm";
import { createDb } from "./client";
import { apiKeys } from "./schema";

/** An `api_keys` row as key authentication reads it. */
export interface ApiKeyRow {
	id: string;
	merchant_id: string;
	type: "secret" | "publishable";
	livemode: number;
	expires_at: number | null;
	revoked_at: number | null;
	last_used_at: number | null;
}

/** The key stored under this hash (every /v1 request looks its key up here, or in the cache). */
export async function findApiKeyByHash(db: D1Database, hash: string): Promise<ApiKeyRow | null> {
	return db
		.prepare(
			`SELECT id, merchant_id, type, livemode, expires_at, revoked_at, last_used_at FROM api_keys WHERE hash = ?`,
		)
		.bind(hash)
		.first<ApiKeyRow>();
}

/** Records that the key was used at `now` (seconds). */
export async function touchApiKeyLastUsed(db: D1Database, id: string, now: number): Promise<void> {
	await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, id).run();
}

/** The key stored under this hash, as the dashboard's key sign-in checks it. */
export async function findApiKeyForSignIn(
	db: D1Database,
	hash: string,
): Promise<(Omit<ApiKeyRow, "type" | "last_used_at"> & { type: string }) | null> {
	return db
		.prepare(
			"SELECT id, merchant_id, type, livemode, expires_at, revoked_at FROM api_keys WHERE hash = ?",
		)
		.bind(hash)
		.first();
}

/** A key as the merchants service reads and writes it (drizzle's mapping of the row). */
export type ApiKeyRecord = typeof apiKeys.$inferSelect;

/** The merchant's keys, newest first. */
export function apiKeysOfMerchant(d1: D1Database, merchantId: string): Promise<ApiKeyRecord[]> {
	return createDb(d1)
		.select()
		.from(apiKeys)
		.where(eq(apiKeys.merchantId, merchantId))
		.orderBy(desc(apiKeys.id));
}

/** The merchant's key with this id, if any. */
export function apiKeyOfMerchant(
	d1: D1Database,
	merchantId: string,
	keyId: string,
): Promise<ApiKeyRecord | undefined> {
	return createDb(d1).query.apiKeys.findFirst({
		where: and(eq(apiKeys.id, keyId), eq(apiKeys.merchantId, merchantId)),
	});
}

export async function insertApiKey(d1: D1Database, row: ApiKeyRecord): Promise<void> {
	await createDb(d1).insert(apiKeys).values(row);
}

export async function revokeApiKey(
	d1: D1Database,
	keyId: string,
	revokedAt: number,
): Promise<void> {
	await createDb(d1).update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, keyId));
}

/**
 * Rolls key `oldId` to `row` in one batch (a transaction): the old key is claimed only while
 * `rolled_to` is still null (and it is neither revoked nor expired at `at`), its grace ending at
 * `until`, and `row` is inserted only if that claim names it. False when the claim failed.
 */
export async function claimRollAndInsertKey(
	d1: D1Database,
	oldId: string,
	row: ApiKeyRecord,
	until: number,
	at: number,
): Promise<boolean> {
	const [claimed] = await d1.batch([
		d1
			.prepare(
				`UPDATE api_keys SET rolled_to = ?1, expires_at = MIN(COALESCE(expires_at, ?2), ?2)
				 WHERE id = ?3 AND merchant_id = ?4 AND rolled_to IS NULL AND revoked_at IS NULL
				   AND (expires_at IS NULL OR expires_at > ?5)`,
			)
			.bind(row.id, until, oldId, row.merchantId, at),
		d1
			.prepare(
				`INSERT INTO api_keys (id, merchant_id, type, livemode, prefix, last4, hash, created)
				 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
				 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?9 AND rolled_to = ?1)`,
			)
			.bind(
				row.id,
				row.merchantId,
				row.type,
				row.livemode ? 1 : 0,
				row.prefix,
				row.last4,
				row.hash,
				row.created,
				oldId,
			),
	]);
	return Boolean(claimed?.meta.changes);
}
