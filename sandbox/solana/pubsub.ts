import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { SolanaChain } from "./chain.js";
import type { Commitment } from "./clock.js";
import { parseJson, stringifyJson } from "./json.js";
import { type AccountEncoding, accountEncodingOf, encodeAccount } from "./methods/accounts.js";
import { withContext } from "./methods/context.js";
import { commitmentOf, configParam, positional, pubkeyParam, signatureParam } from "./params.js";
import {
	JsonRpcError,
	RPC_INTERNAL_ERROR,
	RPC_INVALID_REQUEST,
	RPC_METHOD_NOT_FOUND,
} from "./rpc-server.js";
import { acceptWebSocket, type WebSocketConnection } from "./websocket.js";

// PubSub over WebSocket on the RPC port (upgrade on the same URL): signature, slot, root and
// account subscriptions, enough for web3.js confirmTransaction / sendAndConfirmTransaction
// and kit's sendAndConfirmTransactionFactory. Subscriptions are re-checked whenever the chain
// changes (a slot passes or a transaction executes).

type Subscription =
	| { kind: "signature"; signature: string; commitment: Commitment }
	| { kind: "slot"; last: number }
	| { kind: "root"; last: number }
	| {
			kind: "account";
			address: string;
			commitment: Commitment;
			encoding: AccountEncoding;
			last: string;
	  };

const NOTIFICATION: Record<Subscription["kind"], string> = {
	signature: "signatureNotification",
	slot: "slotNotification",
	root: "rootNotification",
	account: "accountNotification",
};

export class PubSub {
	private nextId = 0;
	private readonly connections = new Map<WebSocketConnection, Map<number, Subscription>>();

	constructor(
		private readonly chain: () => SolanaChain,
		private readonly refuse: () => boolean,
		private readonly onSubscribe: (method: string, id: number) => void = () => {},
	) {}

	attach(server: Server): void {
		server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
			if (this.refuse()) {
				socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
				return;
			}
			const subscriptions = new Map<number, Subscription>();
			const connection = acceptWebSocket(req, socket, head, {
				onMessage: (text) => this.receive(connection, subscriptions, text),
				onClose: () => {
					if (connection) this.connections.delete(connection);
				},
			});
			if (connection) this.connections.set(connection, subscriptions);
		});
	}

	closeAll(): void {
		for (const connection of [...this.connections.keys()]) connection.close(1001);
		this.connections.clear();
	}

	/** Re-evaluates every subscription against the current chain. */
	refresh(): void {
		for (const [connection, subscriptions] of this.connections) {
			for (const [id, sub] of subscriptions) this.check(connection, subscriptions, id, sub);
		}
	}

	/** Runs on chain changes (inside RPC handlers and the slot timer), so it must not throw. */
	private check(
		connection: WebSocketConnection,
		subscriptions: Map<number, Subscription>,
		id: number,
		sub: Subscription,
	): void {
		try {
			this.evaluate(connection, subscriptions, id, sub);
		} catch {
			// An account that can no longer be encoded as asked (base58 past 128 bytes).
			subscriptions.delete(id);
		}
	}

	private receive(
		connection: WebSocketConnection | undefined,
		subscriptions: Map<number, Subscription>,
		text: string,
	): void {
		if (!connection) return;
		let request: { id?: unknown; method?: unknown; params?: unknown };
		try {
			const parsed = parseJson(text);
			// `null` or `5` is valid JSON but no request; reading fields off it must not throw.
			request = typeof parsed === "object" && parsed !== null ? parsed : {};
		} catch {
			connection.send(
				stringifyJson({
					jsonrpc: "2.0",
					error: { code: -32700, message: "Parse error" },
					id: null,
				}),
			);
			return;
		}
		const id =
			typeof request.id === "number" ||
			typeof request.id === "string" ||
			typeof request.id === "bigint"
				? request.id
				: null;
		try {
			if (typeof request.method !== "string")
				throw new JsonRpcError(RPC_INVALID_REQUEST, "Invalid request");
			const result = this.dispatch(connection, subscriptions, request.method, request.params);
			connection.send(stringifyJson({ jsonrpc: "2.0", result, id }));
		} catch (error) {
			// Never let a bad request take the process down from inside a socket callback.
			const body =
				error instanceof JsonRpcError
					? { code: error.code, message: error.message }
					: { code: RPC_INTERNAL_ERROR, message: "Internal error" };
			connection.send(stringifyJson({ jsonrpc: "2.0", error: body, id }));
		}
	}

	private dispatch(
		connection: WebSocketConnection,
		subscriptions: Map<number, Subscription>,
		method: string,
		params: unknown,
	): unknown {
		if (method.endsWith("Unsubscribe")) {
			const id = positional(params, 1)[0];
			return typeof id === "number" && subscriptions.delete(id);
		}
		const chain = this.chain();
		let sub: Subscription;
		if (method === "signatureSubscribe") {
			const args = positional(params, 1);
			sub = {
				kind: "signature",
				signature: signatureParam(args[0]),
				commitment: commitmentOf(configParam(args[1])),
			};
		} else if (method === "slotSubscribe") {
			sub = { kind: "slot", last: chain.slot };
		} else if (method === "rootSubscribe") {
			sub = { kind: "root", last: chain.clock.slotFor("finalized") };
		} else if (method === "accountSubscribe") {
			const args = positional(params, 1);
			const config = configParam(args[1]);
			const address = pubkeyParam(args[0]);
			const commitment = commitmentOf(config);
			const encoding = accountEncodingOf(config, "base64");
			sub = { kind: "account", address, commitment, encoding, last: "" };
			sub.last = this.accountValue(chain, sub).json;
		} else {
			throw new JsonRpcError(RPC_METHOD_NOT_FOUND, "Method not found");
		}
		const id = this.nextId++;
		subscriptions.set(id, sub);
		this.onSubscribe(method, id);
		// A signature may already be there: answer first, then notify at once.
		queueMicrotask(() => this.check(connection, subscriptions, id, sub));
		return id;
	}

	private accountValue(
		chain: SolanaChain,
		sub: Extract<Subscription, { kind: "account" }>,
	): { value: unknown; json: string } {
		const account = chain.account(sub.address, sub.commitment) ?? {
			address: sub.address,
			lamports: 0n,
			data: new Uint8Array(),
			owner: "11111111111111111111111111111111",
			executable: false,
		};
		const value = encodeAccount(chain, account, sub.encoding);
		return { value, json: stringifyJson(value) };
	}

	private evaluate(
		connection: WebSocketConnection,
		subscriptions: Map<number, Subscription>,
		id: number,
		sub: Subscription,
	): void {
		if (!subscriptions.has(id)) return;
		const chain = this.chain();
		const notify = (result: unknown) =>
			connection.send(
				stringifyJson({
					jsonrpc: "2.0",
					method: NOTIFICATION[sub.kind],
					params: { result, subscription: id },
				}),
			);
		if (sub.kind === "signature") {
			const record = chain.ledger.get(sub.signature);
			if (!record || !chain.clock.reached(record.slot, sub.commitment)) return;
			subscriptions.delete(id);
			notify(withContext(chain.clock.slotFor(sub.commitment), { err: record.err }));
		} else if (sub.kind === "slot") {
			// After a reset the tip goes back; start over from there.
			if (chain.slot < sub.last) sub.last = chain.slot;
			for (let slot = sub.last + 1; slot <= chain.slot; slot++) {
				const root = Math.max(0, slot - chain.options.finalizedLag);
				notify({ parent: Math.max(0, slot - 1), root, slot });
			}
			sub.last = chain.slot;
		} else if (sub.kind === "root") {
			const root = chain.clock.slotFor("finalized");
			if (root < sub.last) sub.last = root;
			for (let slot = sub.last + 1; slot <= root; slot++) notify(slot);
			sub.last = root;
		} else {
			const { value, json } = this.accountValue(chain, sub);
			if (json === sub.last) return;
			sub.last = json;
			notify(withContext(chain.clock.slotFor(sub.commitment), value));
		}
	}
}
