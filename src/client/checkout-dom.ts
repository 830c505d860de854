/**
 * What every part of the checkout's script shares: the page's bootstrap data (a JSON block the
 * server rendered), its words, and small DOM helpers.
 */
import type { CheckoutView } from "../domain/checkout";
import { fill } from "../domain/checkout-format";

export interface Bootstrap {
	view: CheckoutView;
	checkout_token: string;
	chain: string;
	tokens: { symbol: string; decimals: number }[];
	default_token: string | null;
	status_text: Record<string, string>;
	/** The page's language's words (src/checkout/i18n), and the locale for amounts and dates. */
	messages: Record<string, string>;
	locale: string;
	explorer: { cluster: string; rpc_url: string };
	/** A payer session cookie came with the page: ask who is signed in. */
	payer_session: boolean;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) =>
	document.getElementById(id) as T | null;

export const data = JSON.parse($("checkout-data")?.textContent ?? "{}") as Bootstrap;

/** A message in the page's language, its `{name}` placeholders filled. */
export const t = (key: string, values: Record<string, string> = {}) =>
	fill(data.messages[key] ?? key, values);

export function setText(id: string, text: string): void {
	const el = $(id);
	if (el && el.textContent !== text) el.textContent = text;
}
