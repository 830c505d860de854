import { createMiddleware } from "hono/factory";
import {
	claimIdempotencyKey,
	deleteIdempotencyKey,
	findIdempotencyKey,
	storeIdempotentResponse,
	takeOverLapsedIdempotencyLock,
} from "../db/idempotency-keys";
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

		const claimed = await claimIdempotencyKey(db, pk, {
			requestHash,
			lockedUntil: now + lock,
			now,
			expiresAt: now + ttl,
		});

		if (!claimed) {
			const stored = await findIdempotencyKey(db, pk);
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
			if (!(await takeOverLapsedIdempotencyLock(db, pk, now + lock, now))) {
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
				await storeIdempotentResponse(db, pk, status, responseBody);
				stored = true;
			}
		} finally {
			if (!stored) {
				await deleteIdempotencyKey(db, pk).catch(() => undefined);
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
