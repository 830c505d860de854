// What the injected test wallet (browser) and its Node side (helpers/wallet-host.ts) exchange.
// Plain data only: bytes travel as base64, because the page→Node bridge carries JSON.

/** Set by the Node side in the init script, before the wallet bundle runs. */
export const WALLET_CONFIG_GLOBAL = "__streampaymentsTestWalletConfig";
/** The function the Node side exposes with page.exposeFunction. */
export const WALLET_BRIDGE_GLOBAL = "__streampaymentsTestWalletBridge";
/** The checkout probe (probe.ts): the page's contract elements, recorded, and a Wallet Standard app. */
export const PROBE_GLOBAL = "__streampaymentsCheckoutProbe";

export interface TestWalletConfig {
	/** The payer's base58 address. */
	address: string;
	/** Its 32 public key bytes, base64. */
	publicKey: string;
	/** The name apps see (default "Phantom"). */
	name?: string;
}

export type WalletRequest =
	| { method: "connect"; silent: boolean }
	| { method: "disconnect" }
	| {
			method: "signAndSendTransaction";
			chain: string;
			/** The wire transaction, base64. */
			transaction: string;
			skipPreflight?: boolean;
			commitment?: string;
	  }
	| {
			method: "signTransaction";
			/** The wire transaction, base64; returned signed by the wallet's account, not sent. */
			transaction: string;
	  }
	| { method: "signMessage"; message: string }
	| {
			method: "signIn";
			/** The SIWS text the wallet built and signs (see siws.ts). */
			text: string;
	  };

export type WalletMethod = WalletRequest["method"];

export type WalletResponse =
	| {
			ok: true;
			/** Base64 signature bytes (transaction signature or ed25519 message signature). */
			signature?: string;
			/** signTransaction: the wire transaction with the account's signature, base64. */
			signedTransaction?: string;
	  }
	| { ok: false; code: number; message: string };

/** Phantom's answer when the user declines in its pop-up (EIP-1193 style). */
export const USER_REJECTED = { code: 4001, message: "User rejected the request." } as const;

/** The checkout's contract elements at one moment. */
export interface CheckoutSnapshot {
	/** `main#checkout[data-status]` */
	status: string | null;
	/** `#status` text */
	statusText: string | null;
	/** `#quote-expiry[data-expires-at]` (unix seconds, as text) */
	quoteExpiresAt: string | null;
	/** `#quote-expiry` text: the countdown (not recorded in the timeline; it changes every second) */
	quoteExpiryText: string | null;
	/** `#qr[data-url]` */
	qrUrl: string | null;
}

export interface TimelineEntry extends Omit<CheckoutSnapshot, "quoteExpiryText"> {
	/** Date.now() in the page. */
	at: number;
}

export interface WalletSummary {
	name: string;
	icon: string;
	chains: string[];
	features: string[];
	accounts: string[];
}

export type ProbeResult<T> = { ok: true; value: T } | { ok: false; message: string; code?: number };

export interface SignInResult {
	address: string;
	signedMessageText: string;
	/** Base64. */
	signature: string;
	signatureType: string | undefined;
}

/** What probe.ts puts on the page's window. */
export interface CheckoutProbe {
	/** Random per document: a reload or navigation starts a new probe with a new id. */
	documentId: string;
	/** Every change of the snapshot since the document started, in order. */
	entries: TimelineEntry[];
	snapshot(): CheckoutSnapshot;
	/** The Wallet Standard wallets registered with the page, as an app sees them. */
	wallets(): WalletSummary[];
	/** Connects `walletName` and signs `message` (base64) with solana:signMessage; signature in base64. */
	signMessage(walletName: string, message: string): Promise<ProbeResult<string>>;
	signIn(walletName: string, input: Record<string, string>): Promise<ProbeResult<SignInResult>>;
}
