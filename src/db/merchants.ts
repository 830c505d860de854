// `merchants` queries outside the merchants service.

/** The names of the given merchants, by id (in chunks: D1 allows 100 parameters per statement). */
export async function merchantNames(db: D1Database, ids: string[]): Promise<Map<string, string>> {
	const names = new Map<string, string>();
	for (let i = 0; i < ids.length; i += 90) {
		const chunk = ids.slice(i, i + 90);
		const { results } = await db
			.prepare(`SELECT id, name FROM merchants WHERE id IN (${chunk.map(() => "?").join(", ")})`)
			.bind(...chunk)
			.all<{ id: string; name: string }>();
		for (const r of results) names.set(r.id, r.name);
	}
	return names;
}
