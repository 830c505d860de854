import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../lib/crypto";
import { EncryptionConfigError, encrypt, loadKeyring, openField } from "../lib/encryption";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../types";

export interface IdempotencyOptions {
	/** How long a completed response is replayed. Stripe keeps keys for at least 24 hours. */
	ttlSeconds?: number;
	/** How long a request holds its key; a crashed request's key is free again after this. */
	lockSeconds?: number;
}

interface StoredKey {
	request_hash: string;
	locked_until: number | null;
	response_status: number | null;
	response_body: string | null;
	expires_at: number;
}

/**
 * `Idempotency-Key` with Stripe's semantics: the first completed response (status and body) is
 * stored and replayed for the same key; the same key with other parameters is a 422; a request
 * racing one in flight is a 409. Requests that fail validation (400) or fail inside the gateway
 * (5xx) store nothing, so the client can retry them with the same key.
 */
export function idempotency(options: IdempotencyOptions = {}) {
	const ttl = options.ttlSeconds ?? 24 * 60 * 60;
	const lock = options.lockSeconds ?? 60;
	return createMiddleware<AppEnv>(async (c, next) => {
		const key = c.req.header("Idempotency-Key");
		if (c.req.method !== "POST" || key === undefined) return next();
		if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
			throw new ApiError(
				"parameter_invalid",
				"Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.",
				"Idempotency-Key",
			);
		}
		const db = c.env.DB;
		const owner = c.get("auth")?.merchantId ?? "admin";
		const livemode = c.get("auth")?.livemode ? 1 : 0;
		const body = await c.req.text();
		const requestHash = await sha256Hex(`${c.req.method} ${c.req.path}\n${body}`);
		const now = Math.floor(Date.now() / 1000);
		const pk = [owner, livemode, key] as const;

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
			.bind(...pk, requestHash, now + lock, now, now + ttl)
			.run();

		if (claimed.meta.changes !== 1) {
			const stored = await db
				.prepare(
					`SELECT request_hash, locked_until, response_status, response_body, expires_at
					 FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?`,
				)
				.bind(...pk)
				.first<StoredKey>();
			if (!stored) return retryAfterRace();
			if (stored.request_hash !== requestHash) {
				throw new ApiError(
					"idempotency_key_mismatch",
					"Keys for idempotent requests can only be used with the same parameters they were first used with. Use a new Idempotency-Key for a different request.",
					"Idempotency-Key",
				);
			}
			if (stored.response_status !== null) {
				const replayed =
					stored.response_body === null
						? null
						: await openField(
								await loadKeyring(c.env.ENCRYPTION_KEYS),
								stored.response_body,
								responseAad(...pk),
							).catch((error: unknown) => {
								// Plaintext from before encryption, or from a gateway without keys.
								if (error instanceof EncryptionConfigError) return stored.response_body;
								throw error;
							});
				return new Response(replayed, {
					status: stored.response_status,
					headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true" },
				});
			}
			// In flight, unless its holder died: then take the lapsed lock over.
			const takeover = await db
				.prepare(
					`UPDATE idempotency_keys SET locked_until = ?4
					 WHERE merchant_id = ?1 AND livemode = ?2 AND key = ?3
					   AND response_status IS NULL AND locked_until <= ?5`,
				)
				.bind(...pk, now + lock, now)
				.run();
			if (takeover.meta.changes !== 1) {
				throw new ApiError(
					"idempotency_key_in_use",
					"There is currently another in-progress request using this Idempotency-Key. Retry after it completes.",
					"Idempotency-Key",
				);
			}
		}

		let stored = false;
		try {
			await next();
			const status = c.res.status;
			if (status !== 400 && status < 500) {
				const responseBody = await sealResponse(
					c.env.ENCRYPTION_KEYS,
					withoutSecrets(await c.res.clone().text()),
					responseAad(...pk),
				);
				await db
					.prepare(
						`UPDATE idempotency_keys SET response_status = ?, response_body = ?, locked_until = NULL
						 WHERE merchant_id = ? AND livemode = ? AND key = ?`,
					)
					.bind(status, responseBody, ...pk)
					.run();
				stored = true;
			}
		} finally {
			if (!stored) {
				await db
					.prepare(
						"DELETE FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?",
					)
					.bind(...pk)
					.run()
					.catch(() => undefined);
			}
		}
		return undefined;

		function retryAfterRace(): never {
			throw new ApiError(
				"idempotency_key_in_use",
				"Another request with this Idempotency-Key finished a moment ago. Retry the request.",
				"Idempotency-Key",
			);
		}
	});
}

/** Binds a stored response to its key: it does not open as another key's response. */
export function responseAad(owner: string, livemode: number, key: string): string {
	return `idempotency:${owner}:${livemode}:${key}`;
}

/**
 * Stored responses hold what the API returned (a customer's email, for one), so they are sealed
 * like other data at rest when ENCRYPTION_KEYS is set; without it (local runs) they stay plain.
 */
async function sealResponse(keys: string | undefined, body: string, aad: string): Promise<string> {
	try {
		return await encrypt(await loadKeyring(keys), body, aad);
	} catch (error) {
		if (error instanceof EncryptionConfigError) return body;
		throw error;
	}
}

/**
 * API key secrets are shown once and stored only as hashes, so a stored response drops every
 * `secret` field: a replay of a key-minting request returns the same objects without them.
 */
function withoutSecrets(body: string): string {
	if (!body.includes('"secret"')) return body;
	try {
		return JSON.stringify(JSON.parse(body, (key, value) => (key === "secret" ? undefined : value)));
	} catch {
		return body;
	}
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
