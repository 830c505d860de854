import { StripeApiError } from "./errors.js";

// Stripe's idempotent requests: the first response to a POST with an `Idempotency-Key` (status
// and body, errors included once the endpoint started running) is kept for 24 hours and replayed
// for the same key; the same key with other parameters, or on another endpoint, is a 400
// `idempotency_error`. Keys are scoped to the API key that sent them (Stripe scopes by account).

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredResponse {
	endpoint: string;
	fingerprint: string;
	status: number;
	body: string;
	requestId: string;
	storedAt: number;
}

export class IdempotencyCache {
	private readonly entries = new Map<string, StoredResponse>();

	constructor(private readonly now: () => number) {}

	/** The stored response to replay, or undefined to run the request; throws on misuse. */
	lookup(
		scope: string,
		key: string,
		endpoint: string,
		fingerprint: string,
	): StoredResponse | undefined {
		if (key.length > 255) {
			throw new StripeApiError(400, {
				type: "invalid_request_error",
				message: `Invalid idempotency key: '${key.slice(0, 20)}…'. Idempotency keys can be no longer than 255 characters.`,
			});
		}
		this.prune();
		const stored = this.entries.get(`${scope}\n${key}`);
		if (!stored) return undefined;
		if (stored.endpoint !== endpoint) {
			throw new StripeApiError(400, {
				type: "idempotency_error",
				message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${stored.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
			});
		}
		if (stored.fingerprint !== fingerprint) {
			throw new StripeApiError(400, {
				type: "idempotency_error",
				message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
			});
		}
		return stored;
	}

	save(scope: string, key: string, response: Omit<StoredResponse, "storedAt">): void {
		this.entries.set(`${scope}\n${key}`, { ...response, storedAt: this.now() });
	}

	clear(): void {
		this.entries.clear();
	}

	private prune(): void {
		const cutoff = this.now() - IDEMPOTENCY_TTL_MS;
		// Insertion order is storage order (a key is only saved after it was missing), so the
		// expired entries are a prefix.
		for (const [key, entry] of this.entries) {
			if (entry.storedAt > cutoff) break;
			this.entries.delete(key);
		}
	}
}
