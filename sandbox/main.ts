import {
	readSandboxConfig,
	readSettlementWallets,
	readSolanaConfig,
	type SandboxConfig,
} from "./config.js";
import { errorMessage } from "./http.js";
import { startSandbox } from "./server.js";
import { topUp } from "./stripe/connect-transfers.js";

// Entry point for `npm run sandbox` (and the sandbox child of `npm run dev`).

const CLOSE_TIMEOUT_MS = 5_000;

async function main(): Promise<void> {
	let config: SandboxConfig;
	let settlementWallets: string[] | undefined;
	try {
		config = readSandboxConfig(process.env);
		settlementWallets = readSettlementWallets(process.env);
	} catch (error) {
		console.error(`sandbox: ${errorMessage(error)}`);
		process.exit(2);
	}

	const sandbox = await startSandbox({
		...config,
		solana: readSolanaConfig(process.env),
		settlementWallets,
		log: (line) => console.error(line),
	}).catch((error: unknown) => {
		console.error(`sandbox: ${errorMessage(error)}`);
		process.exit(1);
	});

	// Fiat payouts are Stripe Connect transfers from the platform's balance. A real platform funds
	// it (card payments, and converting the crypto it settles); the local one starts funded so a
	// merchant's dollar payouts work on `npm run dev`. SANDBOX_STRIPE_PLATFORM_FUNDS=0 starts empty.
	const funds = process.env.SANDBOX_STRIPE_PLATFORM_FUNDS ?? "100000000";
	if (!/^\d{1,11}$/.test(funds)) {
		console.error("sandbox: SANDBOX_STRIPE_PLATFORM_FUNDS must be whole cents (at most 11 digits)");
		process.exit(2);
	}
	if (funds !== "0" && !/^0+$/.test(funds)) topUp(sandbox.stripe, Number(funds), "usd");

	console.log(`Solana JSON-RPC   ${sandbox.urls.solana}`);
	console.log(`Stripe emulator   ${sandbox.urls.stripe}`);
	console.log(`Sandbox control   ${sandbox.urls.control}  (GET /health)`);

	let stopping = false;
	const stop = (signal: NodeJS.Signals) => {
		if (stopping) {
			// A second Ctrl-C means "now".
			process.exit(1);
		}
		stopping = true;
		console.log(`sandbox: ${signal} received, shutting down`);
		const timer = setTimeout(() => {
			console.error("sandbox: servers did not close in time, exiting anyway");
			process.exit(1);
		}, CLOSE_TIMEOUT_MS);
		timer.unref();
		sandbox.close().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(`sandbox: close failed: ${errorMessage(error)}`);
				process.exit(1);
			},
		);
	};
	process.on("SIGINT", stop);
	process.on("SIGTERM", stop);
}

void main();
