import {
	accounts,
	LedgerError,
	type Transfer,
	transferFingerprint,
	validateTransfer,
} from "../domain/ledger";
import { sha256Hex } from "../lib/crypto";

/**
 * Statements that record a transfer exactly once. The transfer row is inserted or ignored by id;
 * postings are inserted only while the stored transfer has the same fingerprint, so replaying an
 * id changes nothing and a replay with other content posts nothing (and is reported by
 * `postTransfer`). Amounts are bound as decimal text and stored as 64-bit integers.
 */
export async function transferStatements(
	db: D1Database,
	transfer: Transfer,
): Promise<D1PreparedStatement[]> {
	validateTransfer(transfer);
	const fingerprint = await sha256Hex(transferFingerprint(transfer));
	const statements = [
		db
			.prepare(
				"INSERT OR IGNORE INTO ledger_transfers (id, kind, reference, livemode, fingerprint, created) VALUES (?, ?, ?, ?, ?, ?)",
			)
			.bind(
				transfer.id,
				transfer.kind,
				transfer.reference,
				transfer.livemode ? 1 : 0,
				fingerprint,
				transfer.created,
			),
	];
	transfer.postings.forEach((p, seq) => {
		statements.push(
			db
				.prepare(
					`INSERT OR IGNORE INTO ledger_postings (transfer_id, seq, account, currency, amount, created)
					 SELECT ?1, ?2, ?3, ?4, CAST(?5 AS INTEGER), ?6
					 WHERE EXISTS (SELECT 1 FROM ledger_transfers WHERE id = ?1 AND fingerprint = ?7)`,
				)
				.bind(
					transfer.id,
					seq,
					p.account,
					p.currency,
					p.amount.toString(),
					transfer.created,
					fingerprint,
				),
		);
	});
	return statements;
}

export type PostResult = "posted" | "replayed";

/** Records a transfer atomically. Throws LedgerError when the id exists with other content. */
export async function postTransfer(db: D1Database, transfer: Transfer): Promise<PostResult> {
	const statements = await transferStatements(db, transfer);
	const results = await db.batch(statements);
	if ((results[0]?.meta.changes ?? 0) === 1) return "posted";
	const fingerprint = await sha256Hex(transferFingerprint(transfer));
	const stored = await db
		.prepare("SELECT fingerprint FROM ledger_transfers WHERE id = ?")
		.bind(transfer.id)
		.first<{ fingerprint: string }>();
	if (stored?.fingerprint !== fingerprint) {
		throw new LedgerError(`Transfer ${transfer.id} already exists with different content`);
	}
	return "replayed";
}

export interface AccountBalance {
	account: string;
	currency: string;
	balance: bigint;
}

/** Balances of every account whose name starts with `prefix` (an index range on the primary key). */
export async function balancesByPrefix(db: D1Database, prefix: string): Promise<AccountBalance[]> {
	// ';' is the character after ':', so [prefix, prefix-with-';') is exactly the prefix range.
	const upper = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
	const { results } = await db
		.prepare(
			"SELECT account, currency, CAST(balance AS TEXT) AS balance FROM ledger_balances WHERE account >= ? AND account < ? ORDER BY account",
		)
		.bind(prefix, upper)
		.all<{ account: string; currency: string; balance: string }>();
	return results.map((r) => ({
		account: r.account,
		currency: r.currency,
		balance: BigInt(r.balance),
	}));
}

export interface MerchantBalance {
	available: { currency: string; amount: bigint }[];
	pending: { currency: string; amount: bigint }[];
}

export async function merchantBalance(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
): Promise<MerchantBalance> {
	const rows = await balancesByPrefix(db, accounts.merchantPrefix(merchantId, livemode));
	const out: MerchantBalance = { available: [], pending: [] };
	for (const row of rows) {
		const bucket = row.account.endsWith(":available")
			? out.available
			: row.account.endsWith(":pending")
				? out.pending
				: undefined;
		bucket?.push({ currency: row.currency, amount: row.balance });
	}
	return out;
}

/** Sum of all postings per currency; zero everywhere when the ledger balances. */
export async function ledgerTotals(db: D1Database): Promise<Map<string, bigint>> {
	const { results } = await db
		.prepare(
			"SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings GROUP BY currency",
		)
		.all<{ currency: string; total: string }>();
	return new Map(results.map((r) => [r.currency, BigInt(r.total)]));
}

/**
 * What the ledger books in a settlement account (the settlement wallet, or its associated token
 * account), both modes together: negative for funds the gateway holds there.
 */
export async function settlementLedgerTotal(db: D1Database, currency: string): Promise<bigint> {
	const row = await db
		.prepare(
			"SELECT CAST(COALESCE(SUM(balance), 0) AS TEXT) AS total FROM ledger_balances WHERE account IN (?, ?)",
		)
		.bind(
			accounts.settlement(false, "solana", currency),
			accounts.settlement(true, "solana", currency),
		)
		.first<{ total: string }>();
	return BigInt(row?.total ?? "0");
}

export interface Posting {
	transfer_id: string;
	kind: string;
	seq: number;
	account: string;
	currency: string;
	amount: number;
	created: number;
}

/** The postings of the transfers that reference an object (a payment), in order, at most 500. */
export async function postingsOfReference(
	db: D1Database,
	reference: string,
	livemode: boolean,
): Promise<Posting[]> {
	const { results } = await db
		.prepare(
			`SELECT p.transfer_id, t.kind, p.seq, p.account, p.currency, p.amount, p.created
			 FROM ledger_transfers t JOIN ledger_postings p ON p.transfer_id = t.id
			 WHERE t.reference = ? AND t.livemode = ?
			 ORDER BY t.created, t.id, p.seq LIMIT 500`,
		)
		.bind(reference, livemode ? 1 : 0)
		.all<Posting>();
	return results;
}
