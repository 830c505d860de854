import { runPay } from "./lib/pay-cli.js";

// `npm run pay -- <checkout URL | payment id | solana: URL> [--token …] [--fraction …] [--after-expiry]`

process.exitCode = await runPay(process.argv.slice(2), {
	env: process.env,
	stdout: (text) => process.stdout.write(text),
	stderr: (text) => process.stderr.write(text),
});
