import { and, desc, eq } from "drizzle-orm";
import { createDb, type Database } from "../db/client";
import { apiKeys, type MerchantSettings, merchants } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import { newId, randomBase62 } from "../lib/ids";

export interface MerchantJson {
	id: string;
	object: "merchant";
	name: string;
	email: string | null;
	metadata: Record<string, string>;
	settings: MerchantSettings;
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

type ApiKeyRow = typeof apiKeys.$inferSelect;
type MerchantRow = typeof merchants.$inferSelect;

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
		metadata: row.metadata,
		settings: row.settings,
		created: row.created,
	};
}

function toKeyJson(row: ApiKeyRow, secret?: string): ApiKeyJson {
	return {
		id: row.id,
		object: "api_key",
		type: row.type,
		livemode: row.livemode,
		redacted: `${row.prefix}…${row.last4}`,
		created: row.created,
		expires_at: row.expiresAt,
		revoked_at: row.revokedAt,
		rolled_to: row.rolledTo,
		last_used_at: row.lastUsedAt,
		...(secret !== undefined ? { secret } : {}),
	};
}

async function mintKey(merchantId: string, type: "secret" | "publishable", livemode: boolean) {
	const secret = `${type === "secret" ? "sk" : "pk"}_${livemode ? "live" : "test"}_${randomBase62(KEY_BODY_LENGTH)}`;
	const row: ApiKeyRow = {
		id: newId("apiKey"),
		merchantId,
		type,
		livemode,
		prefix: secret.slice(0, secret.indexOf("_", 3) + 1),
		last4: secret.slice(-4),
		hash: await sha256Hex(secret),
		created: now(),
		expiresAt: null,
		revokedAt: null,
		rolledTo: null,
		lastUsedAt: null,
	};
	return { row, secret };
}

/** Creates a merchant with secret and publishable keys for test and live mode, atomically. */
export async function createMerchant(
	d1: D1Database,
	input: {
		name: string;
		email?: string | undefined;
		metadata?: Record<string, string> | undefined;
		settings?: MerchantSettings | undefined;
	},
): Promise<{ merchant: MerchantJson; keys: ApiKeyJson[] }> {
	const db = createDb(d1);
	const merchant: MerchantRow = {
		id: newId("merchant"),
		name: input.name,
		email: input.email ?? null,
		metadata: input.metadata ?? {},
		settings: input.settings ?? {},
		created: now(),
	};
	const modes = [
		["secret", false],
		["publishable", false],
		["secret", true],
		["publishable", true],
	] as const;
	const keys = await Promise.all(modes.map(([type, live]) => mintKey(merchant.id, type, live)));
	await db.batch([
		db.insert(merchants).values(merchant),
		db.insert(apiKeys).values(keys.map((k) => k.row)),
	]);
	return { merchant: toMerchantJson(merchant), keys: keys.map((k) => toKeyJson(k.row, k.secret)) };
}

export async function getMerchant(d1: D1Database, id: string): Promise<MerchantJson | null> {
	const row = await createDb(d1).query.merchants.findFirst({ where: eq(merchants.id, id) });
	return row ? toMerchantJson(row) : null;
}

/** Updates name, email, metadata or settings; fields not given keep their value. */
export async function updateMerchant(
	d1: D1Database,
	id: string,
	patch: {
		name?: string | undefined;
		email?: string | undefined;
		metadata?: Record<string, string> | undefined;
		settings?: MerchantSettings | undefined;
	},
): Promise<MerchantJson | null> {
	const db = createDb(d1);
	const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
	if (Object.keys(changes).length > 0)
		await db.update(merchants).set(changes).where(eq(merchants.id, id));
	return getMerchant(d1, id);
}

export async function listKeys(d1: D1Database, merchantId: string): Promise<ApiKeyJson[]> {
	const rows = await createDb(d1)
		.select()
		.from(apiKeys)
		.where(eq(apiKeys.merchantId, merchantId))
		.orderBy(desc(apiKeys.id));
	return rows.map((r) => toKeyJson(r));
}

async function getKey(
	db: Database,
	merchantId: string,
	keyId: string,
): Promise<ApiKeyRow | undefined> {
	return db.query.apiKeys.findFirst({
		where: and(eq(apiKeys.id, keyId), eq(apiKeys.merchantId, merchantId)),
	});
}

export async function createKey(
	d1: D1Database,
	merchantId: string,
	type: "secret" | "publishable",
	livemode: boolean,
): Promise<ApiKeyJson> {
	const key = await mintKey(merchantId, type, livemode);
	await createDb(d1).insert(apiKeys).values(key.row);
	return toKeyJson(key.row, key.secret);
}

export type KeyChange<T> = { ok: true; value: T } | { ok: false; reason: "not_found" | "revoked" };

/**
 * Rolls a key: a new key of the same type and mode, while the old one keeps working for
 * `graceSeconds` (0 ends it at once). Both changes land in one batch.
 */
export async function rollKey(
	d1: D1Database,
	merchantId: string,
	keyId: string,
	graceSeconds: number,
): Promise<KeyChange<{ key: ApiKeyJson; previous: ApiKeyJson }>> {
	const db = createDb(d1);
	const old = await getKey(db, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	if (old.revokedAt !== null) return { ok: false, reason: "revoked" };
	const fresh = await mintKey(merchantId, old.type, old.livemode);
	const expiresAt = Math.min(old.expiresAt ?? Number.MAX_SAFE_INTEGER, now() + graceSeconds);
	await db.batch([
		db.insert(apiKeys).values(fresh.row),
		db.update(apiKeys).set({ expiresAt, rolledTo: fresh.row.id }).where(eq(apiKeys.id, old.id)),
	]);
	return {
		ok: true,
		value: {
			key: toKeyJson(fresh.row, fresh.secret),
			previous: toKeyJson({ ...old, expiresAt, rolledTo: fresh.row.id }),
		},
	};
}

export async function revokeKey(
	d1: D1Database,
	merchantId: string,
	keyId: string,
): Promise<KeyChange<ApiKeyJson>> {
	const db = createDb(d1);
	const old = await getKey(db, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	const revokedAt = old.revokedAt ?? now();
	if (old.revokedAt === null) {
		await db.update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, keyId));
	}
	return { ok: true, value: toKeyJson({ ...old, revokedAt }) };
}
