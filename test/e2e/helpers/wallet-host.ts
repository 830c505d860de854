import { fileURLToPath } from "node:url";
import {
	getAddressEncoder,
	getBase64Decoder,
	getBase64EncodedWireTransaction,
	getBase64Encoder,
	getTransactionDecoder,
	type KeyPairSigner,
	partiallySignTransaction,
	signBytes,
} from "@solana/kit";
import { build } from "esbuild";
import type { BrowserContext, Page } from "playwright-core";
import {
	type TestWalletConfig,
	USER_REJECTED,
	WALLET_BRIDGE_GLOBAL,
	WALLET_CONFIG_GLOBAL,
	type WalletMethod,
	type WalletRequest,
	type WalletResponse,
} from "../wallet/protocol";
import { signAndSend } from "./chain";

// The Node side of the injected "Phantom": it holds the payer's key, signs what the page asks,
// sends transactions to the sandbox's RPC, and can play a user who declines the next pop-up.

const WALLET_DIR = fileURLToPath(new URL("../wallet/", import.meta.url));

let bundles: Promise<{ wallet: string; probe: string }> | undefined;

async function bundle(entry: string): Promise<string> {
	const result = await build({
		entryPoints: [`${WALLET_DIR}${entry}`],
		bundle: true,
		format: "iife",
		target: ["es2022"],
		platform: "browser",
		write: false,
		logLevel: "warning",
	});
	const code = result.outputFiles[0]?.text;
	if (!code) throw new Error(`esbuild produced nothing for test/e2e/wallet/${entry}`);
	return code;
}

/** The browser scripts (wallet, checkout probe), bundled once per run. */
export function browserScripts(): Promise<{ wallet: string; probe: string }> {
	bundles ??= Promise.all([bundle("index.ts"), bundle("probe.ts")]).then(([wallet, probe]) => ({
		wallet,
		probe,
	}));
	return bundles;
}

/** The checkout probe (wallet/probe.ts) on every page of `target`, before the page's scripts. */
export async function installProbe(target: Page | BrowserContext): Promise<void> {
	await target.addInitScript({ content: (await browserScripts()).probe });
}

export interface WalletLogEntry {
	method: WalletMethod;
	outcome: "approved" | "rejected" | "failed";
	request: WalletRequest;
	error?: string;
}

export interface TestWallet {
	readonly payer: KeyPairSigner;
	/** Every request the page made, in order. */
	readonly log: WalletLogEntry[];
	/**
	 * The user declines the next request (of `method`, or any that shows a pop-up): the page gets
	 * Phantom's error, "User rejected the request." with code 4001.
	 */
	rejectNext(method?: WalletMethod): void;
	/** Signature bytes of every transaction the wallet sent, in order. */
	readonly sent: Uint8Array[];
}

/** Requests that open Phantom's pop-up; a silent connect does not. */
function needsApproval(request: WalletRequest): boolean {
	if (request.method === "connect") return !request.silent;
	return request.method !== "disconnect";
}

const b64 = {
	encode: (bytes: Uint8Array) => getBase64Decoder().decode(bytes),
	decode: (text: string) => new Uint8Array(getBase64Encoder().encode(text)),
};

/**
 * Injects the test wallet into `page` (before any of its scripts run) for `payer`, whose
 * transactions go to `rpcUrl`. Call before the page navigates.
 */
export async function installTestWallet(
	page: Page,
	options: { payer: KeyPairSigner; rpcUrl: string },
): Promise<TestWallet> {
	const { payer, rpcUrl } = options;
	let rejecting: WalletMethod | "any" | undefined;
	const log: WalletLogEntry[] = [];
	const sent: Uint8Array[] = [];

	const handle = async (request: WalletRequest): Promise<WalletResponse> => {
		if (
			rejecting &&
			needsApproval(request) &&
			(rejecting === "any" || rejecting === request.method)
		) {
			rejecting = undefined;
			log.push({ method: request.method, outcome: "rejected", request });
			return { ok: false, ...USER_REJECTED };
		}
		try {
			let signature: Uint8Array | undefined;
			let signedTransaction: string | undefined;
			switch (request.method) {
				case "connect":
				case "disconnect":
					break;
				case "signAndSendTransaction":
					signature = await signAndSend(rpcUrl, payer, request.transaction, {
						...(request.skipPreflight !== undefined
							? { skipPreflight: request.skipPreflight }
							: {}),
						...(request.commitment ? { commitment: request.commitment } : {}),
					});
					sent.push(signature);
					break;
				case "signTransaction": {
					const decoded = getTransactionDecoder().decode(b64.decode(request.transaction));
					signedTransaction = getBase64EncodedWireTransaction(
						await partiallySignTransaction([payer.keyPair], decoded),
					);
					break;
				}
				case "signMessage":
					signature = await signBytes(payer.keyPair.privateKey, b64.decode(request.message));
					break;
				case "signIn":
					signature = await signBytes(
						payer.keyPair.privateKey,
						new TextEncoder().encode(request.text),
					);
					break;
			}
			log.push({ method: request.method, outcome: "approved", request });
			return {
				ok: true,
				...(signature ? { signature: b64.encode(signature) } : {}),
				...(signedTransaction ? { signedTransaction } : {}),
			};
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			log.push({ method: request.method, outcome: "failed", request, error: message });
			// Phantom reports a transaction the network refused as an internal JSON-RPC error.
			return { ok: false, code: -32603, message };
		}
	};

	// An address is the base58 of the 32 public key bytes.
	const publicKey = new Uint8Array(getAddressEncoder().encode(payer.address));
	const config: TestWalletConfig = { address: payer.address, publicKey: b64.encode(publicKey) };
	await page.exposeFunction(WALLET_BRIDGE_GLOBAL, handle);
	const scripts = await browserScripts();
	await page.addInitScript({
		content: `window[${JSON.stringify(WALLET_CONFIG_GLOBAL)}] = ${JSON.stringify(config)};\n${scripts.wallet}`,
	});
	return {
		payer,
		log,
		sent,
		rejectNext(method) {
			rejecting = method ?? "any";
		},
	};
}
