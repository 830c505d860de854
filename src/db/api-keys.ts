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
