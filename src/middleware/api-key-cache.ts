// API key lookups cached per isolate for a few seconds: every /v1 request authenticates, and the
// key's row changes only when it is rolled or revoked. Only live keys are kept (an unknown or
// revoked key is looked up every time), expiry is judged per request from the cached row (a
// grace period ends on time), and any admin write in this isolate drops the whole cache, so a
// revocation through this isolate holds from its next request; other isolates see it within
// KEY_CACHE_TTL_MS.

import type { ApiKeyRow } from "../db/api-keys";

export type { ApiKeyRow };

export const KEY_CACHE_TTL_MS = 5_000;
const MAX_CACHED_KEYS = 1_000;

type Cache = Map<string, { row: ApiKeyRow; expires: number }>;

/**
 * One cache per environment object (the bindings the Worker is called with: one per isolate in
 * production), so rows read from one database are never served for another; entries by key hash,
 * never the key itself.
 */
let caches = new WeakMap<object, Cache>();

function cacheFor(env: object): Cache {
	let cache = caches.get(env);
	if (!cache) {
		cache = new Map();
		caches.set(env, cache);
	}
	return cache;
}

export function cachedApiKey(env: object, hash: string, now = Date.now()): ApiKeyRow | undefined {
	const cache = cacheFor(env);
	const hit = cache.get(hash);
	if (!hit) return undefined;
	if (hit.expires <= now) {
		cache.delete(hash);
		return undefined;
	}
	return hit.row;
}

export function rememberApiKey(env: object, hash: string, row: ApiKeyRow, now = Date.now()): void {
	if (row.revoked_at !== null) return;
	const cache = cacheFor(env);
	cache.delete(hash);
	cache.set(hash, { row, expires: now + KEY_CACHE_TTL_MS });
	if (cache.size > MAX_CACHED_KEYS) {
		const oldest = cache.keys().next().value;
		if (oldest !== undefined) cache.delete(oldest);
	}
}

/** Drops every cached key (admin writes: a roll or revocation must hold at once here). */
export function forgetApiKeys(): void {
	caches = new WeakMap();
}
