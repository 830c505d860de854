import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { createMerchant, findKey, gatewayJson } from "../../../scripts/lib/gateway-api";

// For Node-side end-to-end files (queues, refunds, conversions, webhooks): the suite's one
// gateway and sandbox, a merchant of the file's own, and polling until the queues have done
// their work.

export interface StackMerchant {
	id: string;
	secretKey: string;
	/** Calls the API with the merchant's secret key: GET without a body, POST (idempotent) with one. */
	api<T>(path: string, body?: unknown): Promise<T>;
}

export function sharedStack() {
	const gatewayUrl = inject("gatewayUrl");
	const rpcUrl = inject("solanaRpcUrl");
	const stackLogPath = inject("stackLogPath");
	return {
		gatewayUrl,
		rpcUrl,
		stackLogPath,
		/** A new merchant of the shared gateway, made through the admin API. */
		async merchant(name: string): Promise<StackMerchant> {
			const created = await createMerchant(gatewayUrl, inject("adminToken"), { name });
			const secretKey = findKey(created.keys, "secret", false)?.secret;
			if (!secretKey) throw new Error("the new merchant has no test-mode secret key");
			return {
				id: created.merchant.id,
				secretKey,
				api: <T>(path: string, body?: unknown) =>
					gatewayJson(gatewayUrl, path, {
						token: secretKey,
						...(body === undefined
							? {}
							: { method: "POST", body, headers: { "idempotency-key": randomUUID() } }),
					}) as Promise<T>,
			};
		},
	};
}

/** Reads until `done` holds (queues and the chain work in the background), or fails naming `what`. */
export async function until<T>(
	what: string,
	read: () => Promise<T>,
	done: (v: T) => boolean,
	timeoutMs = 45_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}
