/**
 * Signing in to the checkout with the paying wallet (Sign In With Solana, or a signed message where
 * the wallet lacks it), and the signed-in payer's saved wallets and past payments.
 */
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import type { CheckoutView } from "../domain/checkout";
import { formatFiat } from "../domain/checkout-format";
import { $, data, setText, t } from "./checkout-dom";
import { bytesToBase64, HttpError, postJson } from "./checkout-http";

/** What sign-in takes from the rest of the page: the payment, its wallet and its error line. */
export interface SignInHost {
	view(): CheckoutView;
	wallet(): Wallet | null;
	canPay(w: Wallet): boolean;
	connect(w: Wallet): Promise<WalletAccount>;
	showError(message: string | null): void;
	describeWalletError(error: unknown): string;
	requote(token: string | null): Promise<void>;
}

let host: SignInHost;

/** Called once, before anything below runs. */
export function setSignInHost(next: SignInHost): void {
	host = next;
}

interface SignInOutput {
	account: WalletAccount;
	signedMessage: Uint8Array;
	signature: Uint8Array;
}

interface Profile {
	customer: {
		id: string;
		name: string | null;
		preferred_token: string | null;
		wallets: { address: string; verified: boolean }[];
	};
	payments: { id: string; amount: number; currency: string; status: string; created: number }[];
}

function signInCapable(w: Wallet | null): w is Wallet {
	return !!w && ("solana:signIn" in w.features || "solana:signMessage" in w.features);
}

export function setUpSignIn(): void {
	const section = $("account");
	if (section) section.hidden = !signInCapable(host.wallet()) && !section.dataset.signedIn;
}

export async function signIn(): Promise<void> {
	const w = host.wallet();
	if (!signInCapable(w) || !host.canPay(w)) return;
	host.showError(null);
	try {
		const payer = await host.connect(w);
		const challenge = await postJson<{ input: Record<string, string>; message: string }>(
			`/checkout/${host.view().id}/sign-in/challenge`,
			{ address: payer.address },
		);
		let output: { signedMessage: Uint8Array; signature: Uint8Array };
		if ("solana:signIn" in w.features) {
			const feature = w.features["solana:signIn"] as {
				signIn: (...inputs: Record<string, string>[]) => Promise<readonly SignInOutput[]>;
			};
			const [result] = await feature.signIn(challenge.input);
			if (!result) throw new Error("The wallet returned no signature.");
			output = result;
		} else {
			const feature = w.features["solana:signMessage"] as {
				signMessage: (
					...inputs: { account: WalletAccount; message: Uint8Array }[]
				) => Promise<readonly { signedMessage: Uint8Array; signature: Uint8Array }[]>;
			};
			const [result] = await feature.signMessage({
				account: payer,
				message: new TextEncoder().encode(challenge.message),
			});
			if (!result) throw new Error("The wallet returned no signature.");
			output = result;
		}
		const profile = await postJson<Profile>(`/checkout/${host.view().id}/sign-in`, {
			address: payer.address,
			signed_message: bytesToBase64(output.signedMessage),
			signature: bytesToBase64(output.signature),
		});
		showProfile(profile);
	} catch (error) {
		host.showError(error instanceof HttpError ? error.message : host.describeWalletError(error));
	}
}

export async function loadProfile(): Promise<void> {
	const response = await fetch(`/checkout/${host.view().id}/me`, { credentials: "same-origin" });
	if (response.ok) showProfile((await response.json()) as Profile);
}

function showProfile(profile: Profile | null): void {
	const section = $("account");
	const details = $("account-details");
	const button = $("sign-in");
	if (!section || !details || !button) return;
	if (!profile) {
		delete section.dataset.signedIn;
		details.hidden = true;
		button.hidden = false;
		setUpSignIn();
		return;
	}
	section.dataset.signedIn = "true";
	section.hidden = false;
	details.hidden = false;
	button.hidden = true;
	setText("account-address", profile.customer.wallets[0]?.address ?? profile.customer.id);
	fillList(
		"saved-wallets",
		profile.customer.wallets.map((w) => ({
			className: "saved-wallet addr",
			text: `${w.address}${w.verified ? ` ${t("verified")}` : ""}`,
		})),
	);
	fillList(
		"past-payments",
		profile.payments.map((p) => ({
			className: "past-payment",
			text: `${new Date(p.created * 1000).toLocaleDateString(data.locale)} · ${formatFiat(data.locale, p.amount, p.currency)} · ${data.status_text[p.status] ?? p.status}`,
		})),
	);
	const preferred = profile.customer.preferred_token;
	if (
		preferred &&
		host.view().status === "requires_payment" &&
		host.view().solana?.token !== preferred &&
		data.tokens.some((t) => t.symbol === preferred)
	) {
		void host.requote(preferred);
	}
}

function fillList(id: string, items: { className: string; text: string }[]): void {
	const list = $(id);
	if (!list) return;
	list.replaceChildren(
		...items.map((item) => {
			const li = document.createElement("li");
			li.className = item.className;
			li.textContent = item.text;
			return li;
		}),
	);
	if (items.length === 0) {
		const li = document.createElement("li");
		li.textContent = t("none_yet");
		list.append(li);
	}
}

export async function signOut(): Promise<void> {
	await fetch(`/checkout/${host.view().id}/sign-out`, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: "{}",
	});
	showProfile(null);
}
