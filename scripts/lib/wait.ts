import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForUrlOptions {
	/** Total budget; the wait fails after it. */
	timeoutMs: number;
	intervalMs?: number;
	/** Aborts the wait early, e.g. when the process being waited on has exited. */
	signal?: AbortSignal;
	/** Defaults to HTTP 200. */
	isReady?: (status: number) => boolean;
}

function describe(error: unknown): string {
	if (!(error instanceof Error)) return String(error);
	const cause = (error as { cause?: { code?: string; message?: string } }).cause;
	return cause?.code ?? cause?.message ?? error.message;
}

/** Polls `url` until it answers ready, within a bounded time budget. */
export async function waitForUrl(url: string, options: WaitForUrlOptions): Promise<void> {
	const interval = options.intervalMs ?? 100;
	const isReady = options.isReady ?? ((status) => status === 200);
	const deadline = Date.now() + options.timeoutMs;
	let last = "no response";
	for (;;) {
		options.signal?.throwIfAborted();
		const remaining = deadline - Date.now();
		// A server that accepts but never answers must not eat the whole budget in one attempt.
		const attemptTimeout = AbortSignal.timeout(Math.max(1, Math.min(2_000, remaining)));
		const signal = options.signal
			? AbortSignal.any([options.signal, attemptTimeout])
			: attemptTimeout;
		try {
			const res = await fetch(url, { signal });
			await res.body?.cancel();
			if (isReady(res.status)) return;
			last = `HTTP ${res.status}`;
		} catch (error) {
			options.signal?.throwIfAborted();
			last = describe(error);
		}
		if (Date.now() + interval > deadline) {
			throw new Error(`${url} was not ready within ${options.timeoutMs / 1000}s (last: ${last})`);
		}
		await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined);
	}
}
