import type { ServerResponse } from "node:http";
import {
	getBase64EncodedWireTransaction,
	getBase64Encoder,
	getTransactionDecoder,
	type SignatureBytes,
} from "@solana/kit";
import type { WalletRequest, WalletResponse } from "../test/e2e/wallet/protocol.js";
import {
	BadRequest,
	errorMessage,
	type Log,
	type Router,
	readJsonObject,
	sendJson,
} from "./http.js";
import type { SolanaChain } from "./solana/chain.js";
import { decodeKey } from "./solana/encoding.js";
import { associatedTokenAddress, keypairFromLabel, type SandboxKeypair } from "./solana/keys.js";
import type { SolanaSimulator } from "./solana/simulator.js";
import { parseTokenAccount } from "./solana/token-state.js";
import { PYUSD, USDC } from "./solana/tokens.js";
import { walletScript } from "./wallet-script.js";

// The "Sandbox Wallet": a funded keypair the sandbox holds, so a person can pay the local
// checkout with a click (the browser side is the e2e suite's Wallet Standard wallet, served by
// wallet-script.ts, whose signing comes here over loopback HTTP) and `npm run pay` can pay from
// the command line. It signs only for the sandbox's own chain: its money exists nowhere else.
//
//   GET  /wallet            address and balances (base units, decimal strings)
//   GET  /wallet/wallet.js  the browser script (registers "Sandbox Wallet")
//   POST /wallet/request    one wallet request (test/e2e/wallet/protocol.ts) → its response

export const SANDBOX_WALLET_NAME = "Sandbox Wallet";

/** What the wallet holds on a fresh chain: plenty for any number of local payments. */
export const SANDBOX_WALLET_FUNDS = Object.freeze({
	lamports: 1_000_000_000_000n, // 1,000 SOL
	usdc: 1_000_000_000_000n, // 1,000,000 USDC
	pyusd: 1_000_000_000_000n, // 1,000,000 PYUSD (Token-2022)
});

/**
 * Origins whose pages may ask the wallet to sign: the gateway's checkout. A page from any other
 * origin (any website the developer opens) gets a 403, so it cannot spend the wallet's funds.
 */
export const DEFAULT_WALLET_ORIGINS: readonly string[] = Object.freeze([
	"http://127.0.0.1:8787",
	"http://localhost:8787",
]);

/** SANDBOX_WALLET_ORIGINS (comma-separated origins), else the defaults. */
export function walletOriginsFromEnv(env: NodeJS.ProcessEnv): readonly string[] {
	const value = env.SANDBOX_WALLET_ORIGINS?.trim();
	if (!value) return DEFAULT_WALLET_ORIGINS;
	return value.split(",").map((origin) => {
		const trimmed = origin.trim();
		let parsed: string | undefined;
		try {
			parsed = new URL(trimmed).origin;
		} catch {}
		if (parsed !== trimmed) {
			throw new Error(`SANDBOX_WALLET_ORIGINS must be comma-separated origins, got "${trimmed}"`);
		}
		return trimmed;
	});
}

export interface WalletBalances {
	sol: string;
	usdc: string;
	pyusd: string;
}

export class SandboxWallet {
	readonly keypair: SandboxKeypair = keypairFromLabel("sandbox-wallet");
	/** The chain the funds were minted on: a simulator reset starts a new one, funded again. */
	#fundedChain: SolanaChain | undefined;
	/** Page origins allowed to ask for signatures; a test stack adds its gateway's once it has one. */
	readonly origins: Set<string>;

	constructor(
		private readonly simulator: SolanaSimulator,
		origins: readonly string[] = DEFAULT_WALLET_ORIGINS,
	) {
		this.origins = new Set(origins);
	}

	get address(): string {
		return this.keypair.address;
	}

	/** Funds the wallet on the current chain the first time it is used there. */
	ensureFunded(): void {
		const chain = this.simulator.chain;
		if (this.#fundedChain === chain) return;
		this.simulator.airdrop(this.address, SANDBOX_WALLET_FUNDS.lamports);
		this.simulator.mintTokens(this.address, USDC.mint, SANDBOX_WALLET_FUNDS.usdc);
		this.simulator.mintTokens(this.address, PYUSD.mint, SANDBOX_WALLET_FUNDS.pyusd);
		this.#fundedChain = chain;
	}

	balances(): WalletBalances {
		this.ensureFunded();
		const chain = this.simulator.chain;
		const token = (mint: string, program: string): string => {
			const account = chain.current(associatedTokenAddress(this.address, mint, program));
			const state = account ? parseTokenAccount(account.owner, account.data) : undefined;
			return (state?.amount ?? 0n).toString();
		};
		return {
			sol: (chain.current(this.address)?.lamports ?? 0n).toString(),
			usdc: token(USDC.mint, USDC.programId),
			pyusd: token(PYUSD.mint, PYUSD.programId),
		};
	}

	/** Adds the wallet's signature to a wire transaction (base64) that names it as a signer. */
	signTransaction(wire: string): { signed: string; signature: Uint8Array } {
		let decoded: ReturnType<ReturnType<typeof getTransactionDecoder>["decode"]>;
		try {
			decoded = getTransactionDecoder().decode(getBase64Encoder().encode(wire));
		} catch (error) {
			throw new BadRequest(`transaction is not a wire transaction: ${errorMessage(error)}`);
		}
		if (!(this.address in decoded.signatures)) {
			throw new BadRequest(`the transaction does not ask ${this.address} to sign`);
		}
		const signature = this.keypair.sign(new Uint8Array(decoded.messageBytes));
		const signed = {
			...decoded,
			signatures: { ...decoded.signatures, [this.address]: signature as SignatureBytes },
		};
		return { signed: getBase64EncodedWireTransaction(signed), signature };
	}

	/** Signs and sends into the sandbox's chain, as a wallet sends through its own RPC. */
	async signAndSend(
		wire: string,
		options: { skipPreflight?: boolean; commitment?: string } = {},
	): Promise<Uint8Array> {
		this.ensureFunded();
		const { signed, signature } = this.signTransaction(wire);
		const send = this.simulator.methods.get("sendTransaction");
		if (!send) throw new Error("the sandbox has no sendTransaction");
		await send([
			signed,
			{
				encoding: "base64",
				skipPreflight: options.skipPreflight ?? false,
				...(options.commitment ? { preflightCommitment: options.commitment } : {}),
			},
		]);
		return signature;
	}

	/** One request of the browser wallet's protocol, answered as the e2e test's host does. */
	async handle(request: WalletRequest): Promise<WalletResponse> {
		const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
		try {
			switch (request.method) {
				case "connect":
				case "disconnect":
					this.ensureFunded();
					return { ok: true };
				case "signAndSendTransaction": {
					const signature = await this.signAndSend(request.transaction, {
						...(request.skipPreflight !== undefined
							? { skipPreflight: request.skipPreflight }
							: {}),
						...(request.commitment ? { commitment: request.commitment } : {}),
					});
					return { ok: true, signature: b64(signature) };
				}
				case "signTransaction":
					return { ok: true, signedTransaction: this.signTransaction(request.transaction).signed };
				case "signMessage":
					return {
						ok: true,
						signature: b64(this.keypair.sign(Buffer.from(request.message, "base64"))),
					};
				case "signIn":
					return {
						ok: true,
						signature: b64(this.keypair.sign(new TextEncoder().encode(request.text))),
					};
			}
		} catch (error) {
			// Phantom reports a transaction the network refused as an internal JSON-RPC error.
			return { ok: false, code: -32603, message: errorMessage(error) };
		}
	}
}

const METHODS = new Set([
	"connect",
	"disconnect",
	"signAndSendTransaction",
	"signTransaction",
	"signMessage",
	"signIn",
]);

function parseRequest(body: Record<string, unknown>): WalletRequest {
	const method = body.method;
	if (typeof method !== "string" || !METHODS.has(method)) {
		throw new BadRequest(`method must be one of ${[...METHODS].join(", ")}`);
	}
	const text = (name: string): string => {
		const value = body[name];
		if (typeof value !== "string" || value === "") throw new BadRequest(`${name} must be a string`);
		return value;
	};
	switch (method) {
		case "connect":
			return { method, silent: body.silent === true };
		case "disconnect":
			return { method };
		case "signAndSendTransaction":
			return {
				method,
				chain: typeof body.chain === "string" ? body.chain : "solana:localnet",
				transaction: text("transaction"),
				...(typeof body.skipPreflight === "boolean" ? { skipPreflight: body.skipPreflight } : {}),
				...(typeof body.commitment === "string" ? { commitment: body.commitment } : {}),
			};
		case "signTransaction":
			return { method, transaction: text("transaction") };
		case "signMessage":
			return { method, message: text("message") };
		default:
			return { method: "signIn", text: text("text") };
	}
}

export interface WalletRoutesOptions {
	/** The control server's own URL, which the browser script calls back. */
	controlUrl: () => string;
	log?: Log;
}

function corsHeaders(
	origin: string | undefined,
	allowed: ReadonlySet<string>,
): Record<string, string> {
	return origin && allowed.has(origin)
		? {
				"access-control-allow-origin": origin,
				"access-control-allow-methods": "POST",
				"access-control-allow-headers": "content-type",
				"access-control-max-age": "600",
				vary: "origin",
			}
		: { vary: "origin" };
}

function forbidden(res: ServerResponse, origin: string): void {
	sendJson(res, 403, {
		error: {
			code: "origin_not_allowed",
			message: `pages from ${origin} may not use the sandbox wallet (SANDBOX_WALLET_ORIGINS)`,
		},
	});
}

export function registerWalletRoutes(
	router: Router,
	wallet: SandboxWallet,
	options: WalletRoutesOptions,
): void {
	const allowed = wallet.origins;
	router.get("/wallet", ({ res }) =>
		sendJson(res, 200, {
			name: SANDBOX_WALLET_NAME,
			address: wallet.address,
			balances: wallet.balances(),
		}),
	);
	router.get("/wallet/wallet.js", async ({ res }) => {
		const code = await walletScript({
			endpoint: `${options.controlUrl()}/wallet/request`,
			name: SANDBOX_WALLET_NAME,
			address: wallet.address,
			publicKey: Buffer.from(decodeKey(wallet.address) ?? []).toString("base64"),
		});
		res.writeHead(200, {
			"content-type": "text/javascript; charset=utf-8",
			"content-length": Buffer.byteLength(code),
			"cache-control": "no-cache",
			"x-content-type-options": "nosniff",
			// Loaded by the checkout as a cross-origin <script>; nothing secret is in it.
			"cross-origin-resource-policy": "cross-origin",
		});
		res.end(code);
	});
	router.on("OPTIONS", "/wallet/request", ({ req, res }) => {
		const origin = req.headers.origin;
		if (origin && !allowed.has(origin)) return forbidden(res, origin);
		res.writeHead(204, corsHeaders(origin, allowed));
		res.end();
	});
	router.post("/wallet/request", async ({ req, res }) => {
		// Browsers always send Origin on a cross-origin POST; command-line clients send none.
		const origin = req.headers.origin;
		if (origin && !allowed.has(origin)) return forbidden(res, origin);
		let request: WalletRequest;
		try {
			if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
				// A "simple" cross-site form post has no preflight: JSON only keeps that door shut.
				throw new BadRequest("content-type must be application/json");
			}
			request = parseRequest(await readJsonObject(req));
		} catch (error) {
			if (!(error instanceof BadRequest)) throw error;
			sendJson(
				res,
				400,
				{ error: { code: "invalid_request", message: error.message } },
				corsHeaders(origin, allowed),
			);
			return;
		}
		const response = await wallet.handle(request);
		if (!response.ok) options.log?.(`wallet: ${request.method} failed: ${response.message}`);
		sendJson(res, 200, response, corsHeaders(origin, allowed));
	});
}
