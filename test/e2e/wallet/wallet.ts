import type {
	SolanaSignAndSendTransactionFeature,
	SolanaSignAndSendTransactionInput,
	SolanaSignAndSendTransactionOutput,
	SolanaSignInFeature,
	SolanaSignInInput,
	SolanaSignInOutput,
	SolanaSignMessageFeature,
	SolanaSignMessageInput,
	SolanaSignMessageOutput,
	SolanaSignTransactionFeature,
	SolanaSignTransactionInput,
	SolanaSignTransactionOutput,
} from "@solana/wallet-standard-features";
import type { Wallet, WalletAccount, WalletIcon } from "@wallet-standard/base";
import type {
	StandardConnectFeature,
	StandardConnectInput,
	StandardConnectOutput,
	StandardDisconnectFeature,
	StandardEventsFeature,
	StandardEventsListeners,
	StandardEventsNames,
} from "@wallet-standard/features";
import { ReadonlyWalletAccount, registerWallet } from "@wallet-standard/wallet";
import type { TestWalletConfig, WalletRequest, WalletResponse } from "./protocol";
import { signInMessageText } from "./siws";

// A stand-in for Phantom, injected into the checkout page before its scripts run. It speaks the
// Wallet Standard exactly as a browser extension does (registerWallet, the same features and
// output shapes, Phantom's 4001 rejection), while keys, signing and sending stay on a Node side
// reached through a bridge: the test's page.exposeFunction (index.ts), or the sandbox's loopback
// HTTP for the "Sandbox Wallet" of `npm run dev` (sandbox/wallet-script.ts).

const CHAINS = ["solana:mainnet", "solana:devnet", "solana:testnet", "solana:localnet"] as const;

const ICON: WalletIcon = `data:image/svg+xml;base64,${btoa(
	'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="16" fill="#ab9ff2"/><path d="M14 40c0-12 8-22 19-22s17 8 17 16-7 14-15 14H26c-2 0-3 2-5 2s-7-2-7-10z" fill="#fff"/></svg>',
)}`;

type Features = StandardConnectFeature &
	StandardDisconnectFeature &
	StandardEventsFeature &
	SolanaSignAndSendTransactionFeature &
	SolanaSignTransactionFeature &
	SolanaSignMessageFeature &
	SolanaSignInFeature;

export type Bridge = (request: WalletRequest) => Promise<WalletResponse>;

/** The error Phantom throws: an Error with the provider's numeric code. */
class WalletError extends Error {
	constructor(
		message: string,
		readonly code: number,
	) {
		super(message);
		this.name = "WalletError";
	}
}

function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
	return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

class TestPhantomWallet implements Wallet {
	readonly version = "1.0.0" as const;
	readonly name: string;
	readonly icon = ICON;
	readonly chains = CHAINS;
	readonly #account: WalletAccount;
	readonly #bridge: Bridge;
	readonly #changeListeners = new Set<StandardEventsListeners["change"]>();
	#connected = false;

	constructor(config: TestWalletConfig, bridge: Bridge) {
		this.#bridge = bridge;
		this.name = config.name ?? "Phantom";
		this.#account = new ReadonlyWalletAccount({
			address: config.address,
			publicKey: fromBase64(config.publicKey),
			chains: CHAINS,
			features: [
				"solana:signAndSendTransaction",
				"solana:signTransaction",
				"solana:signMessage",
				"solana:signIn",
			],
		});
	}

	get accounts(): readonly WalletAccount[] {
		return this.#connected ? [this.#account] : [];
	}

	get features(): Features {
		return {
			"standard:connect": { version: "1.0.0", connect: (input) => this.#connect(input) },
			"standard:disconnect": { version: "1.0.0", disconnect: () => this.#disconnect() },
			"standard:events": { version: "1.0.0", on: (event, listener) => this.#on(event, listener) },
			"solana:signAndSendTransaction": {
				version: "1.0.0",
				supportedTransactionVersions: ["legacy", 0],
				signAndSendTransaction: (...inputs) => this.#signAndSendTransaction(inputs),
			},
			"solana:signTransaction": {
				version: "1.0.0",
				supportedTransactionVersions: ["legacy", 0],
				signTransaction: (...inputs) => this.#signTransaction(inputs),
			},
			"solana:signMessage": {
				version: "1.1.0",
				signMessage: (...inputs) => this.#signMessage(inputs),
			},
			"solana:signIn": { version: "1.0.0", signIn: (...inputs) => this.#signIn(inputs) },
		};
	}

	async #call(request: WalletRequest): Promise<WalletResponse & { ok: true }> {
		const response = await this.#bridge(request);
		if (!response.ok) throw new WalletError(response.message, response.code);
		return response;
	}

	#emitChange(): void {
		for (const listener of this.#changeListeners) listener({ accounts: this.accounts });
	}

	#on<E extends StandardEventsNames>(event: E, listener: StandardEventsListeners[E]): () => void {
		// "change" is the only event the standard defines.
		if (event !== "change") return () => {};
		const change = listener as StandardEventsListeners["change"];
		this.#changeListeners.add(change);
		return () => {
			this.#changeListeners.delete(change);
		};
	}

	async #connect(input?: StandardConnectInput): Promise<StandardConnectOutput> {
		// The test site is trusted, so a silent connect succeeds as it does once a user approved it.
		if (!this.#connected) {
			await this.#call({ method: "connect", silent: input?.silent === true });
			this.#connected = true;
			this.#emitChange();
		}
		return { accounts: this.accounts };
	}

	async #disconnect(): Promise<void> {
		await this.#call({ method: "disconnect" });
		if (this.#connected) {
			this.#connected = false;
			this.#emitChange();
		}
	}

	#checkAccount(account: WalletAccount): void {
		if (!this.#connected) throw new WalletError("Wallet not connected.", 4100);
		if (account.address !== this.#account.address) {
			throw new WalletError(`Unknown account ${account.address}.`, 4100);
		}
	}

	async #signAndSendTransaction(
		inputs: readonly SolanaSignAndSendTransactionInput[],
	): Promise<SolanaSignAndSendTransactionOutput[]> {
		const outputs: SolanaSignAndSendTransactionOutput[] = [];
		for (const input of inputs) {
			this.#checkAccount(input.account);
			const { signature } = await this.#call({
				method: "signAndSendTransaction",
				chain: input.chain,
				transaction: toBase64(new Uint8Array(input.transaction)),
				...(input.options?.skipPreflight !== undefined
					? { skipPreflight: input.options.skipPreflight }
					: {}),
				...(input.options?.commitment ? { commitment: input.options.commitment } : {}),
			});
			outputs.push({ signature: fromBase64(signature ?? "") });
		}
		return outputs;
	}

	async #signTransaction(
		inputs: readonly SolanaSignTransactionInput[],
	): Promise<SolanaSignTransactionOutput[]> {
		const outputs: SolanaSignTransactionOutput[] = [];
		for (const input of inputs) {
			this.#checkAccount(input.account);
			const { signedTransaction } = await this.#call({
				method: "signTransaction",
				transaction: toBase64(new Uint8Array(input.transaction)),
			});
			outputs.push({ signedTransaction: fromBase64(signedTransaction ?? "") });
		}
		return outputs;
	}

	async #signMessage(
		inputs: readonly SolanaSignMessageInput[],
	): Promise<SolanaSignMessageOutput[]> {
		const outputs: SolanaSignMessageOutput[] = [];
		for (const input of inputs) {
			this.#checkAccount(input.account);
			const message = new Uint8Array(input.message);
			const { signature } = await this.#call({ method: "signMessage", message: toBase64(message) });
			outputs.push({ signedMessage: message, signature: fromBase64(signature ?? "") });
		}
		return outputs;
	}

	async #signIn(inputs: readonly SolanaSignInInput[]): Promise<SolanaSignInOutput[]> {
		const outputs: SolanaSignInOutput[] = [];
		for (const input of inputs) {
			const text = signInMessageText(input, {
				domain: window.location.host,
				address: this.#account.address,
			});
			const { signature } = await this.#call({ method: "signIn", text });
			// Signing in connects the wallet, as it does in Phantom.
			if (!this.#connected) {
				this.#connected = true;
				this.#emitChange();
			}
			outputs.push({
				account: this.#account,
				signedMessage: new TextEncoder().encode(text),
				signature: fromBase64(signature ?? ""),
				signatureType: "ed25519",
			});
		}
		return outputs;
	}
}

/** Registers the wallet with the page's Wallet Standard registry. */
export function registerTestWallet(config: TestWalletConfig, bridge: Bridge): void {
	registerWallet(new TestPhantomWallet(config, bridge));
}

export { WalletError };
