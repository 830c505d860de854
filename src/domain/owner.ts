/** Whose objects a request reads or changes: one merchant, in one mode (live or test). */
export interface Owner {
	merchantId: string;
	livemode: boolean;
}

/** Only the owner part of a caller (an API key, a session): nothing else reaches a query. */
export function ownerOf(caller: Owner): Owner {
	return { merchantId: caller.merchantId, livemode: caller.livemode };
}

/** `merchant:live|test`: names per-owner caches and Durable Objects (never change: it names stored objects). */
export function ownerKey(owner: Owner): string {
	return `${owner.merchantId}:${owner.livemode ? "live" : "test"}`;
}
