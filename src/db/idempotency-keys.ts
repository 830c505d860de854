// The `idempotency_keys` table, shared by the API's Idempotency-Key (src/middleware/idempotency.ts)
// and the dashboard's one-time form tokens (src/dashboard/form-once.ts). A key is named by its
// owner (merchant id, or "admin"), mode (0/1) and the key itself.

export type IdempotencyKeyId = readonly [owner: string, livemode: number, key: string];

export interface StoredIdempotencyKey {
	request_hash: string;
	locked_until: number | null;
	response_status: number | null;
	response_body: string | null;
	expires_at: number;
}

/**
 * Claims the key for a request: inserted, or taken over when the stored one has expired (its
 * response forgotten). True when this request holds the key.
 */
export async function claimIdempotencyKey(
	db: D1Database,
	pk: IdempotencyKeyId,
	claim: { requestHash: string; lockedUntil: number; now: number; expiresAt: number },
): Promise<boolean> {
	const claimed = await db
		.prepare(
			`INSERT INTO idempotency_keys (merchant_id, livemode, key, request_hash, locked_until, created, expires_at)
			 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
			 ON CONFLICT (merchant_id, livemode, key) DO UPDATE SET
			   request_hash = excluded.request_hash, locked_until = excluded.locked_until,
			   response_status = NULL, response_body = NULL,
			   created = excluded.created, expires_at = excluded.expires_at
			 WHERE idempotency_keys.expires_at <= ?6`,
		)
		.bind(...pk, claim.requestHash, claim.lockedUntil, claim.now, claim.expiresAt)
		.run();
	return claimed.meta.changes === 1;
}

export async function findIdempotencyKey(
	db: D1Database,
	pk: IdempotencyKeyId,
): Promise<StoredIdempotencyKey | null> {
	return db
		.prepare(
			`SELECT request_hash, locked_until, response_status, response_body, expires_at
			 FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?`,
		)
		.bind(...pk)
		.first<StoredIdempotencyKey>();
}

/** Takes over the lock of a request that has no response and whose lock has lapsed. */
export async function takeOverLapsedIdempotencyLock(
	db: D1Database,
	pk: IdempotencyKeyId,
	lockedUntil: number,
	now: number,
): Promise<boolean> {
	const takeover = await db
		.prepare(
			`UPDATE idempotency_keys SET locked_until = ?4
			 WHERE merchant_id = ?1 AND livemode = ?2 AND key = ?3
			   AND response_status IS NULL AND locked_until <= ?5`,
		)
		.bind(...pk, lockedUntil, now)
		.run();
	return takeover.meta.changes === 1;
}

/** Stores the response to replay and releases the lock. */
export async function storeIdempotentResponse(
	db: D1Database,
	pk: IdempotencyKeyId,
	status: number,
	body: string,
): Promise<void> {
	await db
		.prepare(
			`UPDATE idempotency_keys SET response_status = ?, response_body = ?, locked_until = NULL
			 WHERE merchant_id = ? AND livemode = ? AND key = ?`,
		)
		.bind(status, body, ...pk)
		.run();
}

export async function deleteIdempotencyKey(db: D1Database, pk: IdempotencyKeyId): Promise<void> {
	await db
		.prepare("DELETE FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?")
		.bind(...pk)
		.run();
}

/** Deletes expired keys in bounded batches (called by the cron trigger). */
export async function purgeExpiredIdempotencyKeys(
	db: D1Database,
	now: number,
	batch = 1000,
): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM idempotency_keys WHERE rowid IN
			   (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)`,
		)
		.bind(now, batch)
		.run();
	return result.meta.changes;
}

// A dashboard form token: the key is never taken over once expired (a form is not resent a day
// later), only a lapsed lock of the same request is, and the response is the id created.

/** Claims a form token: inserted, or its lapsed lock taken over by the same request. */
export async function claimFormToken(
	db: D1Database,
	pk: IdempotencyKeyId,
	claim: { requestHash: string; lockedUntil: number; now: number; expiresAt: number },
): Promise<boolean> {
	const claimed = await db
		.prepare(
			`INSERT INTO idempotency_keys (merchant_id, livemode, key, request_hash, locked_until, created, expires_at)
			 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
			 ON CONFLICT (merchant_id, livemode, key) DO UPDATE SET locked_until = excluded.locked_until
			 WHERE idempotency_keys.response_status IS NULL AND idempotency_keys.locked_until <= ?6
			   AND idempotency_keys.request_hash = excluded.request_hash`,
		)
		.bind(...pk, claim.requestHash, claim.lockedUntil, claim.now, claim.expiresAt)
		.run();
	return claimed.meta.changes === 1;
}

export async function findFormToken(
	db: D1Database,
	pk: IdempotencyKeyId,
): Promise<Pick<
	StoredIdempotencyKey,
	"request_hash" | "response_status" | "response_body"
> | null> {
	return db
		.prepare(
			"SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?",
		)
		.bind(...pk)
		.first();
}

/** Records the id the form created (replayed for a repeat) and releases the lock. */
export async function completeFormToken(
	db: D1Database,
	pk: IdempotencyKeyId,
	createdId: string,
): Promise<void> {
	await db
		.prepare(
			"UPDATE idempotency_keys SET response_status = 200, response_body = ?, locked_until = NULL WHERE merchant_id = ? AND livemode = ? AND key = ?",
		)
		.bind(createdId, ...pk)
		.run();
}

/** Stored responses after `afterRowid` (the key rotation walks them by rowid: the key is composite). */
export async function storedResponsesAfter(
	db: D1Database,
	afterRowid: number,
	limit: number,
): Promise<
	{ id: number; merchant_id: string; livemode: number; key: string; response_body: string | null }[]
> {
	const { results } = await db
		.prepare(
			`SELECT rowid AS id, merchant_id, livemode, key, response_body FROM idempotency_keys
			 WHERE rowid > ? ORDER BY rowid LIMIT ?`,
		)
		.bind(afterRowid, limit)
		.all<{
			id: number;
			merchant_id: string;
			livemode: number;
			key: string;
			response_body: string | null;
		}>();
	return results;
}

/** Replaces a stored response with its resealed form, only if it is still the one read. */
export function resealStoredResponseStatement(
	db: D1Database,
	rowid: number,
	sealed: string,
	read: string,
): D1PreparedStatement {
	return db
		.prepare("UPDATE idempotency_keys SET response_body = ? WHERE rowid = ? AND response_body = ?")
		.bind(sealed, rowid, read);
}
