/** The one HTTP call price providers make: GET with a deadline, body read as text. */

export interface FetchTextOptions {
	fetch?: typeof fetch;
	timeoutMs?: number;
}

/** Quoting waits on price calls, so they must fail fast rather than hang a checkout. */
export const DEFAULT_PRICE_TIMEOUT_MS = 3_000;

/** A price provider could not be reached, answered non-200, or sent a body we cannot read. */
export class PriceFeedError extends Error {
	/** HTTP status when the provider answered with a non-200. */
	readonly status: number | undefined;

	constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "PriceFeedError";
		this.status = options.status;
	}
}

/** Returns the body of a 200 answer; anything else is a PriceFeedError naming `provider`. */
export async function fetchText(
	provider: string,
	url: string,
	opts: FetchTextOptions = {},
): Promise<string> {
	const timeoutMs = opts.timeoutMs ?? DEFAULT_PRICE_TIMEOUT_MS;
	const doFetch = opts.fetch ?? fetch;
	const signal = AbortSignal.timeout(timeoutMs);
	let status: number;
	let text: string;
	try {
		const res = await doFetch(url, { signal, headers: { accept: "application/json" } });
		status = res.status;
		// The deadline covers the body too: a server that stalls mid-body is as bad as none.
		text = await res.text();
	} catch (error) {
		if (signal.aborted) {
			throw new PriceFeedError(`${provider} did not answer within ${timeoutMs} ms`, {
				cause: error,
			});
		}
		const detail = error instanceof Error ? error.message : String(error);
		throw new PriceFeedError(`${provider} request failed: ${detail}`, { cause: error });
	}
	if (status !== 200) {
		const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
		throw new PriceFeedError(`${provider} answered ${status}: ${snippet.trim()}`, { status });
	}
	return text;
}
