// A minimal JSON-RPC caller for tests (the sandbox's own and the gateway's): plain fetch,
// numbers stay numbers, and errors come back as data rather than client-library exceptions.

export interface SolanaRpcError {
	code: number;
	message: string;
	data?: unknown;
}

export class SolanaRpcCallError extends Error {
	constructor(
		readonly method: string,
		readonly error: SolanaRpcError,
	) {
		super(`${method}: ${error.message} (${error.code})`);
		this.name = "SolanaRpcCallError";
	}
}

export interface SolanaTestRpc {
	/** The result; throws SolanaRpcCallError on a JSON-RPC error, Error on a non-200 answer. */
	call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
	/** The JSON-RPC error; throws if the call succeeded. */
	error(method: string, params?: unknown[]): Promise<SolanaRpcError>;
}

export function solanaTestRpc(url: string): SolanaTestRpc {
	let id = 0;
	const send = async (method: string, params: unknown[]) => {
		const res = await fetch(url, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
		});
		const text = await res.text();
		if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status} ${text}`);
		return JSON.parse(text) as { result?: unknown; error?: SolanaRpcError };
	};
	return {
		async call<T>(method: string, params: unknown[] = []) {
			const body = await send(method, params);
			if (body.error) throw new SolanaRpcCallError(method, body.error);
			return body.result as T;
		},
		async error(method: string, params: unknown[] = []) {
			const body = await send(method, params);
			if (!body.error) throw new Error(`${method} unexpectedly succeeded`);
			return body.error;
		},
	};
}
