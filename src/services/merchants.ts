import { sha256Hex } from "../lib/crypto";
import { newId, randomBase62 } from "../lib/ids";

export interface MerchantJson {
	id: string;
	object: "merchant";
	name: string;
	email: string | null;
	metadata: Record<string, string>;
	created: number;
}

export interface ApiKeyJson {
	id: string;
	object: "api_key";
	type: "secret" | "publishable";
	livemode: boolean;
	/** The key with its middle hidden; the full key is returned only when it is created. */
	redacted: string;
	created: number;
	expires_at: number | null;
	revoked_at: number | null;
	rolled_to: string | null;
	last_used_at: number | null;
	secret?: string;
}

interface ApiKeyRow {
	id: string;
	merchant_id: string;
	type: "secret" | "publishable";
	livemode: number;
	prefix: string;
	last4: string;
	created: number;
	expires_at: number | null;
	revoked_at: number | null;
	rolled_to: string | null;
	last_used_at: number | null;
}

interface MerchantRow {
	id: string;
	name: string;
	email: string | null;
	metadata: string;
	created: number;
}

/** 32 base62 characters: about 190 bits, so a fast hash (SHA-256) is the right way to store them. */
const KEY_BODY_LENGTH = 32;
/** Longest grace period for a rolled key, as Stripe allows. */
export const MAX_ROLL_GRACE_SECONDS = 7 * 24 * 60 * 60;

const now = () => Math.floor(Date.now() / 1000);

function toMerchantJson(row: MerchantRow): MerchantJson {
	return {
		id: row.id,
		object: "merchant",
		name: row.name,
		email: row.email,
		metadata: JSON.parse(row.metadata) as Record<string, string>,
		created: row.created,
	};
}

function toKeyJson(row: ApiKeyRow, secret?: string): ApiKeyJson {
	return {
		id: row.id,
		object: "api_key",
		type: row.type,
		livemode: row.livemode === 1,
		redacted: `${row.prefix}…${row.last4}`,
		created: row.created,
		expires_at: row.expires_at,
		revoked_at: row.revoked_at,
		rolled_to: row.rolled_to,
		last_used_at: row.last_used_at,
		...(secret !== undefined ? { secret } : {}),
	};
}

async function mintKey(merchantId: string, type: "secret" | "publishable", livemode: boolean) {
	const secret = `${type === "secret" ? "sk" : "pk"}_${livemode ? "live" : "test"}_${randomBase62(KEY_BODY_LENGTH)}`;
	const row: ApiKeyRow = {
		id: newId("apiKey"),
		merchant_id: merchantId,
		type,
		livemode: livemode ? 1 : 0,
		prefix: secret.slice(0, secret.indexOf("_", 3) + 1),
		last4: secret.slice(-4),
		created: now(),
		expires_at: null,
		revoked_at: null,
		rolled_to: null,
		last_used_at: null,
	};
	return { row, secret, hash: await sha256Hex(secret) };
}

function insertKey(db: D1Database, key: Awaited<ReturnType<typeof mintKey>>) {
	const r = key.row;
	return db
		.prepare(
			`INSERT INTO api_keys (id, merchant_id, type, livemode, prefix, last4, hash, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(r.id, r.merchant_id, r.type, r.livemode, r.prefix, r.last4, key.hash, r.created);
}

/** Creates a merchant with secret and publishable keys for test and live mode, atomically. */
export async function createMerchant(
	db: D1Database,
	input: {
		name: string;
		email?: string | undefined;
		metadata?: Record<string, string> | undefined;
	},
): Promise<{ merchant: MerchantJson; keys: ApiKeyJson[] }> {
	const merchant: MerchantRow = {
		id: newId("merchant"),
		name: input.name,
		email: input.email ?? null,
		metadata: JSON.stringify(input.metadata ?? {}),
		created: now(),
	};
	const keys = await Promise.all(
		(
			[
				["secret", false],
				["publishable", false],
				["secret", true],
				["publishable", true],
			] as const
		).map(([type, live]) => mintKey(merchant.id, type, live)),
	);
	await db.batch([
		db
			.prepare("INSERT INTO merchants (id, name, email, metadata, created) VALUES (?, ?, ?, ?, ?)")
			.bind(merchant.id, merchant.name, merchant.email, merchant.metadata, merchant.created),
		...keys.map((k) => insertKey(db, k)),
	]);
	return { merchant: toMerchantJson(merchant), keys: keys.map((k) => toKeyJson(k.row, k.secret)) };
}

export async function getMerchant(db: D1Database, id: string): Promise<MerchantJson | null> {
	const row = await db
		.prepare("SELECT * FROM merchants WHERE id = ?")
		.bind(id)
		.first<MerchantRow>();
	return row ? toMerchantJson(row) : null;
}

export async function listKeys(db: D1Database, merchantId: string): Promise<ApiKeyJson[]> {
	const { results } = await db
		.prepare("SELECT * FROM api_keys WHERE merchant_id = ? ORDER BY id DESC")
		.bind(merchantId)
		.all<ApiKeyRow>();
	return results.map((r) => toKeyJson(r));
}

async function getKey(
	db: D1Database,
	merchantId: string,
	keyId: string,
): Promise<ApiKeyRow | null> {
	return db
		.prepare("SELECT * FROM api_keys WHERE id = ? AND merchant_id = ?")
		.bind(keyId, merchantId)
		.first<ApiKeyRow>();
}

export async function createKey(
	db: D1Database,
	merchantId: string,
	type: "secret" | "publishable",
	livemode: boolean,
): Promise<ApiKeyJson> {
	const key = await mintKey(merchantId, type, livemode);
	await insertKey(db, key).run();
	return toKeyJson(key.row, key.secret);
}

export type KeyChange<T> = { ok: true; value: T } | { ok: false; reason: "not_found" | "revoked" };

/**
 * Rolls a key: a new key of the same type and mode, while the old one keeps working for
 * `graceSeconds` (0 ends it at once). Both changes land in one batch.
 */
export async function rollKey(
	db: D1Database,
	merchantId: string,
	keyId: string,
	graceSeconds: number,
): Promise<KeyChange<{ key: ApiKeyJson; previous: ApiKeyJson }>> {
	const old = await getKey(db, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	if (old.revoked_at !== null) return { ok: false, reason: "revoked" };
	const fresh = await mintKey(merchantId, old.type, old.livemode === 1);
	const expiresAt = Math.min(old.expires_at ?? Number.MAX_SAFE_INTEGER, now() + graceSeconds);
	await db.batch([
		insertKey(db, fresh),
		db
			.prepare("UPDATE api_keys SET expires_at = ?, rolled_to = ? WHERE id = ?")
			.bind(expiresAt, fresh.row.id, old.id),
	]);
	return {
		ok: true,
		value: {
			key: toKeyJson(fresh.row, fresh.secret),
			previous: toKeyJson({ ...old, expires_at: expiresAt, rolled_to: fresh.row.id }),
		},
	};
}

export async function revokeKey(
	db: D1Database,
	merchantId: string,
	keyId: string,
): Promise<KeyChange<ApiKeyJson>> {
	const old = await getKey(db, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	const revokedAt = old.revoked_at ?? now();
	if (old.revoked_at === null) {
		await db
			.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?")
			.bind(revokedAt, keyId)
			.run();
	}
	return { ok: true, value: toKeyJson({ ...old, revoked_at: revokedAt }) };
}
