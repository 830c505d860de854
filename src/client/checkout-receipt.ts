/**
 * The checkout's receipt once paid, its times in the payer's own time zone, and the copy buttons
 * for the amount and the address.
 */
import type { CheckoutView } from "../domain/checkout";
import { explorerTxUrl, formatDateTime, formatFiat, formatToken } from "../domain/checkout-format";
import { $, data, setText, t } from "./checkout-dom";

/** The receipt: amount, what paid it, the transaction on the explorer, and when. */
export function renderReceipt(v: CheckoutView): void {
	const receipt = $("receipt");
	if (!receipt) return;
	const s = v.solana;
	const crypto = v.paying_with === "solana" && s;
	setText("receipt-amount", formatFiat(data.locale, v.amount, v.currency));
	const received = s && s.amount_received !== "0" ? s.amount_received : s?.amount;
	setText(
		"receipt-token",
		crypto && received ? formatToken(data.locale, received, s.decimals, s.token) : t("card"),
	);
	const link = $<HTMLAnchorElement>("receipt-signature");
	const signature = crypto ? s.signature : null;
	if (link && signature) {
		link.href = explorerTxUrl(signature, data.explorer.cluster, data.explorer.rpc_url);
		link.textContent = signature;
	}
	showRow(link?.parentElement ?? null, !!signature);
	const time = $("receipt-time");
	if (time && v.succeeded_at) {
		time.setAttribute("datetime", new Date(v.succeeded_at * 1000).toISOString());
		time.dataset.unix = String(v.succeeded_at);
	}
	showRow(time?.parentElement ?? null, !!v.succeeded_at);
	localTimes();
	receipt.hidden = false;
}

/** A receipt row (its dd and the dt before it) shown or not. */
function showRow(dd: HTMLElement | null, shown: boolean): void {
	if (!dd) return;
	dd.hidden = !shown;
	const dt = dd.previousElementSibling as HTMLElement | null;
	if (dt) dt.hidden = !shown;
}

/** Every server-rendered time (UTC) rewritten in the payer's own time zone and locale. */
export function localTimes(): void {
	for (const el of document.querySelectorAll<HTMLTimeElement>("time[data-unix]")) {
		const unix = Number(el.dataset.unix);
		if (unix > 0) el.textContent = formatDateTime(data.locale, unix);
	}
}

export function setCopy(id: string, value: string): void {
	const button = $(id);
	if (button) button.dataset.copy = value;
}

/** Copy buttons for the amount and the address, where the browser lets a page write the clipboard. */
export function setUpCopy(): void {
	if (!navigator.clipboard) return;
	for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
		button.hidden = false;
		button.addEventListener("click", async () => {
			const value = button.dataset.copy;
			if (!value) return;
			try {
				await navigator.clipboard.writeText(value);
				button.textContent = t("copied");
				window.setTimeout(() => {
					button.textContent = t("copy");
				}, 2000);
			} catch {
				// Refused (no permission): the value stays on the page to select by hand.
			}
		});
	}
}
