/**
 * The `meta` table a Durable Object keeps small counters and flags in (key → integer). Each object
 * creates the table with its own schema; a key never written reads as 0.
 */
export function readMeta(sql: SqlStorage, key: string): number {
	return sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v ?? 0;
}

export function writeMeta(sql: SqlStorage, key: string, value: number): void {
	sql.exec(
		"INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		key,
		value,
	);
}
