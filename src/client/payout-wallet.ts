/**
 * The Payouts page's "Connect a wallet and sign": asks the gateway for the message to sign, has
 * the connected Wallet Standard wallet (Phantom first) sign its exact bytes with
 * `solana:signMessage`, and sends the form with the address, message and signature. The gateway
 * checks the signature, the nonce and that the message was issued to this merchant and mode.
 */
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";

type SignMessage = (
	...inputs: { account: WalletAccount; message: Uint8Array }[]
) => Promise<readonly { signedMessage: Uint8Array; signature: Uint8Array }[]>;
type Connect = () => Promise<{ accounts: readonly WalletAccount[] }>;

function canSign(w: Wallet): boolean {
	return "solana:signMessage" in w.features && "standard:connect" in w.features;
}

function signingWallet(): Wallet | null {
	const usable = getWallets().get().filter(canSign);
	return usable.find((w) => w.name === "Phantom") ?? usable[0] ?? null;
}

function toBase64(bytes: Uint8Array): string {
	let bin = "";
	for (const b of bytes) bin += String.fromCharCode(b);
	return btoa(bin);
}

function setField(form: HTMLFormElement, name: string, value: string): void {
	const input = form.elements.namedItem(name);
	if (input instanceof HTMLInputElement) input.value = value;
}

function walletMessage(error: unknown): string {
	const code = (error as { code?: unknown } | null)?.code;
	if (code === 4001) return "The wallet request was declined.";
	const message = error instanceof Error ? error.message : String(error);
	return message || "The wallet could not sign.";
}

async function prove(form: HTMLFormElement, showError: (text: string | null) => void) {
	const wallet = signingWallet();
	if (!wallet) {
		showError("No Solana wallet found in this browser: install one (such as Phantom) and reload.");
		return;
	}
	const connect = (wallet.features["standard:connect"] as { connect: Connect }).connect;
	const { accounts } = await connect();
	const account = accounts[0] ?? wallet.accounts[0];
	if (!account) throw new Error("The wallet shared no account.");
	const csrf = (form.elements.namedItem("csrf") as HTMLInputElement | null)?.value ?? "";
	const response = await fetch(form.dataset.walletProof as string, {
		method: "POST",
		credentials: "same-origin",
		headers: { "Content-Type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams({ csrf, address: account.address }).toString(),
	});
	const body = (await response.json().catch(() => null)) as {
		message?: string;
		error?: { message?: string };
	} | null;
	if (!response.ok || typeof body?.message !== "string") {
		showError(body?.error?.message ?? `The gateway refused (${response.status}).`);
		return;
	}
	const signMessage = (wallet.features["solana:signMessage"] as { signMessage: SignMessage })
		.signMessage;
	const [signed] = await signMessage({
		account,
		message: new TextEncoder().encode(body.message),
	});
	if (!signed) throw new Error("The wallet returned no signature.");
	setField(form, "address", account.address);
	setField(form, "message", body.message);
	setField(form, "signature", toBase64(signed.signature));
	form.submit();
}

/** Wires every wallet-proof form of the page. */
export function wireWalletProofForms(): void {
	for (const form of Array.from(
		document.querySelectorAll<HTMLFormElement>("form[data-wallet-proof]"),
	)) {
		const error = form.querySelector<HTMLElement>("[role=alert]");
		const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
		const showError = (text: string | null) => {
			if (!error) return;
			error.textContent = text ?? "";
			error.hidden = text === null;
		};
		form.addEventListener("submit", (event) => {
			event.preventDefault();
			showError(null);
			if (button) button.disabled = true;
			prove(form, showError)
				.catch((err: unknown) => showError(walletMessage(err)))
				.finally(() => {
					if (button) button.disabled = false;
				});
		});
	}
}
