/** Nearest-rank quantile of sorted values: always an observed value, never an interpolation. */
export function quantile(sorted: number[], q: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.max(1, Math.ceil(q * sorted.length));
	return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export interface Summary {
	n: number;
	min: number;
	median: number;
	p95: number;
	max: number;
	mean: number;
}

export function summarize(values: number[]): Summary {
	const sorted = [...values].sort((a, b) => a - b);
	const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
	return {
		n: sorted.length,
		min: sorted[0] ?? Number.NaN,
		median: quantile(sorted, 0.5),
		p95: quantile(sorted, 0.95),
		max: sorted.at(-1) ?? Number.NaN,
		mean: Math.round(mean * 10) / 10,
	};
}

/** Runs `task` over `items` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(
	items: T[],
	limit: number,
	task: (item: T) => Promise<R>,
): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			results[i] = await task(items[i] as T);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}
