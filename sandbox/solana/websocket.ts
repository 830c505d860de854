import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

// Just enough RFC 6455 for JSON-RPC subscriptions: the handshake, masked client text frames
// (with fragmentation), ping/pong and close. No extensions are negotiated, so clients that
// offer permessage-deflate fall back to plain frames.

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface WebSocketConnection {
	send(text: string): void;
	close(code?: number): void;
	readonly closed: boolean;
}

export interface WebSocketHandlers {
	onMessage(text: string): void;
	onClose(): void;
}

function frame(opcode: number, payload: Buffer): Buffer {
	const length = payload.length;
	let header: Buffer;
	if (length < 126) {
		header = Buffer.from([0x80 | opcode, length]);
	} else if (length < 65_536) {
		header = Buffer.alloc(4);
		header[0] = 0x80 | opcode;
		header[1] = 126;
		header.writeUInt16BE(length, 2);
	} else {
		header = Buffer.alloc(10);
		header[0] = 0x80 | opcode;
		header[1] = 127;
		header.writeBigUInt64BE(BigInt(length), 2);
	}
	return Buffer.concat([header, payload]);
}

/** Completes the handshake, or answers 400 and returns undefined for a non-WebSocket request. */
export function acceptWebSocket(
	req: IncomingMessage,
	socket: Duplex,
	head: Buffer,
	handlers: WebSocketHandlers,
): WebSocketConnection | undefined {
	const key = req.headers["sec-websocket-key"];
	if (req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string") {
		socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
		return undefined;
	}
	const accept = createHash("sha1")
		.update(key + GUID)
		.digest("base64");
	socket.write(
		`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
	);

	let closed = false;
	let buffer: Buffer = head;
	let fragments: Buffer[] = [];
	const connection: WebSocketConnection = {
		send(text) {
			if (!closed) socket.write(frame(0x1, Buffer.from(text, "utf8")));
		},
		close(code = 1000) {
			if (closed) return;
			closed = true;
			const payload = Buffer.alloc(2);
			payload.writeUInt16BE(code);
			socket.end(frame(0x8, payload));
			handlers.onClose();
		},
		get closed() {
			return closed;
		},
	};

	const consume = () => {
		while (!closed && buffer.length >= 2) {
			const b0 = buffer[0] ?? 0;
			const b1 = buffer[1] ?? 0;
			let length = b1 & 0x7f;
			let offset = 2;
			if (length === 126) {
				if (buffer.length < 4) return;
				length = buffer.readUInt16BE(2);
				offset = 4;
			} else if (length === 127) {
				if (buffer.length < 10) return;
				const big = buffer.readBigUInt64BE(2);
				if (big > BigInt(MAX_MESSAGE_BYTES)) return connection.close(1009);
				length = Number(big);
				offset = 10;
			}
			// Clients must mask; an unmasked frame is a protocol error.
			if ((b1 & 0x80) === 0) return connection.close(1002);
			if (buffer.length < offset + 4 + length) return;
			const mask = buffer.subarray(offset, offset + 4);
			const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
			for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
			buffer = buffer.subarray(offset + 4 + length);
			const opcode = b0 & 0x0f;
			if (opcode === 0x8) return connection.close();
			if (opcode === 0x9) {
				socket.write(frame(0xa, payload));
				continue;
			}
			if (opcode !== 0x0 && opcode !== 0x1 && opcode !== 0x2) continue;
			fragments.push(payload);
			if (fragments.reduce((sum, f) => sum + f.length, 0) > MAX_MESSAGE_BYTES) {
				return connection.close(1009);
			}
			if (b0 & 0x80) {
				const text = Buffer.concat(fragments).toString("utf8");
				fragments = [];
				handlers.onMessage(text);
			}
		}
	};

	socket.on("data", (chunk: Buffer) => {
		buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
		consume();
	});
	const gone = () => {
		if (closed) return;
		closed = true;
		handlers.onClose();
	};
	socket.on("close", gone);
	socket.on("error", gone);
	consume();
	return connection;
}
