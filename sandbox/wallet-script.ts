import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// The Sandbox Wallet's browser script: the e2e suite's Wallet Standard wallet
// (test/e2e/wallet/wallet.ts, the same code the browser tests pay with), registered under its
// own name with a bridge that reaches the sandbox over loopback HTTP instead of a test's
// page.exposeFunction. Built once per process with the address and endpoint baked in.

const WALLET_DIR = fileURLToPath(new URL("../test/e2e/wallet/", import.meta.url));

export interface WalletScriptConfig {
	/** POST target of every wallet request (the control server's /wallet/request). */
	endpoint: string;
	name: string;
	address: string;
	/** The 32 public key bytes, base64. */
	publicKey: string;
}

const BANNER =
	"/* StreamPayments sandbox: the Sandbox Wallet, signing with a funded key on the local chain only. Test mode only. */";

let cached: { key: string; code: Promise<string> } | undefined;

async function bundle(config: WalletScriptConfig): Promise<string> {
	const walletConfig = { address: config.address, publicKey: config.publicKey, name: config.name };
	const entry = `
import { registerTestWallet } from "./wallet";
const endpoint = ${JSON.stringify(config.endpoint)};
registerTestWallet(${JSON.stringify(walletConfig)}, async (request) => {
	try {
		const response = await fetch(endpoint, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(request),
		});
		const body = await response.json();
		if (!response.ok) return { ok: false, code: -32603, message: body?.error?.message ?? "HTTP " + response.status };
		return body;
	} catch (error) {
		return { ok: false, code: -32603, message: "The sandbox is not reachable: " + String(error) };
	}
});
`;
	const result = await build({
		stdin: {
			contents: entry,
			resolveDir: WALLET_DIR,
			loader: "ts",
			sourcefile: "sandbox-wallet.ts",
		},
		bundle: true,
		format: "iife",
		target: ["es2020"],
		platform: "browser",
		write: false,
		minify: false,
		legalComments: "none",
		logLevel: "silent",
		banner: { js: BANNER },
	});
	const code = result.outputFiles[0]?.text;
	if (!code) throw new Error("esbuild produced nothing for the sandbox wallet");
	return code;
}

/** The script for `config` (rebuilt only when the config changes; a failed build is retried). */
export function walletScript(config: WalletScriptConfig): Promise<string> {
	const key = JSON.stringify(config);
	if (cached?.key !== key) {
		const code = bundle(config);
		cached = { key, code };
		code.catch(() => {
			if (cached?.code === code) cached = undefined;
		});
	}
	return cached.code;
}
