import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request } from "node:http";
import type { Socket } from "node:net";
import {
	appendTransactionMessageInstructions,
	assertIsTransactionWithBlockhashLifetime,
	createSolanaRpc,
	createSolanaRpcSubscriptions,
	createTransactionMessage,
	devnet,
	generateKeyPairSigner,
	getSignatureFromTransaction,
	pipe,
	sendAndConfirmTransactionFactory,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import {
	Connection,
	Keypair,
	LAMPORTS_PER_SOL,
	SystemProgram,
	sendAndConfirmTransaction,
	Transaction,
} from "@solana/web3.js";
import { getTransferSolInstruction } from "@solana-program/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";

// PubSub over WebSocket on the RPC port: the confirmation paths real clients use. Slots are
// manual; each test waits for the transaction event, then produces the slot that confirms it.

describe("Solana PubSub (WebSocket)", () => {
	let sandbox: Sandbox;
	let wsUrl: string;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		});
		wsUrl = sandbox.urls.solana.replace("http://", "ws://");
	});
	afterAll(() => sandbox.close());

	/** Resolves once `count` more WebSocket subscriptions have reached the node. */
	function subscriptions(count: number): Promise<void> {
		// One listener for all: several subscribe frames can arrive in a single read.
		return new Promise((resolve) => {
			let seen = 0;
			const listener = () => {
				if (++seen < count) return;
				sandbox.solana.events.off("subscription", listener);
				resolve();
			};
			sandbox.solana.events.on("subscription", listener);
		});
	}

	/** Produces one slot as soon as the next transaction executes. */
	function confirmNextTransaction(): Promise<unknown> {
		return once(sandbox.solana.events, "transaction").then(() => sandbox.solana.advanceSlots(1));
	}

	it("confirms with web3.js sendAndConfirmTransaction and notifies slot and account changes", async () => {
		const connection = new Connection(sandbox.urls.solana, {
			commitment: "confirmed",
			wsEndpoint: wsUrl,
		});
		const payer = Keypair.generate();
		sandbox.solana.confirm(sandbox.solana.airdrop(payer.publicKey.toBase58(), LAMPORTS_PER_SOL));
		const recipient = Keypair.generate().publicKey;

		// Subscribe first and wait until the node has both, so no change can slip past them.
		const registered = subscriptions(2);
		let accountSub = 0;
		let slotSub = 0;
		const accountChanged = new Promise<number>((resolve) => {
			accountSub = connection.onAccountChange(recipient, (info) => resolve(info.lamports), {
				commitment: "confirmed",
			});
		});
		const slots: number[] = [];
		slotSub = connection.onSlotChange((info) => slots.push(info.slot));
		await registered;

		const tx = new Transaction().add(
			SystemProgram.transfer({
				fromPubkey: payer.publicKey,
				toPubkey: recipient,
				lamports: 3_000_000,
			}),
		);
		const advanced = confirmNextTransaction();
		const signature = await sendAndConfirmTransaction(connection, tx, [payer]);
		await advanced;
		const status = (await connection.getSignatureStatuses([signature])).value[0];
		expect(status?.confirmationStatus).toBe("confirmed");

		expect(await accountChanged).toBe(3_000_000);
		// Slot notifications went out before the account one, on the same socket.
		expect(slots).toContain(sandbox.solana.slot);
		await connection.removeAccountChangeListener(accountSub);
		await connection.removeSlotChangeListener(slotSub);
	});

	it("confirms with kit's sendAndConfirmTransactionFactory", async () => {
		const rpc = createSolanaRpc(devnet(sandbox.urls.solana));
		const rpcSubscriptions = createSolanaRpcSubscriptions(devnet(wsUrl));
		const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions });
		const payer = await generateKeyPairSigner();
		sandbox.solana.confirm(sandbox.solana.airdrop(payer.address, LAMPORTS_PER_SOL));
		const recipient = (await generateKeyPairSigner()).address;
		const { value: latest } = await rpc.getLatestBlockhash().send();
		const tx = await signTransactionMessageWithSigners(
			pipe(
				createTransactionMessage({ version: 0 }),
				(m) => setTransactionMessageFeePayerSigner(payer, m),
				(m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
				(m) =>
					appendTransactionMessageInstructions(
						[
							getTransferSolInstruction({
								source: payer,
								destination: recipient,
								amount: 4_000_000n,
							}),
						],
						m,
					),
			),
		);
		assertIsTransactionWithBlockhashLifetime(tx);
		const advanced = confirmNextTransaction();
		await sendAndConfirm(tx, { commitment: "confirmed" });
		await advanced;
		const record = sandbox.solana.chain.ledger.get(getSignatureFromTransaction(tx));
		expect(record?.err).toBeNull();
		expect((await rpc.getBalance(recipient).send()).value).toBe(4_000_000n);
	});

	/** A bare WebSocket client: masked text frames out, one parsed message per next(). */
	function openSocket(headers: Record<string, string> = {}) {
		return new Promise<{ status: number; socket?: Socket }>((resolve, reject) => {
			const req = request(sandbox.urls.solana, {
				headers: {
					connection: "Upgrade",
					upgrade: "websocket",
					"sec-websocket-version": "13",
					"sec-websocket-key": randomBytes(16).toString("base64"),
					...headers,
				},
			});
			req.on("upgrade", (res, socket) => resolve({ status: res.statusCode ?? 0, socket }));
			req.on("response", (res) => {
				res.resume();
				resolve({ status: res.statusCode ?? 0 });
			});
			req.on("error", reject);
			req.end();
		});
	}

	function client(socket: Socket) {
		const messages: unknown[] = [];
		const waiting: ((value: unknown) => void)[] = [];
		let buffer = Buffer.alloc(0);
		socket.on("data", (chunk: Buffer) => {
			buffer = Buffer.concat([buffer, chunk]);
			while (buffer.length >= 2) {
				const opcode = (buffer[0] ?? 0) & 0x0f;
				let length = (buffer[1] ?? 0) & 0x7f;
				let offset = 2;
				if (length === 126) {
					length = buffer.readUInt16BE(2);
					offset = 4;
				}
				if (buffer.length < offset + length) return;
				const payload = buffer.subarray(offset, offset + length);
				buffer = buffer.subarray(offset + length);
				if (opcode !== 0x1) continue;
				const message: unknown = JSON.parse(payload.toString("utf8"));
				const waiter = waiting.shift();
				if (waiter) waiter(message);
				else messages.push(message);
			}
		});
		return {
			send(body: unknown) {
				const payload = Buffer.from(JSON.stringify(body));
				const mask = randomBytes(4);
				const masked = payload.map((byte: number, i: number) => byte ^ (mask[i % 4] ?? 0));
				// Client frames are masked; lengths over 125 take the 16-bit form.
				const header =
					payload.length < 126
						? Buffer.from([0x81, 0x80 | payload.length])
						: Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
				socket.write(Buffer.concat([header, mask, masked]));
			},
			next(): Promise<unknown> {
				const queued = messages.shift();
				return queued !== undefined ? Promise.resolve(queued) : new Promise((r) => waiting.push(r));
			},
		};
	}

	it("speaks JSON-RPC subscriptions to a bare WebSocket client", async () => {
		const payer = Keypair.generate().publicKey.toBase58();
		const signature = sandbox.solana.airdrop(payer, 2_000_000);
		sandbox.solana.confirm(signature, "finalized");
		const { status, socket } = await openSocket();
		expect(status).toBe(101);
		if (!socket) throw new Error("no socket");
		const ws = client(socket);
		ws.send({
			jsonrpc: "2.0",
			id: 1,
			method: "signatureSubscribe",
			params: [signature, { commitment: "finalized" }],
		});
		const subscribed = (await ws.next()) as { result: number };
		expect(subscribed).toEqual({ jsonrpc: "2.0", result: expect.any(Number), id: 1 });
		expect(await ws.next()).toEqual({
			jsonrpc: "2.0",
			method: "signatureNotification",
			params: {
				result: {
					context: { apiVersion: "2.2.0", slot: sandbox.solana.slot - 3 },
					value: { err: null },
				},
				subscription: subscribed.result,
			},
		});
		ws.send({ jsonrpc: "2.0", id: 2, method: "signatureUnsubscribe", params: [subscribed.result] });
		expect(await ws.next()).toEqual({ jsonrpc: "2.0", result: false, id: 2 });
		ws.send({ jsonrpc: "2.0", id: 3, method: "blockSubscribe", params: [] });
		expect(await ws.next()).toEqual({
			jsonrpc: "2.0",
			error: { code: -32601, message: "Method not found" },
			id: 3,
		});
		socket.destroy();
	});

	it("refuses plain upgrades with 400 and WebSockets during an outage with 503", async () => {
		expect((await openSocket({ upgrade: "h2c" })).status).toBe(400);
		sandbox.solana.setFaults({ outage: true });
		try {
			expect((await openSocket()).status).toBe(503);
		} finally {
			sandbox.solana.clearFaults();
		}
	});
});
