import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KeyPairSigner } from "@solana/kit";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type CheckoutProbe, type CheckoutSnapshot, PROBE_GLOBAL } from "../wallet/protocol";
import { ARTIFACTS_DIR, STEP_TIMEOUT_MS } from "./settings";
import { installProbe, installTestWallet, type TestWallet } from "./wallet-host";

// The payer's browser: one context per scenario (its own cookies), the checkout probe on every
// page, and the test wallet when the scenario pays.

export interface PayerBrowser {
	context: BrowserContext;
	page: Page;
	/** Present when the browser was opened with a payer. */
	wallet: TestWallet | undefined;
	close(): Promise<void>;
}

export async function openPayerBrowser(
	browser: Browser,
	options: { payer?: KeyPairSigner; rpcUrl: string },
): Promise<PayerBrowser> {
	const context = await browser.newContext({
		viewport: { width: 480, height: 960 },
		// Crisp QR modules for the decoder, and sharper screenshots.
		deviceScaleFactor: 2,
		locale: "en-US",
	});
	context.setDefaultTimeout(STEP_TIMEOUT_MS);
	context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
	try {
		await installProbe(context);
		const page = await context.newPage();
		const wallet = options.payer
			? await installTestWallet(page, { payer: options.payer, rpcUrl: options.rpcUrl })
			: undefined;
		return { context, page, wallet, close: () => context.close() };
	} catch (error) {
		await context.close();
		throw error;
	}
}

/** Saves test/e2e/screenshots/<name>.png (the whole page). */
export async function screenshot(page: Page, name: string): Promise<string> {
	mkdirSync(ARTIFACTS_DIR, { recursive: true });
	const path = join(ARTIFACTS_DIR, `${name}.png`);
	await page.screenshot({ path, fullPage: true, animations: "disabled" });
	return path;
}

// Page functions below run in the browser; they reach the probe through globalThis so that this
// Node-typed file needs no DOM types (the DOM work lives in wallet/probe.ts).
type ProbeScope = Record<string, CheckoutProbe | undefined>;

/** What the probe recorded in the page's current document (see wallet/probe.ts). */
export async function probeState(
	page: Page,
): Promise<Pick<CheckoutProbe, "documentId" | "entries"> & { now: CheckoutSnapshot }> {
	return page.evaluate((name) => {
		const probe = (globalThis as unknown as ProbeScope)[name];
		if (!probe) throw new Error("the checkout probe is not installed in this page");
		return { documentId: probe.documentId, entries: probe.entries, now: probe.snapshot() };
	}, PROBE_GLOBAL);
}

/**
 * Waits until `main#checkout` shows `status` (and `#status` text matching `text`) in the
 * document `documentId`: after a reload the probe has another id, so a reload never satisfies it.
 */
export async function waitForStatus(
	page: Page,
	expected: { status: string; text: RegExp; documentId: string },
	timeoutMs: number,
): Promise<void> {
	await page.waitForFunction(
		({ name, status, text, flags, documentId }) => {
			const probe = (globalThis as unknown as ProbeScope)[name];
			if (probe?.documentId !== documentId) return false;
			const now = probe.snapshot();
			return now.status === status && new RegExp(text, flags).test(now.statusText ?? "");
		},
		{
			name: PROBE_GLOBAL,
			status: expected.status,
			text: expected.text.source,
			flags: expected.text.flags,
			documentId: expected.documentId,
		},
		// Every frame: the page may show "Paid" only briefly before its redirect.
		{ polling: "raf", timeout: timeoutMs },
	);
}

/**
 * Waits until the page holds a quote with at least `seconds` left, so a payment started now is
 * not raced by the page's own re-quote (the suite runs with a 30 s quote TTL).
 */
export async function waitForFreshQuote(
	page: Page,
	seconds: number,
	timeoutMs: number,
): Promise<void> {
	await page.waitForFunction(
		({ name, min }) => {
			const at = Number((globalThis as unknown as ProbeScope)[name]?.snapshot().quoteExpiresAt);
			return at - Date.now() / 1000 >= min;
		},
		{ name: PROBE_GLOBAL, min: seconds },
		{ timeout: timeoutMs },
	);
}

/**
 * Waits until the probe has recorded, in the document `documentId`, one entry that has every
 * property asked for: a quote expiring after `quoteExpiresAfter`, the status `status`, a QR code
 * for another URL than `qrUrlOtherThan`.
 */
export async function waitForEntry(
	page: Page,
	documentId: string,
	wanted: { quoteExpiresAfter?: number; status?: string; qrUrlOtherThan?: string },
	timeoutMs: number,
): Promise<void> {
	await page.waitForFunction(
		({ name, documentId, after, status, otherThan }) => {
			const probe = (globalThis as unknown as ProbeScope)[name];
			if (probe?.documentId !== documentId) return false;
			return probe.entries.some(
				(e) =>
					(after === null || Number(e.quoteExpiresAt) > after) &&
					(status === null || e.status === status) &&
					(otherThan === null || (e.qrUrl !== null && e.qrUrl !== otherThan)),
			);
		},
		{
			name: PROBE_GLOBAL,
			documentId,
			after: wanted.quoteExpiresAfter ?? null,
			status: wanted.status ?? null,
			otherThan: wanted.qrUrlOtherThan ?? null,
		},
		{ timeout: timeoutMs },
	);
}

/** Waits until `#quote-expiry`'s text is no longer `text` (the countdown moved). */
export async function waitForCountdownPast(page: Page, text: string, timeoutMs: number) {
	await page.waitForFunction(
		({ name, text }) => {
			const now = (globalThis as unknown as ProbeScope)[name]?.snapshot().quoteExpiryText;
			return typeof now === "string" && now !== text;
		},
		{ name: PROBE_GLOBAL, text },
		{ timeout: timeoutMs },
	);
}

/** The `reference` parameter of a Solana Pay transfer-request URL. */
export function referenceOf(solanaPayUrl: string): string | null {
	const query = solanaPayUrl.split("?")[1] ?? "";
	return new URLSearchParams(query).get("reference");
}
