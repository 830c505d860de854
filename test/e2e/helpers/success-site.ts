import { createServer, type Server } from "node:http";

// The merchant's "thank you" page that success_url points at: a tiny loopback server.

export interface SuccessSite {
	/** `http://127.0.0.1:<port>` */
	url: string;
	close(): Promise<void>;
}

export async function startSuccessSite(): Promise<SuccessSite> {
	const server: Server = createServer((req, res) => {
		res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
		res.end(
			`<!doctype html><html lang="en"><head><title>Thank you</title></head><body><h1 id="thanks">Thank you for your order</h1><p>${req.url?.replace(/[<>&"]/g, "") ?? ""}</p></body></html>`,
		);
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", resolve);
	});
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
