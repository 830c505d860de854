import { parseArgs } from "node:util";
import { formatBaseUnits } from "../../src/domain/money.js";
import { PayError, type PayToken, pay } from "./pay.js";

// `npm run pay -- <checkout URL | payment id | solana: URL> [--token sol|usdc|pyusd]
//   [--fraction 0.5|1|1.2] [--after-expiry]`

export const PAY_USAGE = `Usage: npm run pay -- <checkout URL | payment id | solana: URL> [options]

Pays a local test-mode payment with the sandbox's funded Sandbox Wallet.

  --token sol|usdc|pyusd   pay in this token (re-quotes the payment when it is quoted in another)
  --fraction <decimal>     send this share of the amount asked: 0.5 underpays, 1.2 overpays (default 1)
  --after-expiry           wait until the payment has expired, then pay its last quote (a late payment)
  --wait <seconds>         how long to follow the payment's status after sending (default 20)

Environment: GATEWAY_URL (default http://127.0.0.1:8787), SOLANA_RPC_URL (default
http://127.0.0.1:8899), SANDBOX_URL (default http://127.0.0.1:8890). Only loopback RPC and
sandbox addresses and test-mode payments are accepted.
`;

const TOKENS = new Set(["sol", "usdc", "pyusd"]);

export interface PayIo {
	env: NodeJS.ProcessEnv;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
}

export async function runPay(argv: string[], io: PayIo): Promise<number> {
	let values: Record<string, string | boolean | undefined>;
	let positionals: string[];
	try {
		({ values, positionals } = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				token: { type: "string" },
				fraction: { type: "string" },
				"after-expiry": { type: "boolean" },
				wait: { type: "string" },
				help: { type: "boolean", short: "h" },
			},
		}));
	} catch (error) {
		io.stderr(`${(error as Error).message}\n\n${PAY_USAGE}`);
		return 2;
	}
	if (values.help) {
		io.stdout(PAY_USAGE);
		return 0;
	}
	const [target, ...extra] = positionals;
	const token = typeof values.token === "string" ? values.token.toLowerCase() : undefined;
	const wait = typeof values.wait === "string" ? values.wait : "20";
	if (!target || extra.length > 0 || (token && !TOKENS.has(token)) || !/^\d{1,4}$/.test(wait)) {
		io.stderr(PAY_USAGE);
		return 2;
	}
	try {
		const result = await pay({
			target,
			...(token ? { token: token as PayToken } : {}),
			...(typeof values.fraction === "string" ? { fraction: values.fraction } : {}),
			afterExpiry: values["after-expiry"] === true,
			gatewayUrl: (io.env.GATEWAY_URL ?? "http://127.0.0.1:8787").replace(/\/$/, ""),
			rpcUrl: io.env.SOLANA_RPC_URL ?? "http://127.0.0.1:8899",
			sandboxUrl: (io.env.SANDBOX_URL ?? "http://127.0.0.1:8890").replace(/\/$/, ""),
			followMs: Number(wait) * 1000,
			log: (line) => io.stderr(`${line}\n`),
		});
		io.stdout(`signature ${result.signature}\n`);
		const after = result.after;
		if (after) {
			const s = after.solana;
			const received = s
				? ` (received ${formatBaseUnits(BigInt(s.amount_received), s.decimals)} of ${formatBaseUnits(BigInt(s.amount), s.decimals)} ${s.token})`
				: "";
			io.stdout(`payment ${after.id} ${after.status}${received}\n`);
		}
		return 0;
	} catch (error) {
		if (error instanceof PayError) {
			io.stderr(`pay: ${error.message}\n`);
			return 1;
		}
		throw error;
	}
}
