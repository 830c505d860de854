import { createServer, type Server } from "node:http";
import { generateKeyPairSigner, getBase64Encoder, getTransactionDecoder } from "@solana/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_SETTLEMENT_WALLET } from "../../sandbox/config.js";
import { closeServer, listen, readBody, sendJson } from "../../sandbox/http.js";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { associatedTokenAddress } from "../../sandbox/solana/keys.js";
import { parseTokenAccount } from "../../sandbox/solana/token-state.js";
import { PYUSD, USDC } from "../../sandbox/solana/tokens.js";
import { SANDBOX_WALLET_FUNDS, SANDBOX_WALLET_NAME } from "../../sandbox/wallet.js";
import { PayError, parseFraction, pay } from "../../scripts/lib/pay.js";
import { runPay } from "../../scripts/lib/pay-cli.js";
import type { CheckoutView } from "../../src/domain/checkout.js";
import { encodeTransferRequest } from "../../src/domain/solana-pay.js";
import { SolanaRpc } from "../../src/processors/solana/rpc.js";
import { buildPaymentTransaction } from "../../src/processors/solana/transaction.js";

// The Sandbox Wallet (sandbox/wallet.ts) and `npm run pay` (scripts/lib/pay.ts) against a real
// sandbox chain, with a stand-in for the gateway's checkout status and transaction request that
// builds the transaction with the gateway's own builder.

const GATEWAY_ORIGIN = "http://127.0.0.1:8787";
let sandbox: Sandbox;

beforeAll(async () => {
	sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		walletOrigins: [GATEWAY_ORIGIN],
	});
});
afterAll(() => sandbox.close());

function tokenBalance(owner: string, token: typeof USDC): bigint {
	const account = sandbox.solana.chain.current(
		associatedTokenAddress(owner, token.mint, token.programId),
	);
	return (account && parseTokenAccount(account.owner, account.data)?.amount) || 0n;
}

function walletPost(body: unknown, headers: Record<string, string> = {}) {
	return fetch(`${sandbox.urls.control}/wallet/request`, {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify(body),
	});
}

describe("the Sandbox Wallet", () => {
	it("holds SOL, USDC and the Token-2022 PYUSD on the local chain", async () => {
		const res = await fetch(`${sandbox.urls.control}/wallet`);
		const body = (await res.json()) as { name: string; address: string; balances: unknown };
		expect(body.name).toBe(SANDBOX_WALLET_NAME);
		expect(body.address).toBe(sandbox.wallet.address);
		expect(body.balances).toEqual({
			sol: SANDBOX_WALLET_FUNDS.lamports.toString(),
			usdc: SANDBOX_WALLET_FUNDS.usdc.toString(),
			pyusd: SANDBOX_WALLET_FUNDS.pyusd.toString(),
		});
		expect(tokenBalance(body.address, PYUSD)).toBe(SANDBOX_WALLET_FUNDS.pyusd);
	});

	it("serves the e2e wallet's Wallet Standard script under its own name, calling this sandbox back", async () => {
		const res = await fetch(`${sandbox.urls.control}/wallet/wallet.js`);
		expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
		const code = await res.text();
		expect(code).toContain(JSON.stringify(SANDBOX_WALLET_NAME));
		expect(code).toContain(`${sandbox.urls.control}/wallet/request`);
		expect(code).toContain("solana:signAndSendTransaction");
		expect(code).toContain("solana:signTransaction");
		expect(code).toContain(sandbox.wallet.address);
	});

	it("refuses pages of any origin but the gateway's, before and at the request", async () => {
		const preflight = await fetch(`${sandbox.urls.control}/wallet/request`, {
			method: "OPTIONS",
			headers: { origin: "https://evil.example" },
		});
		expect(preflight.status).toBe(403);
		const post = await walletPost(
			{ method: "signMessage", message: "aGk=" },
			{ origin: "https://evil.example" },
		);
		expect(post.status).toBe(403);
		const allowed = await walletPost(
			{ method: "signMessage", message: "aGk=" },
			{ origin: GATEWAY_ORIGIN },
		);
		expect(allowed.status).toBe(200);
		expect(allowed.headers.get("access-control-allow-origin")).toBe(GATEWAY_ORIGIN);
		// A form post (no preflight) cannot reach it either.
		const form = await fetch(`${sandbox.urls.control}/wallet/request`, {
			method: "POST",
			headers: { "content-type": "text/plain" },
			body: JSON.stringify({ method: "signMessage", message: "aGk=" }),
		});
		expect(form.status).toBe(400);
	});

	it("signs without sending, and refuses a transaction that does not name it", async () => {
		const rpc = new SolanaRpc({ urls: [sandbox.urls.solana] });
		const solana = await quoteFor("usdc", 1_000_000n);
		const { transaction } = await buildPaymentTransaction(rpc, solana, sandbox.wallet.address);
		const signed = (await (
			await walletPost({ method: "signTransaction", transaction })
		).json()) as {
			ok: boolean;
			signedTransaction: string;
		};
		expect(signed.ok).toBe(true);
		const decoded = getTransactionDecoder().decode(
			getBase64Encoder().encode(signed.signedTransaction),
		);
		expect(decoded.signatures[sandbox.wallet.address as never]).toBeTruthy();
		// Signed only: nothing moved.
		expect(tokenBalance(DEV_SETTLEMENT_WALLET, USDC)).toBe(0n);

		const stranger = await generateKeyPairSigner();
		const other = await buildPaymentTransaction(rpc, solana, stranger.address);
		const refused = (await (
			await walletPost({ method: "signAndSendTransaction", transaction: other.transaction })
		).json()) as { ok: boolean; message: string };
		expect(refused).toMatchObject({ ok: false });
		expect(refused.message).toContain("does not ask");
	});
});

// ── npm run pay ──────────────────────────────────────────────────────────────────────────────

let paymentCount = 0;

async function quoteFor(token: "sol" | "usdc" | "pyusd", amount: bigint) {
	paymentCount += 1;
	const id = `pay_test${paymentCount}`;
	const spec = {
		sol: { mint: null, program: null, decimals: 9 },
		usdc: { mint: USDC.mint, program: USDC.programId, decimals: 6 },
		pyusd: { mint: PYUSD.mint, program: PYUSD.programId, decimals: 6 },
	}[token];
	// Any fresh address will do as a reference.
	const reference = (await generateKeyPairSigner()).address;
	return {
		id,
		token: token.toUpperCase(),
		mint: spec.mint,
		token_program: spec.program,
		decimals: spec.decimals,
		amount: amount.toString(),
		amount_received: "0",
		recipient: DEV_SETTLEMENT_WALLET,
		reference,
		memo: id,
		solana_pay_url: encodeTransferRequest({
			recipient: DEV_SETTLEMENT_WALLET,
			amount,
			decimals: spec.decimals,
			splToken: spec.mint ?? undefined,
			references: [reference],
			memo: id,
		}),
		// biome-ignore lint/suspicious/noExplicitAny: only the fields the builder reads matter here
	} as any;
}

interface FakePayment {
	view: CheckoutView;
	solana: Awaited<ReturnType<typeof quoteFor>>;
	requests: number;
}

/** The gateway's checkout status and transaction request, for the payments it is given. */
async function startFakeGateway(payments: Map<string, FakePayment>) {
	const rpc = new SolanaRpc({ urls: [sandbox.urls.solana] });
	const server: Server = createServer(async (req, res) => {
		const text = await readBody(req);
		const path = req.url ?? "/";
		const status = /^\/checkout\/(pay_\w+)\/status$/.exec(path);
		if (req.method === "GET" && status?.[1]) {
			const payment = payments.get(status[1]);
			return payment ? sendJson(res, 200, payment.view) : sendJson(res, 404, { error: {} });
		}
		const request = /^\/solana-pay\/(pay_\w+)$/.exec(path);
		if (req.method === "POST" && request?.[1]) {
			const payment = payments.get(request[1]);
			if (!payment) return sendJson(res, 404, { error: { message: "no such payment" } });
			payment.requests += 1;
			const { account } = JSON.parse(text) as { account: string };
			const { transaction } = await buildPaymentTransaction(rpc, payment.solana, account);
			return sendJson(res, 200, { transaction, message: payment.view.id });
		}
		sendJson(res, 404, { error: { message: `no route ${path}` } });
	});
	const port = await listen(server, 0, "127.0.0.1");
	return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

async function fakePayment(
	token: "sol" | "usdc" | "pyusd",
	amount: bigint,
	livemode = false,
): Promise<FakePayment> {
	const solana = await quoteFor(token, amount);
	const now = Math.floor(Date.now() / 1000);
	const view = {
		id: solana.id,
		status: "requires_payment",
		livemode,
		amount: 100,
		currency: "usd",
		description: null,
		expires_at: now + 3600,
		success_url: null,
		cancel_url: null,
		payment_method_types: ["solana"],
		paying_with: null,
		solana: {
			token: solana.token,
			decimals: solana.decimals,
			amount: solana.amount,
			fee: "0",
			rate: "1",
			quote_expires_at: now + 900,
			solana_pay_url: solana.solana_pay_url,
			transaction_request_url: "",
			reference: solana.reference,
			amount_received: "0",
			signature: null,
		},
	} as unknown as CheckoutView;
	return { view, solana, requests: 0 };
}

describe("npm run pay", () => {
	const payments = new Map<string, FakePayment>();
	let gateway: Awaited<ReturnType<typeof startFakeGateway>>;
	beforeAll(async () => {
		gateway = await startFakeGateway(payments);
	});
	afterAll(() => gateway.close());

	const options = () => ({
		gatewayUrl: gateway.url,
		rpcUrl: sandbox.urls.solana,
		sandboxUrl: sandbox.urls.control,
		followMs: 0,
	});

	it("pays the exact amount through the transaction request, in Token-2022 PYUSD", async () => {
		const payment = await fakePayment("pyusd", 2_500_000n);
		payments.set(payment.view.id, payment);
		const before = tokenBalance(DEV_SETTLEMENT_WALLET, PYUSD);
		const result = await pay({
			...options(),
			target: `${gateway.url}/checkout/${payment.view.id}`,
		});
		expect(result.via).toBe("transaction_request");
		expect(payment.requests).toBe(1);
		expect(sandbox.solana.chain.ledger.get(result.signature)?.err).toBeNull();
		expect(tokenBalance(DEV_SETTLEMENT_WALLET, PYUSD) - before).toBe(2_500_000n);
	});

	it("underpays and overpays by a fraction of the transfer request, in exact integers", async () => {
		const half = await fakePayment("usdc", 1_000_001n);
		payments.set(half.view.id, half);
		const before = tokenBalance(DEV_SETTLEMENT_WALLET, USDC);
		const under = await pay({ ...options(), target: half.view.id, fraction: "0.5" });
		expect(under).toMatchObject({ via: "transfer_request", amount: 500_000n });
		expect(half.requests).toBe(0);
		expect(tokenBalance(DEV_SETTLEMENT_WALLET, USDC) - before).toBe(500_000n);

		const over = await fakePayment("sol", 1_000_000_000n);
		payments.set(over.view.id, over);
		const lamports = sandbox.solana.chain.current(DEV_SETTLEMENT_WALLET)?.lamports ?? 0n;
		const result = await pay({ ...options(), target: over.solana.solana_pay_url, fraction: "1.2" });
		expect(result).toMatchObject({ amount: 1_200_000_000n, paymentId: over.view.id });
		expect((sandbox.solana.chain.current(DEV_SETTLEMENT_WALLET)?.lamports ?? 0n) - lamports).toBe(
			1_200_000_000n,
		);
		// The transfer carries the payment's reference and memo, as a wallet's would.
		const record = sandbox.solana.chain.ledger.get(result.signature);
		expect(record?.err).toBeNull();
	});

	it("--after-expiry waits for the payment to expire, then pays its last quote by transfer", async () => {
		const late = await fakePayment("usdc", 750_000n);
		payments.set(late.view.id, late);
		const expiresAt = late.view.expires_at;
		let clock = (expiresAt - 30) * 1000;
		const slept: number[] = [];
		const before = tokenBalance(DEV_SETTLEMENT_WALLET, USDC);
		const result = await pay({
			...options(),
			target: late.view.id,
			afterExpiry: true,
			now: () => clock,
			sleep: async (ms) => {
				slept.push(ms);
				clock += ms;
				// The gateway expires it meanwhile; the transfer request stays payable on chain.
				late.view = { ...late.view, status: "expired" };
			},
		});
		expect(slept).toEqual([31_000]);
		expect(result).toMatchObject({ via: "transfer_request", amount: 750_000n });
		expect(late.requests).toBe(0);
		expect(tokenBalance(DEV_SETTLEMENT_WALLET, USDC) - before).toBe(750_000n);
		expect(result.after?.status).toBe("expired");
	});

	it("refuses a live-mode payment and a non-local RPC before anything is signed", async () => {
		const live = await fakePayment("usdc", 1_000_000n, true);
		payments.set(live.view.id, live);
		await expect(pay({ ...options(), target: live.view.id })).rejects.toThrow(/live-mode/);
		await expect(
			pay({ ...options(), rpcUrl: "https://api.mainnet-beta.solana.com", target: live.view.id }),
		).rejects.toBeInstanceOf(PayError);
		expect(live.requests).toBe(0);
	});

	it("prints the signature and the payment's status; bad arguments are a usage error", async () => {
		const payment = await fakePayment("usdc", 1_000_000n);
		payments.set(payment.view.id, payment);
		let out = "";
		let err = "";
		const code = await runPay([payment.view.id, "--wait", "0"], {
			env: {
				GATEWAY_URL: gateway.url,
				SOLANA_RPC_URL: sandbox.urls.solana,
				SANDBOX_URL: sandbox.urls.control,
			},
			stdout: (t) => {
				out += t;
			},
			stderr: (t) => {
				err += t;
			},
		});
		expect(err).toBe("");
		expect(code).toBe(0);
		expect(out).toMatch(/^signature [1-9A-HJ-NP-Za-km-z]{64,88}\npayment pay_\w+ requires_payment/);
		expect(
			await runPay([payment.view.id, "--token", "doge"], {
				env: {},
				stdout: () => {},
				stderr: () => {},
			}),
		).toBe(2);
		expect(() => parseFraction("0")).toThrow(PayError);
		expect(() => parseFraction("1e3")).toThrow(PayError);
		expect(parseFraction("1.25")).toEqual({ numerator: 125n, denominator: 100n });
	});
});
