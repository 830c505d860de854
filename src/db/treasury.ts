import { accounts, type Mode } from "../domain/ledger";

// The treasury's reads and writes: the checks the minute cron records, and the ledger balances
// that say where a settlement account's funds belong. Every ledger read is a range or a lookup on
// ledger_balances' primary key (the account name), never a scan of the postings.

/** One check of one settlement account; amounts in base units. */
export interface TreasuryCheck {
	currency: string;
	address: string;
	chainBalance: bigint;
	/** Both modes' settlement accounts of the currency: negative when funds arrived. */
	ledgerBalance: bigint;
	/** chainBalance + ledgerBalance: zero when the ledger agrees with the chain. */
	difference: bigint;
	caughtUp: boolean;
	slot: number;
	/** Unix seconds. */
	checkedAt: number;
}

const MODES: Mode[] = ["test", "live"];

/** [from, to) on the account name: every account whose name starts with `prefix`. */
function prefixRange(prefix: string): [string, string] {
	const last = prefix.charCodeAt(prefix.length - 1);
	return [prefix, `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}`];
}

/**
 * `{mode}:settlement:solana:{currency}` and `{mode}:settlement:solana:{currency}:{tokenAccount}`
 * of one mode, as SQL over ledger_balances with its parameters.
 */
function settlementAccountsOf(mode: Mode, currency: string): { sql: string; params: string[] } {
	const main = accounts.settlement(mode === "live", "solana", currency);
	const [from, to] = prefixRange(`${main}:`);
	return { sql: "(account = ? OR (account >= ? AND account < ?))", params: [main, from, to] };
}

/** Records checks and drops each currency's checks older than `keepFrom` (Unix seconds). */
export async function recordTreasuryChecks(
	db: D1Database,
	checks: TreasuryCheck[],
	keepFrom: number,
): Promise<void> {
	if (checks.length === 0) return;
	await db.batch(
		checks.flatMap((c) => [
			db
				.prepare(
					`INSERT OR REPLACE INTO treasury_checks
					 (currency, address, chain_balance, ledger_balance, difference, caught_up, slot, checked_at)
					 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				)
				.bind(
					c.currency,
					c.address,
					c.chainBalance.toString(),
					c.ledgerBalance.toString(),
					c.difference.toString(),
					c.caughtUp ? 1 : 0,
					c.slot,
					c.checkedAt,
				),
			db
				.prepare("DELETE FROM treasury_checks WHERE currency = ? AND checked_at < ?")
				.bind(c.currency, keepFrom),
		]),
	);
}

interface CheckRow {
	currency: string;
	address: string;
	chain_balance: string;
	ledger_balance: string;
	difference: string;
	caught_up: number;
	slot: number;
	checked_at: number;
}

/** The latest check of each currency that has one: one primary-key seek per currency. */
export async function latestTreasuryChecks(
	db: D1Database,
	currencies: string[],
): Promise<TreasuryCheck[]> {
	if (currencies.length === 0) return [];
	const one =
		"SELECT * FROM (SELECT currency, address, chain_balance, ledger_balance, difference, caught_up, slot, checked_at FROM treasury_checks WHERE currency = ? ORDER BY checked_at DESC LIMIT 1)";
	const { results } = await db
		.prepare(currencies.map(() => one).join(" UNION ALL "))
		.bind(...currencies)
		.all<CheckRow>();
	return results.map((r) => ({
		currency: r.currency,
		address: r.address,
		chainBalance: BigInt(r.chain_balance),
		ledgerBalance: BigInt(r.ledger_balance),
		difference: BigInt(r.difference),
		caughtUp: r.caught_up === 1,
		slot: r.slot,
		checkedAt: r.checked_at,
	}));
}

/** What the ledger says one settlement account holds: both modes' settlement accounts, summed. */
export async function settlementLedgerBalance(db: D1Database, currency: string): Promise<bigint> {
	const parts = MODES.map((mode) => settlementAccountsOf(mode, currency));
	const row = await db
		.prepare(
			`SELECT CAST(COALESCE(SUM(balance), 0) AS TEXT) AS total FROM ledger_balances WHERE ${parts
				.map((p) => p.sql)
				.join(" OR ")}`,
		)
		.bind(...parts.flatMap((p) => p.params))
		.first<{ total: string }>();
	return BigInt(row?.total ?? "0");
}

/** Where one mode's funds of one currency belong, by ledger account family. */
export interface TreasuryLedger {
	/** The mode's settlement accounts (negative: funds received). */
	settlement: bigint;
	/** Funds that belong to no payment, held for their senders. */
	unattributed: bigint;
	/** Payments' holding accounts: excess, late and not yet settled funds. */
	held: bigint;
	/** Merchants' available and pending balances in this currency. */
	owedToMerchants: bigint;
	fees: bigint;
	/** The gateway's own funds in the account (what was there when watching began, top-ups). */
	float: bigint;
}

/**
 * The ledger side of the treasury for each mode and currency. Settlement, unattributed, fees and
 * float are a handful of named accounts; holding and merchant balances are a range of the primary
 * key per mode, which grows with the accounts of that mode (payments, merchants), so this serves
 * an operator's view, not a hot path.
 */
export async function treasuryLedger(
	db: D1Database,
	currencies: string[],
): Promise<Map<string, TreasuryLedger>> {
	const out = new Map<string, TreasuryLedger>();
	const key = (mode: Mode, currency: string) => `${mode}:${currency}`;
	for (const mode of MODES)
		for (const currency of currencies)
			out.set(key(mode, currency), {
				settlement: 0n,
				unattributed: 0n,
				held: 0n,
				owedToMerchants: 0n,
				fees: 0n,
				float: 0n,
			});
	if (currencies.length === 0) return out;

	const named = new Map<string, { mode: Mode; currency: string; field: keyof TreasuryLedger }>();
	for (const mode of MODES) {
		const live = mode === "live";
		for (const currency of currencies) {
			named.set(accounts.unattributed(live, currency), { mode, currency, field: "unattributed" });
			named.set(accounts.gatewayFees(live, currency), { mode, currency, field: "fees" });
			named.set(accounts.treasuryFloat(live, currency), { mode, currency, field: "float" });
		}
	}
	const inCurrencies = `currency IN (${currencies.map(() => "?").join(", ")})`;
	const statements = [
		db
			.prepare(
				`SELECT account, CAST(balance AS TEXT) AS total FROM ledger_balances WHERE account IN (${[
					...named.keys(),
				]
					.map(() => "?")
					.join(", ")})`,
			)
			.bind(...named.keys()),
	];
	const grouped: { mode: Mode; field: keyof TreasuryLedger }[] = [];
	for (const mode of MODES) {
		for (const currency of currencies) {
			const part = settlementAccountsOf(mode, currency);
			statements.push(
				db
					.prepare(
						`SELECT ? AS currency, CAST(COALESCE(SUM(balance), 0) AS TEXT) AS total FROM ledger_balances WHERE ${part.sql}`,
					)
					.bind(currency, ...part.params),
			);
			grouped.push({ mode, field: "settlement" });
		}
		const [paymentsFrom, paymentsTo] = prefixRange(`${mode}:payment:`);
		statements.push(
			db
				.prepare(
					`SELECT currency, CAST(SUM(balance) AS TEXT) AS total FROM ledger_balances
					 WHERE account >= ? AND account < ? AND ${inCurrencies} AND balance <> 0 GROUP BY currency`,
				)
				.bind(paymentsFrom, paymentsTo, ...currencies),
		);
		grouped.push({ mode, field: "held" });
		const [merchantsFrom, merchantsTo] = prefixRange(`${mode}:merchant:`);
		statements.push(
			db
				.prepare(
					`SELECT currency, CAST(SUM(balance) AS TEXT) AS total FROM ledger_balances
					 WHERE account >= ? AND account < ? AND ${inCurrencies} AND balance <> 0
					   AND (account LIKE '%:available' OR account LIKE '%:pending') GROUP BY currency`,
				)
				.bind(merchantsFrom, merchantsTo, ...currencies),
		);
		grouped.push({ mode, field: "owedToMerchants" });
	}

	const [namedRows, ...groupedRows] = await db.batch<{
		account?: string;
		currency?: string;
		total: string;
	}>(statements);
	for (const row of namedRows?.results ?? []) {
		const target = named.get(row.account ?? "");
		const entry = target && out.get(key(target.mode, target.currency));
		if (target && entry) entry[target.field] += BigInt(row.total);
	}
	groupedRows.forEach((result, i) => {
		const { mode, field } = grouped[i] as (typeof grouped)[number];
		for (const row of result.results) {
			const entry = out.get(key(mode, row.currency ?? ""));
			if (entry) entry[field] += BigInt(row.total);
		}
	});
	return out;
}
