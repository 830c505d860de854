import {
	type ApiKeyRecord,
	apiKeyOfMerchant,
	apiKeysOfMerchant,
	claimRollAndInsertKey,
	insertApiKey,
	revokeApiKey,
} from "../db/api-keys";
import {
	insertMerchantWithKeys,
	type MerchantRecord,
	merchantById,
	updateMerchantRow,
} from "../db/merchants";
import { newId, randomBase62 } from "../domain/ids";
import type { MerchantSettings } from "../domain/merchant-settings";

import { sha256Hex } from "../lib/crypto";

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

/** 32 base62 characters: about 190 bits, so a fast hash (SHA-256) is the right way to store them. */
const KEY_BODY_LENGTH = 32;
/** Longest grace period for a rolled key, as Stripe allows. */
export const MAX_ROLL_GRACE_SECONDS = 7 * 24 * 60 * 60;

const now = () => Math.floor(Date.now() / 1000);

function toMerchantJson(row: MerchantRecord): MerchantJson {
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

function toKeyJson(row: ApiKeyRecord, secret?: string): ApiKeyJson {
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
	const row: ApiKeyRecord = {
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
	const merchant: MerchantRecord = {
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
	await insertMerchantWithKeys(
		d1,
		merchant,
		keys.map((k) => k.row),
	);
	return { merchant: toMerchantJson(merchant), keys: keys.map((k) => toKeyJson(k.row, k.secret)) };
}

export async function getMerchant(d1: D1Database, id: string): Promise<MerchantJson | null> {
	const row = await merchantById(d1, id);
	return row ? toMerchantJson(row) : null;
}

/** What the merchant does with funds by a second method (MerchantSettings.extra_funds). */
export async function extraFundsAction(d1: D1Database, id: string): Promise<"refund" | "hold"> {
	const merchant = await getMerchant(d1, id);
	return merchant?.settings.extra_funds === "hold" ? "hold" : "refund";
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
	const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
	if (Object.keys(changes).length > 0) await updateMerchantRow(d1, id, changes);
	return getMerchant(d1, id);
}

export async function listKeys(d1: D1Database, merchantId: string): Promise<ApiKeyJson[]> {
	const rows = await apiKeysOfMerchant(d1, merchantId);
	return rows.map((r) => toKeyJson(r));
}

export async function createKey(
	d1: D1Database,
	merchantId: string,
	type: "secret" | "publishable",
	livemode: boolean,
): Promise<ApiKeyJson> {
	const key = await mintKey(merchantId, type, livemode);
	await insertApiKey(d1, key.row);
	return toKeyJson(key.row, key.secret);
}

export type KeyChange<T> =
	| { ok: true; value: T }
	| { ok: false; reason: "not_found" | "revoked" | "expired" }
	| { ok: false; reason: "already_rolled"; rolled_to: string };

/**
 * Rolls a key: a new key of the same type and mode, while the old one keeps working for
 * `graceSeconds` (0 ends it at once). A key has at most one successor: one already rolled (or
 * expired, or revoked) is refused. The database enforces it, so two rolls racing mint one key:
 * in one batch (a transaction) the old row is claimed only while `rolled_to` is still null, and
 * the new key is inserted only if that claim names it.
 */
export async function rollKey(
	d1: D1Database,
	merchantId: string,
	keyId: string,
	graceSeconds: number,
): Promise<KeyChange<{ key: ApiKeyJson; previous: ApiKeyJson }>> {
	const old = await apiKeyOfMerchant(d1, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	const refused = whyNotRollable(old);
	if (refused) return refused;
	const fresh = await mintKey(merchantId, old.type, old.livemode);
	const at = now();
	const until = at + graceSeconds;
	const row = fresh.row;
	const claimed = await claimRollAndInsertKey(d1, old.id, row, until, at);
	if (!claimed) {
		// Another roll (or a revocation) got there first: say which.
		const current = await apiKeyOfMerchant(d1, merchantId, keyId);
		return (current && whyNotRollable(current)) ?? { ok: false, reason: "not_found" };
	}
	const expiresAt = Math.min(old.expiresAt ?? Number.MAX_SAFE_INTEGER, until);
	return {
		ok: true,
		value: {
			key: toKeyJson(row, fresh.secret),
			previous: toKeyJson({ ...old, expiresAt, rolledTo: row.id }),
		},
	};
}

/** Why a key cannot be rolled, or null when it can. */
function whyNotRollable(key: ApiKeyRecord): Exclude<KeyChange<never>, { ok: true }> | null {
	if (key.revokedAt !== null) return { ok: false, reason: "revoked" };
	if (key.rolledTo !== null)
		return { ok: false, reason: "already_rolled", rolled_to: key.rolledTo };
	if (key.expiresAt !== null && key.expiresAt <= now()) return { ok: false, reason: "expired" };
	return null;
}

/** The house wording for a key change that was refused (409 `resource_conflict`). */
export function keyChangeRefusal(
	change: Extract<KeyChange<unknown>, { ok: false }>,
	keyId: string,
): string {
	if (change.reason === "already_rolled") {
		return `The API key '${keyId}' was already rolled to '${change.rolled_to}'; a key is rolled once. Roll '${change.rolled_to}' instead, or revoke '${keyId}' to end its grace period now.`;
	}
	return `The API key '${keyId}' ${change.reason === "revoked" ? "is revoked" : "has expired"} and cannot be rolled.`;
}

export async function revokeKey(
	d1: D1Database,
	merchantId: string,
	keyId: string,
): Promise<KeyChange<ApiKeyJson>> {
	const old = await apiKeyOfMerchant(d1, merchantId, keyId);
	if (!old) return { ok: false, reason: "not_found" };
	const revokedAt = old.revokedAt ?? now();
	if (old.revokedAt === null) await revokeApiKey(d1, keyId, revokedAt);
	return { ok: true, value: toKeyJson({ ...old, revokedAt }) };
}
