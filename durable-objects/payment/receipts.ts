import type { ReceiptRow } from "../../src/domain/solana-receipts";

/**
 * The chain side of a PaymentObject's storage: every inflow a settlement watcher handed to the
 * payment, judged once (the id is `{signature}:{currency}`), with its payer and commitment.
 */
export const RECEIPTS_SCHEMA = `
	CREATE TABLE IF NOT EXISTS chain_receipts (
		id TEXT PRIMARY KEY, signature TEXT NOT NULL, currency TEXT NOT NULL, account TEXT NOT NULL,
		reference TEXT NOT NULL, amount TEXT NOT NULL, payer TEXT NOT NULL, slot INTEGER NOT NULL,
		block_time INTEGER, commitment TEXT NOT NULL, disposition TEXT NOT NULL, reason TEXT,
		found_at INTEGER NOT NULL, missing INTEGER NOT NULL DEFAULT 0, contributions TEXT);
`;

/** Objects created before receipts had `contributions` gain the column (once, on start). */
export function migrateReceipts(sql: SqlStorage): void {
	const columns = sql.exec<{ name: string }>("PRAGMA table_info(chain_receipts)").toArray();
	if (!columns.some((c) => c.name === "contributions")) {
		sql.exec("ALTER TABLE chain_receipts ADD COLUMN contributions TEXT");
	}
}

export function readReceipts(sql: SqlStorage): ReceiptRow[] {
	return sql
		.exec<Record<string, SqlStorageValue>>(
			`SELECT id, signature, currency, account, reference, amount, payer, slot, block_time,
			 commitment, disposition, reason, found_at, contributions FROM chain_receipts
			 ORDER BY slot, id`,
		)
		.toArray()
		.map(({ contributions, ...row }) => ({
			...(row as unknown as ReceiptRow),
			...(typeof contributions === "string"
				? { contributions: JSON.parse(contributions) as ReceiptRow["contributions"] }
				: {}),
		}));
}

export function readReceipt(sql: SqlStorage, id: string): ReceiptRow | null {
	return readReceipts(sql).find((r) => r.id === id) ?? null;
}

export function insertReceipt(sql: SqlStorage, row: ReceiptRow): void {
	sql.exec(
		`INSERT INTO chain_receipts (id, signature, currency, account, reference, amount, payer, slot,
		 block_time, commitment, disposition, reason, found_at, contributions)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row.id,
		row.signature,
		row.currency,
		row.account,
		row.reference,
		row.amount,
		row.payer,
		row.slot,
		row.block_time,
		row.commitment,
		row.disposition,
		row.reason,
		row.found_at,
		row.contributions ? JSON.stringify(row.contributions) : null,
	);
}

export function setReceiptCommitment(sql: SqlStorage, id: string, commitment: string): void {
	sql.exec("UPDATE chain_receipts SET commitment = ?, missing = 0 WHERE id = ?", commitment, id);
}

export function setReceiptDropped(sql: SqlStorage, id: string): void {
	sql.exec(
		"UPDATE chain_receipts SET disposition = 'dropped', reason = 'transaction_dropped' WHERE id = ?",
		id,
	);
}

/** Counts one more status check that did not find the receipt's transaction; returns the count. */
export function noteReceiptMissing(sql: SqlStorage, id: string): number {
	sql.exec("UPDATE chain_receipts SET missing = missing + 1 WHERE id = ?", id);
	return (
		sql
			.exec<{ missing: number }>("SELECT missing FROM chain_receipts WHERE id = ?", id)
			.toArray()[0]?.missing ?? 0
	);
}
