import {
	address,
	compileTransaction,
	createNoopSigner,
	getBase64EncodedWireTransaction,
} from "@solana/kit";
import type { CheckoutView } from "../../src/domain/checkout.js";
import { parseTransferRequest } from "../../src/domain/solana-pay.js";
import { SolanaRpc } from "../../src/processors/solana/rpc.js";
import {
	messageWithFreshBlockhash,
	transferInstructions,
} from "../../src/processors/solana/transfer.js";

// `npm run pay`: pays a local test payment with the sandbox's funded "Sandbox Wallet", the way
// a wallet does: through the payment's Solana Pay transaction request, or (to send another sum
// than asked, or after the payment expired) a transfer built from its `solana:` transfer request.
// The sandbox signs; this never holds a key. Local chains and test-mode payments only.

export type PayToken = "sol" | "usdc" | "pyusd";

export interface PayOptions {
	/** A checkout URL, a payment id, or a `solana:` URL (transfer or transaction request). */
	target: string;
	token?: PayToken;
	/** A decimal ("0.5", "1", "1.2"): the share of the asked amount to send. Default 1. */
	fraction?: string;
	/** Wait until the payment has expired, then pay its last quote by transfer. */
	afterExpiry?: boolean;
	/** Default http://127.0.0.1:8787; a checkout or transaction-request URL names its own. */
	gatewayUrl: string;
	/** The sandbox's Solana RPC (loopback only). */
	rpcUrl: string;
	/** The sandbox control server, where the wallet lives (loopback only). */
	sandboxUrl: string;
	/** How long to follow the payment's status after sending, in ms (default 20 s). */
	followMs?: number;
	log?: (line: string) => void;
	/** Injected in tests; the real clock and setTimeout otherwise. */
	now?: () => number;
	sleep?: (ms: number) => Promise<void>;
}

export interface PayResult {
	signature: string;
	paymentId: string | null;
	/** The transaction request (exact sum) or a transfer built by the script. */
	via: "transaction_request" | "transfer_request";
	/** Base units sent. */
	amount: bigint | null;
	/** The payment as the checkout sees it after the send (null when it is not known). */
	after: CheckoutView | null;
}

/** Something the user asked for that cannot be done; printed without a stack trace. */
export class PayError extends Error {
	override name = "PayError";
}

const PAYMENT_ID = /^pay_[A-Za-z0-9]+$/;

function isLoopback(url: string): boolean {
	let host: string;
	try {
		host = new URL(url).hostname;
	} catch {
		return false;
	}
	return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** "0.5" → 1/2, "1.2" → 12/10: exact, so no float ever touches an amount. */
export function parseFraction(text: string): { numerator: bigint; denominator: bigint } {
	const match = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(text.trim());
	if (!match) throw new PayError(`--fraction must be a decimal like 0.5, 1 or 1.2, got "${text}"`);
	const decimals = match[2] ?? "";
	const numerator = BigInt(`${match[1]}${decimals}`);
	if (numerator === 0n) throw new PayError("--fraction must be more than 0");
	return { numerator, denominator: 10n ** BigInt(decimals.length) };
}

/** A wallet's reading of a transfer request's decimal `amount` in base units. */
export function toBaseUnits(amount: string, decimals: number): bigint {
	const match = /^(\d+)(?:\.(\d+))?$/.exec(amount);
	const fraction = match?.[2] ?? "";
	if (!match || fraction.length > decimals) throw new PayError(`bad amount "${amount}"`);
	return (
		BigInt(match[1] ?? "0") * 10n ** BigInt(decimals) +
		BigInt(fraction.padEnd(decimals, "0") || "0")
	);
}

interface Target {
	gatewayUrl: string;
	paymentId: string | null;
	/** Set when the target is a transfer request itself. */
	transferUrl: string | null;
}

/** Reads the command line's target: what payment, at which gateway. */
export function parseTarget(target: string, defaultGateway: string): Target {
	const text = target.trim();
	if (PAYMENT_ID.test(text))
		return { gatewayUrl: defaultGateway, paymentId: text, transferUrl: null };
	if (text.startsWith("solana:")) {
		const rest = text.slice("solana:".length);
		if (/^https?(:|%3A)/i.test(rest)) {
			// A transaction request: its link, percent-encoded when it has a query of its own.
			const link = /^https?%3A/i.test(rest) ? decodeURIComponent(rest.split("?")[0] ?? "") : rest;
			const url = new URL(link);
			const id = url.pathname.split("/").filter(Boolean).at(-1) ?? "";
			if (!PAYMENT_ID.test(id)) throw new PayError(`no payment id in ${target}`);
			return { gatewayUrl: url.origin, paymentId: id, transferUrl: null };
		}
		const memo = parseTransferRequest(text).memo;
		// The gateway's transfer requests carry the payment id as their memo.
		return {
			gatewayUrl: defaultGateway,
			paymentId: memo && PAYMENT_ID.test(memo) ? memo : null,
			transferUrl: text,
		};
	}
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new PayError(
			`expected a checkout URL, a payment id (pay_…) or a solana: URL, got "${target}"`,
		);
	}
	const match = /\/checkout\/(pay_[A-Za-z0-9]+)/.exec(url.pathname);
	if (!match?.[1]) throw new PayError(`no payment id in ${target}`);
	return { gatewayUrl: url.origin, paymentId: match[1], transferUrl: null };
}

async function json<T>(response: Response, what: string): Promise<T> {
	const text = await response.text();
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new PayError(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
	}
	if (!response.ok) {
		const message = (body as { error?: { message?: string } }).error?.message;
		throw new PayError(`${what}: ${message ?? `HTTP ${response.status}`}`);
	}
	return body as T;
}

async function checkoutStatus(gatewayUrl: string, id: string): Promise<CheckoutView> {
	return json<CheckoutView>(
		await fetch(`${gatewayUrl}/checkout/${id}/status`, { signal: AbortSignal.timeout(10_000) }),
		`payment ${id}`,
	);
}

/** Re-quotes in another token as the checkout page does, with the page's checkout token. */
async function requote(gatewayUrl: string, id: string, token: PayToken): Promise<CheckoutView> {
	const page = await (await fetch(`${gatewayUrl}/checkout/${id}`)).text();
	const data = /<script type="application\/json" id="checkout-data">([\s\S]*?)<\/script>/.exec(
		page,
	);
	const bootstrap = data?.[1] ? (JSON.parse(data[1]) as { checkout_token?: string }) : {};
	if (!bootstrap.checkout_token) throw new PayError(`the checkout of ${id} offers no re-quote`);
	return json<CheckoutView>(
		await fetch(`${gatewayUrl}/v1/payments/${id}/quote`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${bootstrap.checkout_token}`,
				"content-type": "application/json",
			},
			body: JSON.stringify({ token: token.toUpperCase() }),
		}),
		`quoting ${id} in ${token.toUpperCase()}`,
	);
}

async function walletRequest<T>(sandboxUrl: string, body: unknown): Promise<T> {
	const response = await fetch(`${sandboxUrl}/wallet/request`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(20_000),
	}).catch((error: unknown) => {
		throw new PayError(
			`the sandbox at ${sandboxUrl} is not reachable (${String(error)}); is npm run dev running?`,
		);
	});
	return json<T>(response, "the sandbox wallet");
}

async function walletAddress(sandboxUrl: string): Promise<string> {
	const response = await fetch(`${sandboxUrl}/wallet`, {
		signal: AbortSignal.timeout(10_000),
	}).catch((error: unknown) => {
		throw new PayError(
			`the sandbox at ${sandboxUrl} is not reachable (${String(error)}); is npm run dev running?`,
		);
	});
	return (await json<{ address: string }>(response, "the sandbox wallet")).address;
}

/** The wallet signs and sends; the signature is base58 like every explorer's. */
async function signAndSend(sandboxUrl: string, transaction: string): Promise<string> {
	const answer = await walletRequest<{ ok: boolean; signature?: string; message?: string }>(
		sandboxUrl,
		{
			method: "signAndSendTransaction",
			chain: "solana:localnet",
			transaction,
		},
	);
	if (!answer.ok || !answer.signature)
		throw new PayError(`the wallet did not send: ${answer.message}`);
	return base58(Buffer.from(answer.signature, "base64"));
}

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58(bytes: Uint8Array): string {
	let n = 0n;
	for (const b of bytes) n = n * 256n + BigInt(b);
	let out = "";
	while (n > 0n) {
		out = ALPHABET[Number(n % 58n)] + out;
		n /= 58n;
	}
	for (const b of bytes) {
		if (b !== 0) break;
		out = `1${out}`;
	}
	return out;
}

/** The mint's program (SPL Token or Token-2022) and decimals, read from the chain. */
async function mintInfo(
	rpc: SolanaRpc,
	mint: string,
): Promise<{ program: string; decimals: number }> {
	const { value } = await rpc.call<{ value: { owner: string; data: [string, string] } | null }>(
		"getAccountInfo",
		[mint, { encoding: "base64" }],
	);
	if (!value) throw new PayError(`the mint ${mint} does not exist on this chain`);
	const decimals = Buffer.from(value.data[0], "base64")[44];
	if (decimals === undefined) throw new PayError(`${mint} is not a token mint`);
	return { program: value.owner, decimals };
}

/** A transfer of `fraction` of what the transfer request asks, built as a wallet builds it. */
async function payTransferRequest(
	options: PayOptions,
	url: string,
	fraction: { numerator: bigint; denominator: bigint },
): Promise<{ signature: string; amount: bigint }> {
	const request = parseTransferRequest(url);
	if (!request.amount) throw new PayError("the transfer request names no amount");
	const rpc = new SolanaRpc({ urls: [options.rpcUrl] });
	const mint = request.splToken ? await mintInfo(rpc, request.splToken) : null;
	const asked = toBaseUnits(request.amount, mint?.decimals ?? 9);
	const amount = (asked * fraction.numerator) / fraction.denominator;
	if (amount <= 0n) throw new PayError("that fraction of the amount is nothing");
	const payer = createNoopSigner(address(await walletAddress(options.sandboxUrl)));
	const instructions = await transferInstructions({
		from: payer,
		to: request.recipient,
		amount,
		mint: request.splToken,
		tokenProgram: mint?.program ?? null,
		decimals: mint?.decimals ?? 9,
		memo: request.memo ?? "npm run pay",
		reference: request.references[0] ?? null,
	});
	const { message } = await messageWithFreshBlockhash(rpc, payer, instructions);
	const wire = getBase64EncodedWireTransaction(compileTransaction(message));
	return { signature: await signAndSend(options.sandboxUrl, wire), amount };
}

/** The exact sum, through the gateway's transaction request, as the checkout pays. */
async function payTransactionRequest(
	options: PayOptions,
	gatewayUrl: string,
	id: string,
): Promise<string> {
	const account = await walletAddress(options.sandboxUrl);
	const { transaction } = await json<{ transaction: string }>(
		await fetch(`${gatewayUrl}/solana-pay/${id}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ account }),
		}),
		"the transaction request",
	);
	return signAndSend(options.sandboxUrl, transaction);
}

/** Reads the payment until what was sent shows (or the time is up), for the user to see. */
async function follow(
	options: PayOptions,
	gatewayUrl: string,
	id: string,
	before: CheckoutView,
): Promise<CheckoutView> {
	const now = options.now ?? Date.now;
	const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
	const deadline = now() + (options.followMs ?? 20_000);
	for (;;) {
		const view = await checkoutStatus(gatewayUrl, id);
		const changed =
			view.status !== before.status ||
			view.solana?.amount_received !== before.solana?.amount_received;
		if (changed || now() >= deadline) return view;
		await sleep(250);
	}
}

export async function pay(options: PayOptions): Promise<PayResult> {
	const log = options.log ?? (() => {});
	for (const [name, url] of [
		["Solana RPC", options.rpcUrl],
		["sandbox", options.sandboxUrl],
	] as const) {
		// The sandbox wallet's money exists only on the local chain; a real cluster is refused.
		if (!isLoopback(url))
			throw new PayError(
				`refusing a non-local ${name} (${url}): npm run pay pays local test payments only`,
			);
	}
	const fraction = parseFraction(options.fraction ?? "1");
	const exact = fraction.numerator === fraction.denominator;
	const target = parseTarget(options.target, options.gatewayUrl);
	let view: CheckoutView | null = null;
	if (target.paymentId) {
		view = await checkoutStatus(target.gatewayUrl, target.paymentId);
		if (view.livemode) throw new PayError(`refusing ${view.id}: it is a live-mode payment`);
		if (!view.payment_method_types.includes("solana")) {
			throw new PayError(`${view.id} does not accept crypto`);
		}
	} else {
		log("note: this transfer request names no payment of the gateway; its status is not followed");
	}
	let transferUrl = target.transferUrl;
	if (view && target.paymentId && !transferUrl) {
		const wanted = options.token?.toUpperCase();
		const quoteLive =
			(view.solana?.quote_expires_at ?? 0) > Math.floor((options.now ?? Date.now)() / 1000);
		if (wanted && view.solana?.token !== wanted) {
			if (options.afterExpiry)
				throw new PayError("--token cannot re-quote a payment that is to expire first");
			view = await requote(target.gatewayUrl, target.paymentId, options.token as PayToken);
			log(`quoted ${view.id} in ${wanted}`);
		} else if (!view.solana || (!exact && !quoteLive && !options.afterExpiry)) {
			// A transfer needs a live quote; the transaction request re-quotes by itself.
			view = await requote(
				target.gatewayUrl,
				target.paymentId,
				(options.token ?? view.solana?.token ?? "usdc") as PayToken,
			);
		}
		transferUrl = view.solana?.solana_pay_url ?? null;
	}
	if (options.afterExpiry && view) {
		const now = options.now ?? Date.now;
		const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
		const waitMs = view.expires_at * 1000 - now() + 1_000;
		if (waitMs > 0) {
			log(`waiting ${Math.ceil(waitMs / 1000)} s for ${view.id} to expire`);
			await sleep(waitMs);
		}
		view = await checkoutStatus(target.gatewayUrl, view.id);
	}
	let signature: string;
	let amount: bigint | null = null;
	let via: PayResult["via"];
	if (exact && !options.afterExpiry && !target.transferUrl && target.paymentId) {
		signature = await payTransactionRequest(options, target.gatewayUrl, target.paymentId);
		via = "transaction_request";
	} else {
		if (!transferUrl) throw new PayError("the payment has no crypto quote to pay");
		({ signature, amount } = await payTransferRequest(options, transferUrl, fraction));
		via = "transfer_request";
	}
	const after =
		view && target.paymentId
			? await follow(options, target.gatewayUrl, target.paymentId, view)
			: null;
	return { signature, paymentId: target.paymentId, via, amount, after };
}
