import { type Owner, ownerKey } from "../domain/owner";
import { log } from "./log";

/**
 * A merchant's rules (routing, risk) kept briefly in an isolate: payment creation reads them on
 * every payment and they change rarely. Only settled values are kept, never promises (a promise
 * started by one request must not be awaited by another: its I/O belongs to the first).
 */
export class RulesCache<T extends { version: number }> {
	private readonly entries = new Map<string, { record: T; expires: number }>();

	constructor(
		/** Names the rules in the log line written when D1 cannot be read. */
		private readonly name: string,
		private readonly ttlMs = 10_000,
		/** Bounds memory in an isolate that serves many merchants; the oldest entry goes first. */
		private readonly maxEntries = 1_000,
	) {}

	/**
	 * At most `ttlMs` old, and current at once after a replacement made in this isolate. When D1
	 * cannot be read, a stale copy is used rather than failing.
	 */
	async read(owner: Owner, load: () => Promise<T>): Promise<T> {
		const key = ownerKey(owner);
		const hit = this.entries.get(key);
		if (hit && hit.expires > Date.now()) return hit.record;
		try {
			const record = await load();
			this.remember(owner, record);
			return this.entries.get(key)?.record ?? record;
		} catch (err) {
			if (!hit) throw err;
			log("warn", `${this.name} unreadable; using the cached copy`, {
				merchant_id: owner.merchantId,
				livemode: owner.livemode,
				error: err instanceof Error ? err.message : String(err),
			});
			return hit.record;
		}
	}

	/** Keeps the newer of two versions, so a read that raced a replacement cannot bring it back. */
	remember(owner: Owner, record: T, now = Date.now()): void {
		const key = ownerKey(owner);
		const current = this.entries.get(key);
		if (current && current.record.version > record.version) return;
		this.entries.delete(key);
		this.entries.set(key, { record, expires: now + this.ttlMs });
		if (this.entries.size > this.maxEntries) {
			const oldest = this.entries.keys().next().value;
			if (oldest !== undefined) this.entries.delete(oldest);
		}
	}

	clear(): void {
		this.entries.clear();
	}
}
