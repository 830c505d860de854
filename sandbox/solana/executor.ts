import type { Transaction } from "@solana/kit";
import { FailedTransactionMetadata, type TransactionMetadata } from "litesvm";
import type { AccountView, SolanaChain } from "./chain.js";
import { MAX_PROCESSING_AGE } from "./clock.js";
import { fromBase58, toBase58 } from "./encoding.js";
import { type TransactionErrorJson, transactionErrorJson } from "./errors.js";
import type { AccountSnapshot, TokenBalance, TransactionRecord } from "./ledger.js";
import { ADDRESS_LOOKUP_TABLE_PROGRAM, isMemoProgram } from "./programs.js";
import { parseTokenAccount, uiTokenAmount } from "./token-state.js";
import { isWritable, type WireTransaction, withBlockhash } from "./wire.js";

// Runs transactions through LiteSVM: blockhash age, lookup-table resolution, pre/post
// balances and token balances, and the ledger and account-history bookkeeping.

export const LAMPORTS_PER_SIGNATURE = 5000n;
/** Where addresses start in an address lookup table account (after its metadata). */
const LOOKUP_TABLE_META_SIZE = 56;

export type ExecuteOutcome =
	| { landed: true; record: TransactionRecord }
	| { landed: false; err: TransactionErrorJson; logs: string[]; unitsConsumed: number };

export interface SimulationResult {
	err: TransactionErrorJson | null;
	logs: string[];
	unitsConsumed: number;
	returnData: { programId: string; data: Uint8Array } | null;
	postAccounts: Map<string, AccountView>;
	replacementBlockhash: { blockhash: string; lastValidBlockHeight: number } | null;
	accountKeys: string[];
}

class TransactionFailure extends Error {
	constructor(readonly err: TransactionErrorJson) {
		super(typeof err === "string" ? err : JSON.stringify(err));
	}
}

export function feeFor(numRequiredSignatures: number): bigint {
	return BigInt(numRequiredSignatures) * LAMPORTS_PER_SIGNATURE;
}

/** Static keys plus the lookup-table addresses a v0 message loads, as the runtime orders them. */
export function resolveAccountKeys(
	chain: SolanaChain,
	tx: WireTransaction,
): { keys: string[]; writable: string[]; readonly: string[] } {
	const writable: string[] = [];
	const readonly: string[] = [];
	for (const lookup of tx.message.lookups) {
		const table = chain.current(lookup.accountKey);
		if (!table) throw new TransactionFailure("AddressLookupTableNotFound");
		if (table.owner !== ADDRESS_LOOKUP_TABLE_PROGRAM) {
			throw new TransactionFailure("InvalidAddressLookupTableOwner");
		}
		const count = Math.floor((table.data.length - LOOKUP_TABLE_META_SIZE) / 32);
		const pick = (index: number) => {
			if (index >= count) throw new TransactionFailure("InvalidAddressLookupTableIndex");
			const at = LOOKUP_TABLE_META_SIZE + index * 32;
			return toBase58(table.data.subarray(at, at + 32));
		};
		writable.push(...lookup.writableIndexes.map(pick));
		readonly.push(...lookup.readonlyIndexes.map(pick));
	}
	return { keys: [...tx.message.staticKeys, ...writable, ...readonly], writable, readonly };
}

function kitTransaction(tx: WireTransaction, bytes = tx.bytes): Transaction {
	const messageStart = bytes.length - tx.messageBytes.length;
	const signatures: Record<string, Uint8Array> = {};
	tx.signatures.forEach((signature, i) => {
		const key = tx.message.staticKeys[i];
		if (key !== undefined) signatures[key] = fromBase58(signature);
	});
	return {
		messageBytes: bytes.subarray(messageStart),
		signatures,
	} as unknown as Transaction;
}

function tokenBalances(
	chain: SolanaChain,
	accounts: (AccountView | null)[],
	zeroAsNull = true,
): TokenBalance[] {
	const balances: TokenBalance[] = [];
	accounts.forEach((account, accountIndex) => {
		if (!account) return;
		const parsed = parseTokenAccount(account.owner, account.data);
		const decimals = parsed ? chain.decimalsOf(parsed.mint) : undefined;
		if (!parsed || decimals === undefined) return;
		balances.push({
			accountIndex,
			mint: parsed.mint,
			owner: parsed.owner,
			programId: account.owner,
			uiTokenAmount: uiTokenAmount(parsed.amount, decimals, zeroAsNull),
		});
	});
	return balances;
}

function memoOf(tx: WireTransaction): string | null {
	const memos: string[] = [];
	for (const ix of tx.message.instructions) {
		const program = tx.message.staticKeys[ix.programIdIndex];
		if (program === undefined || !isMemoProgram(program)) continue;
		const text = new TextDecoder().decode(ix.data);
		memos.push(`[${ix.data.length}] ${text}`);
	}
	return memos.length > 0 ? memos.join("; ") : null;
}

function returnDataOf(meta: TransactionMetadata): SimulationResult["returnData"] {
	const data = meta.returnData();
	const bytes = data.data();
	return bytes.length > 0 ? { programId: toBase58(data.programId()), data: bytes } : null;
}

function sameState(a: AccountSnapshot | null, b: AccountSnapshot | null): boolean {
	if (a === null || b === null) return a === b;
	return (
		a.lamports === b.lamports &&
		a.owner === b.owner &&
		a.data.length === b.data.length &&
		a.data.every((byte, i) => byte === b.data[i])
	);
}

function checkAge(chain: SolanaChain, tx: WireTransaction): void {
	if (!chain.clock.isBlockhashValid(tx.message.recentBlockhash)) {
		throw new TransactionFailure("BlockhashNotFound");
	}
}

/** Executes at the current slot. Failures that never land (bad blockhash, no fee) aren't recorded. */
export function executeTransaction(chain: SolanaChain, tx: WireTransaction): ExecuteOutcome {
	const signature = tx.signatures[0] ?? "";
	let resolved: ReturnType<typeof resolveAccountKeys>;
	try {
		if (chain.ledger.get(signature)) throw new TransactionFailure("AlreadyProcessed");
		checkAge(chain, tx);
		resolved = resolveAccountKeys(chain, tx);
	} catch (error) {
		if (error instanceof TransactionFailure) {
			return { landed: false, err: error.err, logs: [], unitsConsumed: 0 };
		}
		throw error;
	}
	const keys = resolved.keys;
	const before = keys.map((key) => chain.current(key));

	const result = runOnSvm(chain, true, () => chain.svm.sendTransaction(kitTransaction(tx)));
	if (typeof result === "string") return { landed: false, err: result, logs: [], unitsConsumed: 0 };
	const failed = result instanceof FailedTransactionMetadata;
	const meta = failed ? result.meta() : result;
	const err = failed ? transactionErrorJson(result.err()) : null;
	if (failed && chain.svm.getTransaction(signature as never) === null) {
		return {
			landed: false,
			err: err ?? "SanitizeFailure",
			logs: meta.logs(),
			unitsConsumed: Number(meta.computeUnitsConsumed()),
		};
	}

	const slot = chain.slot;
	const after = keys.map((key) => chain.current(key));
	keys.forEach((key, i) => {
		const pre = before[i] ?? null;
		if (isWritable(tx.message, i, resolved.writable.length) && !sameState(pre, after[i] ?? null)) {
			chain.history.record(key, slot, pre);
		}
	});
	const record: TransactionRecord = {
		signature,
		slot,
		blockTime: chain.clock.blockTimeAt(slot),
		tx,
		accountKeys: keys,
		loadedAddresses: { writable: resolved.writable, readonly: resolved.readonly },
		err,
		fee: feeFor(tx.message.header.numRequiredSignatures),
		preBalances: before.map((a) => a?.lamports ?? 0n),
		postBalances: after.map((a) => a?.lamports ?? 0n),
		preTokenBalances: tokenBalances(chain, before),
		postTokenBalances: tokenBalances(chain, after),
		logs: meta.logs(),
		computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
		innerInstructions: meta
			.innerInstructions()
			.map((list, index) => ({
				index,
				instructions: list.map((inner) => {
					const compiled = inner.instruction();
					return {
						programIdIndex: compiled.programIdIndex(),
						accounts: [...compiled.accounts()],
						data: compiled.data(),
						stackHeight: inner.stackHeight(),
					};
				}),
			}))
			.filter((entry) => entry.instructions.length > 0),
		returnData: returnDataOf(meta),
		memo: memoOf(tx),
	};
	chain.ledger.add(record);
	chain.changed({ type: "transaction", signature, slot });
	return { landed: true, record };
}

/** Runs `op` with LiteSVM's signature checking set per request, mapping unsigned input. */
function runOnSvm<T>(chain: SolanaChain, sigVerify: boolean, op: () => T): T | "SignatureFailure" {
	chain.svm.withSigverify(sigVerify);
	try {
		return op();
	} catch (error) {
		// litesvm refuses a transaction with a missing signature before the runtime sees it.
		if (sigVerify && error instanceof Error && /signature/i.test(error.message)) {
			return "SignatureFailure";
		}
		throw error;
	} finally {
		chain.svm.withSigverify(true);
	}
}

export interface SimulateOptions {
	sigVerify: boolean;
	replaceRecentBlockhash: boolean;
}

/** Runs without committing anything, against the live (processed) bank. */
export function simulateTransaction(
	chain: SolanaChain,
	tx: WireTransaction,
	options: SimulateOptions,
): SimulationResult {
	const empty = (err: TransactionErrorJson): SimulationResult => ({
		err,
		logs: [],
		unitsConsumed: 0,
		returnData: null,
		postAccounts: new Map(),
		replacementBlockhash: null,
		accountKeys: tx.message.staticKeys,
	});
	let bytes = tx.bytes;
	let replacementBlockhash: SimulationResult["replacementBlockhash"] = null;
	let keys: string[];
	try {
		if (options.replaceRecentBlockhash) {
			const blockhash = chain.latestBlockhash();
			bytes = withBlockhash(tx, fromBase58(blockhash));
			replacementBlockhash = { blockhash, lastValidBlockHeight: chain.slot + MAX_PROCESSING_AGE };
		} else {
			checkAge(chain, tx);
		}
		keys = resolveAccountKeys(chain, tx).keys;
	} catch (error) {
		if (error instanceof TransactionFailure) return empty(error.err);
		throw error;
	}
	const result = runOnSvm(chain, options.sigVerify, () =>
		chain.svm.simulateTransaction(kitTransaction(tx, bytes)),
	);
	if (typeof result === "string") return empty(result);
	if (result instanceof FailedTransactionMetadata) {
		const meta = result.meta();
		return {
			...empty(transactionErrorJson(result.err())),
			logs: meta.logs(),
			unitsConsumed: Number(meta.computeUnitsConsumed()),
			replacementBlockhash,
			accountKeys: keys,
		};
	}
	const meta = result.meta();
	const postAccounts = new Map<string, AccountView>();
	for (const account of result.postAccounts()) {
		postAccounts.set(account.address, {
			address: account.address,
			lamports: BigInt(account.lamports),
			data: Uint8Array.from(account.data),
			owner: account.programAddress,
			executable: account.executable,
		});
	}
	return {
		err: null,
		logs: meta.logs(),
		unitsConsumed: Number(meta.computeUnitsConsumed()),
		returnData: returnDataOf(meta),
		postAccounts,
		replacementBlockhash,
		accountKeys: keys,
	};
}
