/**
 * What a transaction paid into one settlement account, from the transaction as RPC returns it
 * with `encoding: "jsonParsed"`. Pure: the SettlementWatcher fetches, this reads balances.
 * Amounts are post minus pre balances as bigint, so whatever instructions moved the money, only
 * what really arrived counts.
 */
import { memosOf, type ParsedTransaction, type TokenBalance, tokenTotal } from "./solana-match";

export interface WatchedAccount {
	/** The settlement wallet for SOL, its associated token account for a mint. */
	address: string;
	/** "sol" or the mint. */
	currency: string;
	mint: string | null;
	/** The settlement wallet. */
	owner: string;
}

export interface Inflow {
	/** `{signature}:{currency}`: a transaction pays a settlement account at most once. */
	id: string;
	signature: string;
	currency: string;
	account: string;
	amount: bigint;
	/** The wallet the funds came from (the largest part of them): a refund goes back there. */
	sender: string;
	/**
	 * When several wallets' funds make up the inflow (each signed the one transaction): what each
	 * sent, adding up to `amount`, so refunds go back to each its own part. Absent for one sender.
	 */
	contributions?: { payer: string; amount: bigint }[];
	/** Several wallets sent it, and what each sent cannot be told from the balances. */
	ambiguousSenders?: boolean;
	slot: number;
	blockTime: number | null;
	/** Every account the transaction names: references are among them. */
	keys: string[];
	memos: string[];
}

const big = (v: number | bigint | string | undefined | null): bigint =>
	v === undefined || v === null ? 0n : BigInt(v);

function tokenOf(balances: TokenBalance[] | null | undefined, index: number): bigint {
	const b = (balances ?? []).find((x) => x.accountIndex === index);
	return b ? BigInt(b.uiTokenAmount.amount) : 0n;
}

/** The inflow the transaction made into `watched`, or null (failed, outflow, or untouched). */
export function inflowOf(tx: ParsedTransaction, watched: WatchedAccount): Inflow | null {
	const meta = tx.meta;
	if (!meta || (meta.err !== null && meta.err !== undefined)) return null;
	const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
	const index = keys.indexOf(watched.address);
	if (index < 0) return null;
	const signature = tx.transaction.signatures[0] ?? "";
	let amount: bigint;
	let sender = keys[0] ?? "";
	if (watched.mint === null) {
		amount = big(meta.postBalances[index]) - big(meta.preBalances[index]);
		// The sender is the account that lost the most lamports besides the settlement wallet.
		let largest = 0n;
		keys.forEach((k, i) => {
			if (i === index) return;
			const lost = big(meta.preBalances[i]) - big(meta.postBalances[i]);
			if (lost > largest) {
				largest = lost;
				sender = k;
			}
		});
	} else {
		const mint = watched.mint;
		amount = tokenOf(meta.postTokenBalances, index) - tokenOf(meta.preTokenBalances, index);
		const source = (meta.preTokenBalances ?? []).find(
			(pre) =>
				pre.mint === mint &&
				pre.owner !== undefined &&
				pre.owner !== watched.owner &&
				tokenTotal(meta.postTokenBalances, pre.owner, mint) <
					tokenTotal(meta.preTokenBalances, pre.owner, mint),
		);
		if (source?.owner) sender = source.owner;
	}
	if (amount <= 0n) return null;
	const senders = sendersOf(tx, watched, index);
	const parts =
		senders.length <= 1
			? {}
			: senders.reduce((sum, x) => sum + x.amount, 0n) === amount
				? { contributions: senders }
				: { ambiguousSenders: true };
	return {
		...parts,
		id: `${signature}:${watched.currency}`,
		signature,
		currency: watched.currency,
		account: watched.address,
		amount,
		sender,
		slot: tx.slot,
		blockTime: tx.blockTime,
		keys,
		memos: memosOf(tx),
	};
}

/**
 * Every wallet whose own funds went down in the transaction, by how much, largest first: for
 * SOL each account's lamports (the fee payer's less the fee), for a token each owner's total of
 * the mint. The settlement side is left out.
 */
function sendersOf(
	tx: ParsedTransaction,
	watched: WatchedAccount,
	index: number,
): { payer: string; amount: bigint }[] {
	const meta = tx.meta;
	if (!meta) return [];
	const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
	const out: { payer: string; amount: bigint }[] = [];
	if (watched.mint === null) {
		keys.forEach((k, i) => {
			if (i === index || k === watched.owner) return;
			const lost =
				big(meta.preBalances[i]) - big(meta.postBalances[i]) - (i === 0 ? big(meta.fee) : 0n);
			if (lost > 0n) out.push({ payer: k, amount: lost });
		});
	} else {
		const mint = watched.mint;
		const owners = new Set(
			(meta.preTokenBalances ?? [])
				.filter((b) => b.mint === mint && b.owner !== undefined && b.owner !== watched.owner)
				.map((b) => b.owner as string),
		);
		for (const owner of owners) {
			const lost =
				tokenTotal(meta.preTokenBalances, owner, mint) -
				tokenTotal(meta.postTokenBalances, owner, mint);
			if (lost > 0n) out.push({ payer: owner, amount: lost });
		}
	}
	return out.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}
