import {
	accounts,
	LedgerError,
	type Transfer,
	type TransferKind,
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

/** Whether a transfer with this id is recorded. */
export async function transferBooked(db: D1Database, id: string): Promise<boolean> {
	return (
		(await db.prepare("SELECT 1 FROM ledger_transfers WHERE id = ?").bind(id).first()) !== null
	);
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

type CurrencyTotal = { currency: string; total: string };

/** What a settlement statement sums, as decimal text (see `settlementSums`). */
export interface SettlementSums {
	/** Per currency, what was posted to the accounts since the period's start, and since its end. */
	afterStart: CurrencyTotal[];
	afterEnd: CurrencyTotal[];
	/** Credits and debits to the accounts in the period, by transfer kind. */
	movements: { kind: TransferKind; currency: string; credits: string; debits: string }[];
	/** What the gateway's fee accounts took in the period from transfers touching the accounts. */
	fees: { kind: TransferKind; currency: string; amount: string }[];
	/** The accounts' balances now. */
	balances: CurrencyTotal[];
	/** The merchant's payouts: paid into a settlement account in the period, in transit at its end. */
	payouts: { currency: string; paid: string; in_transit: string }[];
}

/**
 * A settlement statement's sums over a merchant's accounts (named one by one, or as a name
 * range past D1's bound-parameter limit) for the period [start, end), in one batch: D1 runs it
 * as one transaction, so every sum sees the same postings.
 */
export async function settlementSums(
	db: D1Database,
	q: {
		accounts: { names: string[] } | { range: [string, string] };
		start: number;
		end: number;
		gatewayFees: [string, string];
		settlement: [string, string];
		inTransit: [string, string];
		merchantId: string;
		livemode: boolean;
		/** Payouts with ids below this one (created before the period's end). */
		payoutsBefore: string;
	},
): Promise<SettlementSums> {
	const few = "names" in q.accounts;
	const accountNames = "names" in q.accounts ? q.accounts.names : [];
	const inAccounts = (column: string) =>
		few
			? `${column} IN (${accountNames.map(() => "?").join(", ")})`
			: `${column} >= ? AND ${column} < ?`;
	const names = "names" in q.accounts ? q.accounts.names : q.accounts.range;
	const { start, end } = q;
	const [feeLow, feeHigh] = q.gatewayFees;
	const [settleLow, settleHigh] = q.settlement;
	const [transitLow, transitHigh] = q.inTransit;
	const [afterStart, afterEnd, movements, fees, balances, payouts] = await db.batch([
		db
			.prepare(
				`SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings
			 WHERE ${inAccounts("account")} AND created >= ? GROUP BY currency`,
			)
			.bind(...names, start),
		db
			.prepare(
				`SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings
			 WHERE ${inAccounts("account")} AND created >= ? GROUP BY currency`,
			)
			.bind(...names, end),
		db
			.prepare(
				`SELECT t.kind AS kind, p.currency AS currency,
			   CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS TEXT) AS credits,
			   CAST(SUM(CASE WHEN p.amount < 0 THEN p.amount ELSE 0 END) AS TEXT) AS debits
			 FROM ledger_postings p JOIN ledger_transfers t ON t.id = p.transfer_id
			 WHERE ${inAccounts("p.account")} AND p.created >= ? AND p.created < ?
			 GROUP BY t.kind, p.currency`,
			)
			.bind(...names, start, end),
		db
			.prepare(
				`SELECT t.kind AS kind, g.currency AS currency, CAST(SUM(g.amount) AS TEXT) AS amount
			 FROM ledger_postings g JOIN ledger_transfers t ON t.id = g.transfer_id
			 WHERE g.account >= ? AND g.account < ? AND g.transfer_id IN (
			   SELECT transfer_id FROM ledger_postings
			   WHERE ${inAccounts("account")} AND created >= ? AND created < ?)
			 GROUP BY t.kind, g.currency`,
			)
			.bind(feeLow, feeHigh, ...names, start, end),
		// Read again inside the transaction: the balances the sums above are subtracted from.
		db
			.prepare(
				`SELECT currency, CAST(SUM(balance) AS TEXT) AS total FROM ledger_balances
			 WHERE ${inAccounts("account")} GROUP BY currency`,
			)
			.bind(...names),
		// The merchant's payouts (by its index) until the period's end: what their transfers paid
		// into a settlement account in the period, and what they left in transit at its end.
		db
			.prepare(
				`SELECT p.currency AS currency,
			   CAST(COALESCE(SUM(CASE WHEN p.account >= ?1 AND p.account < ?2 AND p.created >= ?5
			     THEN p.amount ELSE 0 END), 0) AS TEXT) AS paid,
			   CAST(COALESCE(SUM(CASE WHEN p.account >= ?3 AND p.account < ?4
			     THEN p.amount ELSE 0 END), 0) AS TEXT) AS in_transit
			 FROM payouts po
			 JOIN ledger_transfers t ON t.reference = po.id AND t.kind = 'payout'
			 JOIN ledger_postings p ON p.transfer_id = t.id
			 WHERE po.merchant_id = ?7 AND po.livemode = ?8 AND po.id < ?9 AND p.created < ?6
			 GROUP BY p.currency`,
			)
			.bind(
				settleLow,
				settleHigh,
				transitLow,
				transitHigh,
				start,
				end,
				q.merchantId,
				q.livemode ? 1 : 0,
				q.payoutsBefore,
			),
	]);
	return {
		afterStart: (afterStart?.results ?? []) as CurrencyTotal[],
		afterEnd: (afterEnd?.results ?? []) as CurrencyTotal[],
		movements: (movements?.results ?? []) as SettlementSums["movements"],
		fees: (fees?.results ?? []) as SettlementSums["fees"],
		balances: (balances?.results ?? []) as CurrencyTotal[],
		payouts: (payouts?.results ?? []) as SettlementSums["payouts"],
	};
}

/** The summed balance of the two named accounts (of one currency). */
export async function balanceOfAccounts(db: D1Database, names: string[]): Promise<bigint> {
	const row = await db
		.prepare(
			"SELECT CAST(COALESCE(SUM(balance), 0) AS TEXT) AS total FROM ledger_balances WHERE account IN (?, ?)",
		)
		.bind(...names)
		.first<{ total: string }>();
	return BigInt(row?.total ?? "0");
}
