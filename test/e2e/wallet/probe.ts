import type {
	SolanaSignInFeature,
	SolanaSignInInput,
	SolanaSignMessageFeature,
} from "@solana/wallet-standard-features";
import type { Wallet } from "@wallet-standard/base";
import type { StandardConnectFeature } from "@wallet-standard/features";
import {
	type CheckoutProbe,
	type CheckoutSnapshot,
	PROBE_GLOBAL,
	type ProbeResult,
	type SignInResult,
	type TimelineEntry,
} from "./protocol";

// Injected into every checkout page before its scripts: records each change of the checkout's
// contract elements from the document's first moment (so a test can prove a change happened in
// place, with no reload, and when, even while it was busy elsewhere), and plays a minimal Wallet
// Standard app so the tests can reach the injected wallet on any page.

function snapshot(): CheckoutSnapshot {
	const main = document.querySelector<HTMLElement>("main#checkout");
	const expiry = document.querySelector<HTMLElement>("#quote-expiry");
	return {
		status: main?.dataset.status ?? null,
		statusText: document.querySelector("#status")?.textContent?.trim() ?? null,
		quoteExpiresAt: expiry?.dataset.expiresAt ?? null,
		quoteExpiryText: expiry?.textContent?.trim() ?? null,
		qrUrl: document.querySelector<HTMLElement>("#qr")?.dataset.url ?? null,
	};
}

const entries: TimelineEntry[] = [];

function record(): void {
	const { quoteExpiryText: _countdown, ...next } = snapshot();
	const last = entries.at(-1);
	if (
		last &&
		last.status === next.status &&
		last.statusText === next.statusText &&
		last.quoteExpiresAt === next.quoteExpiresAt &&
		last.qrUrl === next.qrUrl
	)
		return;
	entries.push({ at: Date.now(), ...next });
}

/** Wallets registered so far, through the Wallet Standard's app-ready handshake. */
function registeredWallets(): Wallet[] {
	const wallets: Wallet[] = [];
	const api = {
		register: (...added: Wallet[]) => {
			wallets.push(...added);
			return () => {};
		},
	};
	// Every registered wallet listens for this event and registers itself synchronously.
	window.dispatchEvent(new CustomEvent("wallet-standard:app-ready", { detail: api }));
	return wallets;
}

function findWallet(name: string): Wallet {
	const wallet = registeredWallets().find((w) => w.name === name);
	if (!wallet) throw new Error(`no wallet named ${name} is registered`);
	return wallet;
}

function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

async function attempt<T>(run: () => Promise<T>): Promise<ProbeResult<T>> {
	try {
		return { ok: true, value: await run() };
	} catch (error) {
		const { message, code } = error as { message?: string; code?: unknown };
		return {
			ok: false,
			message: String(message ?? error),
			...(typeof code === "number" ? { code } : {}),
		};
	}
}

const probe: CheckoutProbe = {
	documentId: crypto.getRandomValues(new Uint32Array(2)).join("-"),
	entries,
	snapshot,
	wallets: () =>
		registeredWallets().map((w) => ({
			name: w.name,
			icon: w.icon,
			chains: [...w.chains],
			features: Object.keys(w.features),
			accounts: w.accounts.map((a) => a.address),
		})),
	signMessage: (walletName, message) =>
		attempt(async () => {
			const wallet = findWallet(walletName);
			const features = wallet.features as StandardConnectFeature & SolanaSignMessageFeature;
			const { accounts } = await features["standard:connect"].connect();
			const account = accounts[0];
			if (!account) throw new Error("the wallet connected no account");
			const bytes = Uint8Array.from(atob(message), (c) => c.charCodeAt(0));
			const [output] = await features["solana:signMessage"].signMessage({
				account,
				message: bytes,
			});
			if (!output) throw new Error("no signMessage output");
			return toBase64(new Uint8Array(output.signature));
		}),
	signIn: (walletName, input) =>
		attempt(async (): Promise<SignInResult> => {
			const wallet = findWallet(walletName);
			const features = wallet.features as SolanaSignInFeature;
			const [output] = await features["solana:signIn"].signIn(input as SolanaSignInInput);
			if (!output) throw new Error("no signIn output");
			return {
				address: output.account.address,
				signedMessageText: new TextDecoder().decode(output.signedMessage),
				signature: toBase64(new Uint8Array(output.signature)),
				signatureType: output.signatureType,
			};
		}),
};
(window as unknown as Record<string, unknown>)[PROBE_GLOBAL] = probe;

new MutationObserver(record).observe(document, {
	subtree: true,
	childList: true,
	characterData: true,
	attributes: true,
	attributeFilter: ["data-status", "data-expires-at", "data-url"],
});
record();
