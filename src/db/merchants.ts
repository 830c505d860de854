// `merchants`: the merchants service's reads and writes, and the operator summary's names.
import { eq } from "drizzle-orm";
import type { MerchantSettings } from "../domain/merchant-settings";
import { createDb } from "./client";
import { apiKeys, merchants } from "./schema";

export type MerchantRecord = typeof merchants.$inferSelect;

/** Inserts a merchant and its first keys in one batch. */
export async function insertMerchantWithKeys(
	d1: D1Database,
	merchant: MerchantRecord,
	keys: (typeof apiKeys.$inferSelect)[],
): Promise<void> {
	const db = createDb(d1);
	await db.batch([db.insert(merchants).values(merchant), db.insert(apiKeys).values(keys)]);
}

export function merchantById(d1: D1Database, id: string): Promise<MerchantRecord | undefined> {
	return createDb(d1).query.merchants.findFirst({ where: eq(merchants.id, id) });
}

/** Sets the given fields of a merchant. */
export async function updateMerchantRow(
	d1: D1Database,
	id: string,
	changes: Partial<MerchantRecord>,
): Promise<void> {
	await createDb(d1).update(merchants).set(changes).where(eq(merchants.id, id));
}

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

/** A merchant's settings ({} for a merchant that does not exist). */
export async function merchantSettings(db: D1Database, id: string): Promise<MerchantSettings> {
	const merchant = await db
		.prepare("SELECT settings FROM merchants WHERE id = ?")
		.bind(id)
		.first<{ settings: string }>();
	return JSON.parse(merchant?.settings ?? "{}") as MerchantSettings;
}
