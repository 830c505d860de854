import { createServer } from "node:net";

// Small helpers shared by the sandbox and scripts suites.

export async function rpc(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: typeof body === "string" ? body : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
}

export function portOf(url: string): number {
	return Number(new URL(url).port);
}

/** Binds and releases a port: true if nothing else holds it. */
export function canBind(port: number, host = "127.0.0.1"): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen(port, host, () => server.close(() => resolve(true)));
	});
}

/** A port that was free a moment ago; good enough for tests that need a fixed number. */
export function freePort(host = "127.0.0.1"): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, host, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** Holds a port busy until the returned release function is called. */
export function occupyPort(
	host = "127.0.0.1",
): Promise<{ port: number; release(): Promise<void> }> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, host, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			resolve({ port, release: () => new Promise((done) => server.close(() => done())) });
		});
	});
}
